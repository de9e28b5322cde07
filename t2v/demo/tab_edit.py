"""Edit: a video, its source prompt and a target prompt (and optionally a picture of the new subject) →
the edited video and the mask of where the edit acted, beside the source (``EditAnimateDiffPipeline``)."""

from __future__ import annotations

import gradio as gr
import numpy as np

from .context import DemoContext
from .inputs import integer, number, session, text
from .runs import page_errors, save_clip
from .uploads import fit_frames, read_image_upload, read_video_upload
from .widgets import TRACK_TQDM, run_buttons, video_output, wire

SOURCE = "a big red ball moves right on a black background"
TARGET = "a big blue ball moves right on a black background"


def build(ctx: DemoContext, guidance: float, frame_limit: int) -> None:
    with gr.Tab("Edit", id="edit", elem_id="tab-edit"):
        with gr.Row():
            with gr.Column():
                video = gr.Video(label=f"Video to edit (.mp4 or .gif; the model takes {frame_limit} frames)",
                                 sources=["upload"], format=None)
                source = gr.Textbox(SOURCE, label="Source prompt (what the video shows)")
                target = gr.Textbox(TARGET, label="Target prompt (what it should show)",
                                    info="Change a word or two. With a reference picture on a model without an "
                                         "image encoder, name the new subject <ref>.")
                reference = gr.Image(label="Reference picture of the new subject (optional)", type="filepath",
                                     sources=["upload"])
            with gr.Column():
                model = gr.Dropdown(list(ctx.models.names), value=ctx.models.default, label="Model")
                with gr.Row():
                    steps = gr.Slider(1, 100, 25, step=1, label="Denoising steps")
                    guidance_box = gr.Slider(0.0, 20.0, guidance, step=0.5, label="Guidance scale")
                threshold = gr.Slider(0.0, 1.0, 0.3, step=0.05, label="Local blend threshold",
                                      info="Higher keeps more of the source; the mask shows what was free.")
                go, cancel = run_buttons("Edit")
                gr.Examples([[ctx.sample("red_ball_right"), SOURCE, TARGET],
                             [ctx.sample("blue_square_down"), "a big blue square moves down on a black background",
                              "a big blue ball moves down on a black background"]],
                            [video, source, target], label="Examples (click one, then Edit)")
        with gr.Row():
            shown_source = video_output("Source")
            edited = video_output("Edited")
            mask = video_output("Mask (white: where the edit acted)")
        info = gr.Markdown()
        files = gr.File(label="Downloads", file_count="multiple", interactive=False)

        @page_errors
        def edit_video(model_name: str, path: str | None, source_text: str, target_text: str,
                       reference_path: str | None, steps_value: float, guidance_value: float,
                       threshold_value: float, request: gr.Request,
                       progress: gr.Progress = TRACK_TQDM) -> tuple:
            from t2v.pipelines import pipeline_for

            prompts = (text(source_text, "Source prompt"), text(target_text, "Target prompt"))
            steps_ = integer(steps_value, "Denoising steps", 1, 100)
            guidance_ = number(guidance_value, "Guidance scale", 0.0, 20.0)
            threshold_ = number(threshold_value, "Local blend threshold", 0.0, 1.0)
            pipe = pipeline_for(ctx.models.get(model_name), "edit")
            frames = fit_frames(read_video_upload(path, "Video to edit", ctx.workspace, ctx.limits),
                                pipe.native_size)
            picture = None if not reference_path else read_image_upload(
                reference_path, "Reference picture", ctx.workspace, ctx.limits)
            with ctx.runs.run(session(request)) as stop_if_cancelled:
                out = pipe(frames, *prompts, num_inference_steps=steps_, guidance_scale=guidance_,
                           blend_threshold=threshold_, reference_image=picture,
                           cache_dir=ctx.workspace.root / "textual-inversion",
                           callback_on_step_end=stop_if_cancelled)
            folder, fps = ctx.workspace.new_run("edit"), pipe.default_fps
            source_view, _ = save_clip(frames, folder, "source", fps)
            edited_view, edited_native = save_clip(np.asarray(out.frames)[0], folder, "edited", fps)
            mask_view, mask_native = save_clip(np.asarray(out.mask)[..., None], folder, "mask", fps)
            words = f"{', '.join(out.source_words or [])} → {', '.join(out.target_words or [])}"
            summary = (f"Deterministic (DDIM inversion, no seed) · {out.token_mode}: {words} · "
                       f"inversion {out.inversion_seconds:.1f} s, edit {out.edit_seconds:.1f} s")
            return str(source_view), str(edited_view), str(mask_view), summary, [str(edited_native), str(mask_native)]

        wire(ctx, go, cancel, edit_video,
             [model, video, source, target, reference, steps, guidance_box, threshold],
             [shown_source, edited, mask, info, files])
