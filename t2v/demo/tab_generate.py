"""Generate: a prompt becomes a clip (``t2v.generation.generate``), on a model picked from the server's list."""

from __future__ import annotations

import gradio as gr

from .context import DemoContext
from .inputs import sampling, session, text
from .runs import page_errors, save_clip
from .widgets import TRACK_TQDM, run_buttons, sampling_controls, video_output, wire

EXAMPLES = [
    ["a big red ball moves right on a black background", 0],
    ["a small yellow triangle bouncing on a white background", 3],
    ["a big green square grows on a gray background", 7],
]


def build(ctx: DemoContext, guidance: float) -> None:
    with gr.Tab("Generate", id="generate", elem_id="tab-generate"):
        with gr.Row():
            with gr.Column():
                prompt = gr.Textbox(EXAMPLES[0][0], label="Prompt", lines=2)
                model = gr.Dropdown(list(ctx.models.names), value=ctx.models.default, label="Model")
                seed, steps, guidance_box = sampling_controls(guidance)
                go, cancel = run_buttons("Generate")
                gr.Examples(EXAMPLES, [prompt, seed], label="Examples (click one, then Generate)")
            with gr.Column():
                video = video_output("Video")
                info = gr.Markdown()
                files = gr.File(label="Downloads", file_count="multiple", interactive=False)

        @page_errors
        def generate_video(model_name: str, prompt_text: str, seed_value: float, steps_value: float,
                           guidance_value: float, request: gr.Request,
                           progress: gr.Progress = TRACK_TQDM) -> tuple[str, str, list[str]]:
            from t2v.generation import generate

            seed_, steps_, guidance_ = sampling(seed_value, steps_value, guidance_value)
            prompt_ = text(prompt_text, "Prompt")
            with ctx.runs.run(session(request)) as stop_if_cancelled:
                frames, fps = generate(ctx.models.get(model_name), prompt_, seed=seed_, num_inference_steps=steps_,
                                       guidance_scale=guidance_, callback_on_step_end=stop_if_cancelled)
            view, native = save_clip(frames, ctx.workspace.new_run("generate"), "video", fps)
            summary = f"**Seed {seed_}** · {len(frames)} frames at {fps} fps ({len(frames) / fps:.1f} s) · {model_name}"
            return str(view), summary, [str(native)]

        wire(ctx, go, cancel, generate_video, [model, prompt, seed, steps, guidance_box], [video, info, files])
