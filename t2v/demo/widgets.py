"""Controls that several tabs use, made one way: sampling settings, Run/Cancel buttons and their wiring."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import gradio as gr

from .context import DemoContext
from .inputs import MAX_GUIDANCE, MAX_SEED, MAX_STEPS, session

DEVICE_GROUP = "device"  # every event that runs a model: one at a time per device
# The default of each handler's ``progress`` argument: Gradio finds it there and reports the pipelines' tqdm
# bars (denoising steps, scenes) as the page's progress bar. Gradio ties each call to its own event.
TRACK_TQDM = gr.Progress(track_tqdm=True)


def sampling_controls(guidance: float, steps: int = 25) -> tuple[gr.Number, gr.Slider, gr.Slider]:
    with gr.Row():
        seed = gr.Number(0, label="Seed", precision=0, minimum=0, maximum=MAX_SEED)
        steps_box = gr.Slider(1, MAX_STEPS, steps, step=1, label="Denoising steps")
        guidance_box = gr.Slider(0.0, MAX_GUIDANCE, guidance, step=0.5, label="Guidance scale")
    return seed, steps_box, guidance_box


def run_buttons(label: str) -> tuple[gr.Button, gr.Button]:
    with gr.Row():
        go = gr.Button(label, variant="primary")
        cancel = gr.Button("Cancel", variant="stop")
    return go, cancel


def video_output(label: str) -> gr.Video:
    """A result clip: plays at once and loops, with a download button (format checks off: the files are
    already browser-playable H.264, so Gradio needs no ffmpeg or ffprobe of its own)."""
    return gr.Video(label=label, autoplay=True, loop=True, interactive=False, format=None, buttons=["download"])


def wire(ctx: DemoContext, go: gr.Button, cancel: gr.Button, fn: Callable, inputs: Sequence[Any],
         outputs: Sequence[Any], group: str = DEVICE_GROUP) -> Any:
    """``go`` runs ``fn`` in ``group`` (one at a time); ``cancel`` drops it from the queue, or stops it at the
    next denoising step when it is running."""
    event = go.click(fn, list(inputs), list(outputs), concurrency_limit=1, concurrency_id=group,
                     api_name=fn.__name__)

    def stop(request: gr.Request) -> None:
        ctx.runs.cancel(session(request))

    cancel.click(stop, None, None, cancels=[event], queue=False, api_name=False)
    return event
