"""Story: story text → the script as editable tables → per-scene clips with self-check scores, and the joined
video (``plan_story`` and the multi-scene pipeline). One scene regenerates alone from the table,
continuing from the boundary file of the full run, as ``scenes=[k]`` does in Python."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np

from .context import DemoContext
from .inputs import integer, sampling, session, text
from .runs import as_uint8, page_errors, save_clip
from .story_tables import (
    ENTITY_COLUMNS,
    SCENE_COLUMNS,
    SCENE_READ_ONLY,
    SCENE_TYPES,
    script_from_rows,
    script_rows,
)
from .widgets import TRACK_TQDM, run_buttons, sampling_controls, video_output, wire

EXAMPLES = [
    ["A big red ball moves right on a black background. Then it bounces.", 0],
    ["A small blue square moves left on a white background. Then a big yellow triangle moves up.", 1],
    ["A big green ball moves up on a gray background. Then it shrinks. Finally it moves left.", 2],
]
BOUNDARY = "script.boundary.safetensors"
CLIPS = "clips.npz"  # the scenes' frames as generated, for joining after one scene is regenerated
THRESHOLD = 0.75
MAX_TRIES = 3


def _clip_name(index: int) -> str:
    return f"scene_{index + 1:02d}"


def _summary(script, frames: int, fps: float) -> str:
    seeds = ", ".join(f"scene {i + 1}: seed {s.seed}" + ("" if s.score is None else f", score {s.score:.2f}")
                      for i, s in enumerate(script.scenes))
    return f"**{len(script.scenes)} scenes, {frames} frames at {fps:g} fps ({frames / fps:.1f} s).** {seeds}"


def build(ctx: DemoContext, guidance: float) -> None:
    with gr.Tab("Story", id="story", elem_id="tab-story"):
        state = gr.State({})  # server side: the script as planned or generated, and the last run's folder
        with gr.Row():
            with gr.Column():
                story = gr.Textbox(EXAMPLES[0][0], label="Story", lines=3)
                model = gr.Dropdown(list(ctx.models.names), value=ctx.models.default, label="Model")
                seed, steps, guidance_box = sampling_controls(guidance)
                check = gr.Checkbox(False, label=f"Self-check: regenerate a scene scoring under {THRESHOLD} "
                                                 f"(up to {MAX_TRIES} tries, the best kept)")
                with gr.Row():
                    plan = gr.Button("Plan script")
                go, cancel = run_buttons("Generate story")
                gr.Examples(EXAMPLES, [story, seed], label="Examples (click one, then Generate story)")
            with gr.Column():
                video = video_output("Story video")
                info = gr.Markdown()
                clips = gr.Gallery(label="Scenes", columns=4, height="auto", object_fit="contain")
                files = gr.File(label="Downloads", file_count="multiple", interactive=False)
        gr.Markdown("**Script** — edit any cell (prompt, entities, background, camera, frames, seed); empty a "
                    "prompt to drop the scene. Generate uses the tables as they are, or plans the story when "
                    "they are empty. A scene's seed cell wins over the story seed; changing the story seed "
                    "clears them.")
        scenes = gr.Dataframe(headers=SCENE_COLUMNS, datatype=SCENE_TYPES, type="array", interactive=True,
                              static_columns=SCENE_READ_ONLY, label="Scenes", wrap=True,
                              elem_id="story-scenes")
        entities = gr.Dataframe(headers=ENTITY_COLUMNS, datatype="str", type="array", interactive=True,
                                label="Entities", wrap=True)
        with gr.Row():
            scene_no = gr.Number(1, label="Scene to regenerate", precision=0, minimum=1)
            again, cancel_again = run_buttons("Regenerate this scene")

        def planned(current: dict) -> Any:
            from t2v.story import Script

            return Script.from_json(current["script"]) if current.get("script") else None

        def current_script(story_text: str, seed_: int, scene_rows: list, entity_rows: list, current: dict):
            from t2v.story import plan_story

            story_ = text(story_text, "Story")
            if not any(row and str(row[1] or "").strip() for row in scene_rows or []):
                return plan_story(story_, seed=seed_)
            return script_from_rows(scene_rows, entity_rows, story=story_, seed=seed_, planned=planned(current))

        @page_errors
        def plan_script(story_text: str, seed_value: float) -> tuple[list, list, dict]:
            from t2v.story import plan_story

            script = plan_story(text(story_text, "Story"), seed=integer(seed_value, "Seed", 0, 2**31 - 1))
            scene_rows, entity_rows = script_rows(script)
            return scene_rows, entity_rows, {"script": script.to_json()}

        def render(script, chosen: list[int] | None, boundary: Path, model_name: str, steps_: int,
                   guidance_: float, check_: bool, request: gr.Request):
            from t2v.pipelines import pipeline_for

            with ctx.runs.run(session(request)) as stop_if_cancelled:
                pipe = pipeline_for(ctx.models.get(model_name), "story")
                result = pipe(script, num_inference_steps=steps_, guidance_scale=guidance_, judge=ctx.judge(),
                              check=bool(check_), max_tries=MAX_TRIES, threshold=THRESHOLD, scenes=chosen,
                              boundary_path=boundary, callback_on_step_end=stop_if_cancelled, output_type="np")
            return result, pipe.default_fps

        def outputs(script, clip_frames: list[np.ndarray], folder: Path, fps: float) -> tuple:
            gallery = []
            for i, frames in enumerate(clip_frames):
                view, _ = save_clip(frames, folder, _clip_name(i), fps)
                gallery.append((str(view), f"scene {i + 1} · seed {script.scenes[i].seed}"
                                + ("" if script.scenes[i].score is None else f" · score {script.scenes[i].score:.2f}")))
            np.savez_compressed(folder / CLIPS, **{_clip_name(i): f for i, f in enumerate(clip_frames)})  # exact
            joined = np.concatenate(clip_frames)
            view, native = save_clip(joined, folder, "story", fps)
            script_file = script.save(folder / "script.json")
            scene_rows, entity_rows = script_rows(script)
            new_state = {"script": script.to_json(), "run": str(folder)}
            return (str(view), _summary(script, len(joined), fps), gallery, [str(native), str(script_file)],
                    scene_rows, entity_rows, new_state)

        @page_errors
        def generate_story(model_name: str, story_text: str, seed_value: float, steps_value: float,
                           guidance_value: float, check_: bool, scene_rows: list, entity_rows: list, current: dict,
                           request: gr.Request, progress: gr.Progress = TRACK_TQDM) -> tuple:
            seed_, steps_, guidance_ = sampling(seed_value, steps_value, guidance_value)
            script = current_script(story_text, seed_, scene_rows, entity_rows, current)
            folder = ctx.workspace.new_run("story")
            result, fps = render(script, None, folder / BOUNDARY, model_name, steps_, guidance_, check_, request)
            return outputs(result.script, [as_uint8(c) for c in result.clips], folder, fps)

        @page_errors
        def regenerate_scene(model_name: str, story_text: str, seed_value: float, steps_value: float,
                             guidance_value: float, check_: bool, scene_value: float, scene_rows: list,
                             entity_rows: list, current: dict, request: gr.Request,
                             progress: gr.Progress = TRACK_TQDM) -> tuple:
            if not current.get("run"):
                raise ValueError("generate the whole story first; a scene continues from that run")
            seed_, steps_, guidance_ = sampling(seed_value, steps_value, guidance_value)
            script = current_script(story_text, seed_, scene_rows, entity_rows, current)
            before, last = planned(current), Path(current["run"])
            if len(script.scenes) != len(before.scenes):
                raise ValueError("scenes were added or dropped since the last run: generate the whole story again")
            index = integer(scene_value, "Scene to regenerate", 1, len(script.scenes)) - 1
            for i, scene in enumerate(script.scenes):  # the other scenes keep their results
                if i != index:
                    scene.score, scene.tries = before.scenes[i].score, before.scenes[i].tries
            folder = ctx.workspace.new_run("story")
            shutil.copy(last / BOUNDARY, folder / BOUNDARY)
            result, fps = render(script, [index], folder / BOUNDARY, model_name, steps_, guidance_, check_, request)
            with np.load(last / CLIPS) as kept:
                clip_frames = [as_uint8(result.clips[0]) if i == index else kept[_clip_name(i)]
                               for i in range(len(script.scenes))]
            return outputs(result.script, clip_frames, folder, fps)

        def forget(_: str) -> tuple[list, list, dict]:
            return [], [], {}

        def clear_seeds(scene_rows: list) -> list:
            """A new story seed: the scenes' seeds derive from it again."""
            column = SCENE_COLUMNS.index("seed")
            return [[*row[:column], "", *row[column + 1:]] for row in scene_rows or []]

        plan.click(plan_script, [story, seed], [scenes, entities, state], api_name="plan_script")
        story.change(forget, [story], [scenes, entities, state], queue=False, api_name=False)
        seed.input(clear_seeds, [scenes], [scenes], queue=False, api_name=False)
        shown = [video, info, clips, files, scenes, entities, state]
        common = [model, story, seed, steps, guidance_box, check]
        wire(ctx, go, cancel, generate_story, [*common, scenes, entities, state], shown)
        wire(ctx, again, cancel_again, regenerate_scene, [*common, scene_no, scenes, entities, state], shown)
