"""The web demo's parts that need no browser: upload checks, the story tables, the workspace, cancelling, errors
as page messages, the Fine-tune tab's handlers on a tiny model, and ``t2v demo``'s options. The page itself is
tested in test_demo_browser.py."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

from t2v.demo.inputs import integer, sampling
from t2v.demo.runs import RunCancelled, Runs
from t2v.demo.story_tables import script_from_rows, script_rows
from t2v.demo.uploads import UploadLimits, fit_frames, read_image_upload, read_video_upload
from t2v.demo.workspace import Workspace
from t2v.story import plan_story
from t2v.video import read_video, write_video

LIMITS = UploadLimits(max_seconds=2.0, max_side=128)


@pytest.fixture
def workspace(tmp_path):
    space = Workspace(tmp_path)
    yield space
    space.close()


def upload(workspace: Workspace, name: str, data: bytes | None = None, frames: np.ndarray | None = None,
           fps: float = 8) -> str:
    """A file where Gradio puts uploads (its cache folder, inside the workspace)."""
    path = workspace.gradio / "abc123" / name
    path.parent.mkdir(exist_ok=True)
    if frames is not None:
        write_video(frames, path, fps=fps)
    else:
        path.write_bytes(data or b"")
    return str(path)


def clip(frames: int = 8, side: int = 32) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (frames, side, side, 3), dtype=np.uint8)


def test_a_good_clip_is_read(workspace):
    frames = read_video_upload(upload(workspace, "ok.mp4", frames=clip()), "Video", workspace, LIMITS)
    assert frames.shape == (8, 32, 32, 3) and frames.dtype == np.uint8


@pytest.mark.parametrize(("name", "make", "message"), [
    ("notes.txt", lambda: {"data": b"hello"}, "not a supported file"),
    ("fake.mp4", lambda: {"data": b"this is text"}, "could not be read as a video"),
    ("long.mp4", lambda: {"frames": clip(frames=24)}, "runs 3.0 s; at most 2 s"),
    ("big.mp4", lambda: {"frames": clip(side=160)}, "160x160 pixels"),
    ("fake.gif", lambda: {"data": b"GIF89a broken"}, "could not be read as a video"),
])
def test_bad_uploads_get_one_clear_sentence(workspace, name, make, message):
    with pytest.raises(ValueError, match=message) as caught:
        read_video_upload(upload(workspace, name, **make()), "Video", workspace, LIMITS)
    assert str(caught.value).startswith("Video: ")


def test_paths_that_were_not_uploaded_are_refused(workspace, tmp_path):
    outside = tmp_path / "secret.mp4"
    write_video(clip(), outside)
    with pytest.raises(ValueError, match="only files uploaded to this app"):
        read_video_upload(str(outside), "Video", workspace, LIMITS)
    link = workspace.gradio / "link.mp4"  # a link inside the upload folder to a file outside it
    os.symlink(outside, link)
    with pytest.raises(ValueError, match="only files uploaded to this app"):
        read_video_upload(str(link), "Video", workspace, LIMITS)
    with pytest.raises(ValueError, match="upload a file first"):
        read_video_upload(None, "Video", workspace, LIMITS)


def test_images_are_checked_and_fitted_to_the_model(workspace):
    from PIL import Image

    path = workspace.gradio / "wide.png"
    Image.fromarray(np.zeros((40, 80, 3), dtype=np.uint8)).save(path)
    image = read_image_upload(str(path), "Image", workspace, LIMITS)
    assert fit_frames(image[None], 32).shape == (1, 32, 32, 3)
    with pytest.raises(ValueError, match="could not be decoded as an image"):
        read_image_upload(upload(workspace, "broken.png", b"not a png"), "Image", workspace, LIMITS)


def test_story_tables_round_trip_and_edits():
    script = plan_story("A big red ball moves right on a black background. Then it bounces.", seed=3)
    scenes, entities = script_rows(script)
    again = script_from_rows(scenes, entities, story=script.story, seed=3, planned=script)
    assert again.to_dict()["scenes"] == script.to_dict()["scenes"]
    assert again.entities == script.entities

    scenes[1][6] = "12345"  # seed cell
    scenes[0][5] = "6"  # frames cell
    edited = script_from_rows(scenes, entities, story=script.story, seed=3, planned=script)
    assert edited.scenes[1].seed == 12345 and edited.scenes[0].frames == 6

    scenes[0][1] = ""  # an emptied prompt drops the scene
    assert len(script_from_rows(scenes, entities, story=None, seed=3).scenes) == 1

    scenes[1][5] = "1.5"
    with pytest.raises(ValueError, match="scene 2 frames must be a whole number"):
        script_from_rows(scenes, entities, story=None, seed=3)
    scenes[1][5] = ""
    scenes[1][2] = "ghost"
    with pytest.raises(ValueError, match="not a declared entity"):
        script_from_rows(scenes, entities, story=None, seed=3)


def test_form_values_are_checked_on_the_server():
    assert sampling(3.0, 25, 4) == (3, 25, 4.0)
    for bad in (None, 1.5, -1, float("nan"), True):
        with pytest.raises(ValueError, match="Seed must be a whole number"):
            integer(bad, "Seed", 0, 10)
    with pytest.raises(ValueError, match="Steps"):
        sampling(0, 0, 4)


def test_cancel_stops_a_run_at_the_next_step():
    runs = Runs()
    with runs.run("session-a") as step:
        assert step(None, 0, 0, {"latents": 1}) == {"latents": 1}
        runs.cancel("session-b")  # another session's cancel does not touch this run
        step(None, 1, 0, {})
        runs.cancel("session-a")
        with pytest.raises(RunCancelled):
            step(None, 2, 0, {})
    with runs.run("session-a") as step:  # a new run starts uncancelled
        step(None, 0, 0, {})


def test_old_runs_are_cleaned_and_the_workspace_removed(tmp_path):
    space = Workspace(tmp_path)
    old, new = space.new_run("story"), space.new_run("story")
    past = time.time() - 7200
    os.utime(old, (past, past))
    assert space.clean(max_age_s=3600) == 1
    assert not old.exists() and new.exists()
    space.close()
    assert not space.root.exists()


def test_errors_become_page_messages():
    gr = pytest.importorskip("gradio")
    from t2v.demo.runs import page_errors

    @page_errors
    def user_mistake() -> None:
        raise ValueError("Prompt: give some <b>text</b>")

    @page_errors
    def bug() -> None:
        raise ZeroDivisionError("division by zero at line 3")

    with pytest.raises(gr.Error) as caught:
        user_mistake()
    assert caught.value.message == "Prompt: give some &lt;b&gt;text&lt;/b&gt;"  # Gradio shows it as HTML
    with pytest.raises(gr.Error) as caught:
        bug()
    assert "ZeroDivisionError" in caught.value.message and "line 3" not in caught.value.message


@pytest.fixture
def finetune_tab(tiny_model_dir, workspace):
    pytest.importorskip("gradio")
    from t2v.demo.context import DemoContext
    from t2v.demo.models import ModelRegistry
    from t2v.demo.tab_finetune import FinetuneTab

    return FinetuneTab(DemoContext(workspace=workspace, models=ModelRegistry([str(tiny_model_dir)])))


def test_finetune_tab_trains_a_lora_and_compares_it_with_the_base(finetune_tab, tiny_model_dir, workspace):
    model = str(tiny_model_dir)
    tab = finetune_tab
    assert "shapes-alignment" in tab.rewards
    assert not {"question-score", "clip-score", "pickscore"} & set(tab.rewards)  # no gradient / user weights
    finetune_tab.busy.acquire()  # a fine-tune still running (e.g. one whose page was closed): this one waits
    updates = tab.finetune(model, "shapes-alignment", 2, 1e-3, 4, 0.5, 4)
    assert next(updates)[0].startswith("Waiting for the fine-tune before")
    tab.busy.release()
    updates = list(updates)
    assert any(u[0].startswith("**Step 1/2**") for u in updates), [u[0] for u in updates]  # streamed per step
    status, curves, lora, files, state = updates[-1]
    assert status.startswith("**Done: 2 steps") and "validation reward" in status
    assert Path(lora, "pytorch_lora_weights.safetensors").is_file() and workspace.holds(lora)
    assert curves.endswith("curves.png") and Path(curves).read_bytes()[:4] == b"\x89PNG"
    assert {Path(f).name for f in files} == {"pytorch_lora_weights.safetensors", "curves.png", "log.jsonl"}
    assert not tab.busy.locked()  # the training thread let go

    prompt = "a big red ball moves right on a black background"
    base, tuned, summary, natives = tab.compare_samples(state, prompt, 0, 2, 4.0)
    assert summary.startswith("**Seed 0**") and "shapes-alignment reward: base" in summary
    assert Path(base).is_file() and Path(tuned).is_file()
    base_frames, tuned_frames = (read_video(path) for path in natives)
    assert base_frames.shape == tuned_frames.shape and not np.array_equal(base_frames, tuned_frames)
    again = read_video(tab.compare_samples(state, prompt, 0, 2, 4.0)[3][0])
    assert np.array_equal(again, base_frames)  # the same seed gives the same base clip


@pytest.mark.parametrize(("values", "message"), [
    ({"steps_value": 0}, "Training steps must be a whole number in [1, 200], got 0"),
    ({"steps_value": 201}, "Training steps must be a whole number in [1, 200]"),
    ({"rate_value": 1.0}, "Learning rate must be a number in"),
    ({"rank_value": 2.5}, "LoRA rank must be a whole number"),
    ({"noise_value": 0.1, "schedule_value": 4}, "Noise fraction × Schedule steps must leave"),
    ({"reward": "clip-score"}, "Reward must be one of ['shapes-alignment'"),
    ({"model_name": "/etc"}, "Model must be one of"),
])
def test_finetune_tab_names_the_bad_field(finetune_tab, tiny_model_dir, workspace, values, message):
    import gradio as gr

    form = {"model_name": str(tiny_model_dir), "reward": "shapes-alignment", "steps_value": 2, "rate_value": 1e-3,
            "rank_value": 4, "noise_value": 0.5, "schedule_value": 4, **values}
    with pytest.raises(gr.Error) as caught:
        next(finetune_tab.finetune(**form))
    assert caught.value.message.startswith(message.replace("'", "&#x27;"))
    assert not list(workspace.runs.iterdir())  # refused before any run folder or training thread
    with pytest.raises(gr.Error, match="Fine-tune first"):
        finetune_tab.compare_samples({}, "a red ball", 0, 2, 4.0)


def test_finetune_runs_one_at_a_time_in_its_own_group(finetune_tab):
    import gradio as gr

    from t2v.demo import tab_finetune

    with gr.Blocks() as demo:
        tab_finetune.build(finetune_tab.ctx, 4.0)
    events = {fn.api_name: fn for fn in demo.fns.values()}
    assert (events["finetune"].concurrency_limit, events["finetune"].concurrency_id) == (1, "finetune")
    assert events["compare_samples"].concurrency_id == "device"


def test_demo_command_options_and_missing_gradio(monkeypatch, capsys):
    import importlib.util

    from t2v import cli
    from t2v.commands import demo

    args = cli.build_parser().parse_args(["demo"])
    assert (args.host, args.port, args.models) == ("127.0.0.1", 7860, None)
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["demo", "--port", "70000"])
    real = importlib.util.find_spec
    monkeypatch.setattr(demo.importlib.util, "find_spec", lambda name: None if name == "gradio" else real(name))
    assert cli.main(["demo"]) == 2
    assert "pip install 't2v[demo]'" in capsys.readouterr().err
