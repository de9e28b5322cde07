"""Transition / Animate / Extend: a generated bridge between two clips or images, an image brought to life,
a clip carried on past its end (the transition pipeline in its three modes). Uploads are fitted to
the model's frame size first; the result is shown in context (A, bridge, B; or the clip and what follows)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np

from .context import DemoContext
from .inputs import integer, sampling, session, text
from .runs import as_uint8, page_errors, save_clip
from .uploads import IMAGE_TYPES, VIDEO_TYPES, fit_frames, read_image_upload, read_video_upload
from .widgets import TRACK_TQDM, run_buttons, sampling_controls, video_output, wire

MAX_NEW_FRAMES = 64


def build(ctx: DemoContext, guidance: float, frame_limit: int) -> None:
    def clip_or_image(path: str | None, name: str, side: int | tuple[int, int]) -> np.ndarray:
        if path and Path(path).suffix.lower() in IMAGE_TYPES:
            frames = read_image_upload(path, name, ctx.workspace, ctx.limits)[None]
        else:
            frames = read_video_upload(path, name, ctx.workspace, ctx.limits)
        return fit_frames(frames, side)

    def run(model_name: str, seed_value: float, steps_value: float, guidance_value: float, request: gr.Request,
            make_inputs, mode: str, **kwargs: Any) -> tuple[np.ndarray, dict[str, np.ndarray], int]:
        """Run one mode; ``make_inputs(size)`` reads the uploads at the model's frame size (after the cheap checks)."""
        import torch

        from t2v.pipelines import pipeline_for

        seed_, steps_, guidance_ = sampling(seed_value, steps_value, guidance_value)
        pipe = pipeline_for(ctx.models.get(model_name), "transition")
        given = make_inputs(pipe.native_frame_size)  # a bad upload is refused before waiting for the device
        with ctx.runs.run(session(request)) as stop_if_cancelled:
            out = pipe(mode, **kwargs, **given, num_inference_steps=steps_, guidance_scale=guidance_,
                       generator=torch.Generator().manual_seed(seed_), callback_on_step_end=stop_if_cancelled)
        return as_uint8(out.frames), given, pipe.default_fps

    def finish(kind: str, shown: np.ndarray, new: np.ndarray, fps: int, seed_value: float) -> tuple:
        folder = ctx.workspace.new_run(kind)
        view, native = save_clip(shown, folder, kind, fps)
        _, new_native = save_clip(new, folder, f"{kind}_new_frames", fps)
        summary = (f"**Seed {int(seed_value)}** · {len(new)} new frames; shown: {len(shown)} frames at {fps} fps "
                   f"({len(shown) / fps:.1f} s)")
        return str(view), summary, [str(native), str(new_native)]

    with gr.Tab("Transition / Animate / Extend", id="transition", elem_id="tab-transition"):
        with gr.Tab("Transition", id="transition-bridge", elem_id="tab-transition-bridge"):
            with gr.Row():
                with gr.Column():
                    with gr.Row():
                        file_a = gr.File(label="Clip or image A", file_types=[*VIDEO_TYPES, *IMAGE_TYPES])
                        file_b = gr.File(label="Clip or image B", file_types=[*VIDEO_TYPES, *IMAGE_TYPES])
                    prompt_a = gr.Textbox("a big red ball moves right on a black background", label="Prompt A")
                    prompt_b = gr.Textbox("a big blue square moves down on a black background", label="Prompt B")
                    prompt_t = gr.Textbox("", label="Transition prompt (optional)",
                                          info="What the middle of the bridge shows.")
                    mixed = gr.Checkbox(True, label="Mix over the dissolve",
                                        info="Fade what the model draws in and out over a dissolve from A to B: "
                                             "smooth, but the transition prompt shows faintly. Off: the model's "
                                             "frames as decoded.")
                    bridge = gr.Slider(1, max(1, frame_limit - 2), max(1, frame_limit - 2), step=1,
                                       label="Bridge frames")
                    model_t = gr.Dropdown(list(ctx.models.names), value=ctx.models.default, label="Model")
                    seed_t, steps_t, guidance_t = sampling_controls(guidance)
                    go_t, cancel_t = run_buttons("Make transition")
                    gr.Examples([[ctx.sample("red_ball_right"), ctx.sample("blue_square_down")],
                                 [ctx.sample("red_ball_right_image"), ctx.sample("blue_square_down_image")]],
                                [file_a, file_b], label="Examples (click one, then Make transition)")
                with gr.Column():
                    video_t = video_output("A, bridge, B")
                    info_t = gr.Markdown()
                    files_t = gr.File(label="Downloads", file_count="multiple", interactive=False)

        @page_errors
        def make_transition(model_name: str, a: str | None, b: str | None, text_a: str, text_b: str,
                            text_t: str, mix: bool, frames_value: float, seed_value: float, steps_value: float,
                            guidance_value: float, request: gr.Request,
                            progress: gr.Progress = TRACK_TQDM) -> tuple:
            texts = {"prompt_a": text(text_a, "Prompt A"), "prompt_b": text(text_b, "Prompt B"),
                     "prompt": text(text_t, "Transition prompt") if isinstance(text_t, str) and text_t.strip()
                     else None}
            count = integer(frames_value, "Bridge frames", 1, MAX_NEW_FRAMES)
            new, given, fps = run(model_name, seed_value, steps_value, guidance_value, request,
                                  lambda side: {"clip_a": clip_or_image(a, "Clip or image A", side),
                                                "clip_b": clip_or_image(b, "Clip or image B", side)},
                                  "transition", num_frames=count, generated_share="default" if mix else None,
                                  **texts)
            shown = np.concatenate([given["clip_a"], new, given["clip_b"]])
            return finish("transition", shown, new, fps, seed_value)

        wire(ctx, go_t, cancel_t, make_transition,
             [model_t, file_a, file_b, prompt_a, prompt_b, prompt_t, mixed, bridge, seed_t, steps_t, guidance_t],
             [video_t, info_t, files_t])

        with gr.Tab("Animate", id="transition-animate", elem_id="tab-transition-animate"):
            with gr.Row():
                with gr.Column():
                    image = gr.Image(label="Image", type="filepath", sources=["upload"])
                    prompt_i = gr.Textbox("a big red ball moves right on a black background", label="Prompt",
                                          info="Describe the image, then what happens.")
                    frames_i = gr.Slider(2, frame_limit, frame_limit, step=1, label="Frames")
                    model_i = gr.Dropdown(list(ctx.models.names), value=ctx.models.default, label="Model")
                    seed_i, steps_i, guidance_i = sampling_controls(guidance)
                    go_i, cancel_i = run_buttons("Animate")
                    gr.Examples([[ctx.sample("red_ball_right_image"), prompt_i.value]], [image, prompt_i],
                                label="Examples (click one, then Animate)")
                with gr.Column():
                    video_i = video_output("Video (frame 0 is the image)")
                    info_i = gr.Markdown()
                    files_i = gr.File(label="Downloads", file_count="multiple", interactive=False)

        @page_errors
        def animate_image(model_name: str, path: str | None, prompt_text: str, frames_value: float,
                          seed_value: float, steps_value: float, guidance_value: float, request: gr.Request,
                          progress: gr.Progress = TRACK_TQDM) -> tuple:
            prompt = text(prompt_text, "Prompt")
            count = integer(frames_value, "Frames", 2, frame_limit)
            video, _, fps = run(model_name, seed_value, steps_value, guidance_value, request,
                                lambda side: {"image": fit_frames(read_image_upload(
                                    path, "Image", ctx.workspace, ctx.limits)[None], side)[0]},
                                "image_to_video", prompt=prompt, num_frames=count)
            return finish("animate", video, video, fps, seed_value)

        wire(ctx, go_i, cancel_i, animate_image,
             [model_i, image, prompt_i, frames_i, seed_i, steps_i, guidance_i], [video_i, info_i, files_i])

        with gr.Tab("Extend", id="transition-extend", elem_id="tab-transition-extend"):
            with gr.Row():
                with gr.Column():
                    clip = gr.Video(label="Clip", sources=["upload"], format=None)
                    prompt_e = gr.Textbox("a big red ball moves right on a black background", label="Prompt")
                    frames_e = gr.Slider(1, MAX_NEW_FRAMES, frame_limit, step=1, label="New frames")
                    model_e = gr.Dropdown(list(ctx.models.names), value=ctx.models.default, label="Model")
                    seed_e, steps_e, guidance_e = sampling_controls(guidance)
                    go_e, cancel_e = run_buttons("Extend")
                    gr.Examples([[ctx.sample("red_ball_right"), prompt_e.value]], [clip, prompt_e],
                                label="Examples (click one, then Extend)")
                with gr.Column():
                    video_e = video_output("Clip and its continuation")
                    info_e = gr.Markdown()
                    files_e = gr.File(label="Downloads", file_count="multiple", interactive=False)

        @page_errors
        def extend_clip(model_name: str, path: str | None, prompt_text: str, frames_value: float,
                        seed_value: float, steps_value: float, guidance_value: float, request: gr.Request,
                        progress: gr.Progress = TRACK_TQDM) -> tuple:
            prompt = text(prompt_text, "Prompt")
            count = integer(frames_value, "New frames", 1, MAX_NEW_FRAMES)
            new, given, fps = run(model_name, seed_value, steps_value, guidance_value, request,
                                  lambda side: {"clip": fit_frames(read_video_upload(
                                      path, "Clip", ctx.workspace, ctx.limits), side)},
                                  "continue", prompt=prompt, num_frames=count)
            return finish("extend", np.concatenate([given["clip"], new]), new, fps, seed_value)

        wire(ctx, go_e, cancel_e, extend_clip,
             [model_e, clip, prompt_e, frames_e, seed_e, steps_e, guidance_e], [video_e, info_e, files_e])
