"""``t2v transition``, ``animate`` and ``extend`` in-process through ``t2v.cli.main``, on the random 4-frame,
32-pixel test model."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from t2v.cli import main
from t2v.video import read_video, write_video
from t2v.world.render import render
from t2v.world.spec import ShapeObject, WorldSpec


def rendered(color: str, shape: str, motion: str, size: int = 32, frames: int = 4) -> np.ndarray:
    return render(WorldSpec((ShapeObject(shape, color, "big", motion),), background="black", frames=frames,
                            size=size))


@pytest.fixture
def inputs(tmp_path):
    """Clips and images to start from, in their own folder (so a test can see that nothing else was written)."""
    folder = tmp_path / "in"
    folder.mkdir()
    a, b = rendered("red", "circle", "right"), rendered("blue", "square", "left")
    write_video(a, folder / "a.gif")
    write_video(b, folder / "b.mp4")
    Image.fromarray(b[0]).save(folder / "b.png")
    Image.fromarray(rendered("green", "triangle", "still", size=64)[0]).save(folder / "big.png")
    write_video(rendered("red", "circle", "right", size=64), folder / "big.gif")
    Image.fromarray(np.zeros((48, 64, 3), np.uint8)).save(folder / "wide.png")
    (folder / "text.mp4").write_text("not a video\n")
    (folder / "text.png").write_text("not an image\n")
    (folder / "notes.txt").write_text("hello\n")
    return folder


def mean_difference(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute pixel difference; a GIF's one palette per file moves colours a little."""
    return float(np.abs(a.astype(np.float32) - b.astype(np.float32)).mean())


def cli(*args: str) -> int:
    """The exit code, whether ``main`` returns it or argparse exits with it."""
    try:
        return main(list(args))
    except SystemExit as exit_:
        return int(exit_.code)


def test_transition_writes_the_bridge_or_the_clips_around_it(tiny_model_dir, inputs, tmp_path):
    model = ["--model", str(tiny_model_dir), "--steps", "2"]
    common = ["--prompt-a", "a big red circle moving right", "--prompt-b", "a big blue square moving left"]
    bridge = tmp_path / "bridge.gif"
    assert cli("transition", str(inputs / "a.gif"), str(inputs / "b.mp4"), *common, *model, "-o", str(bridge)) == 0
    assert read_video(bridge).shape == (2, 32, 32, 3)  # the model's 4 frames less one given at each side
    joined = tmp_path / "joined.gif"
    assert cli("transition", str(inputs / "a.gif"), str(inputs / "b.png"), *common, "--prompt", "a yellow square",
               "--frames", "1", "--with-clips", *model, "-o", str(joined)) == 0
    video = read_video(joined)
    assert video.shape == (4 + 1 + 1, 32, 32, 3)  # A, a one-frame bridge, B (an image: one frame)
    assert mean_difference(video[:4], read_video(inputs / "a.gif")) < 2  # A comes first, as given


def test_transition_takes_a_guide_or_none(tiny_model_dir, inputs, tmp_path):
    args = ["transition", str(inputs / "a.gif"), str(inputs / "b.mp4"), "--prompt-a", "a big red circle moving right",
            "--prompt-b", "a big blue square moving left", "--model", str(tiny_model_dir), "--steps", "3"]
    videos = []
    for guide in ("none", "0,0"):
        out = tmp_path / f"{guide.replace(',', '_')}.mp4"
        assert cli(*args, "--guide", guide, "--share", "none", "-o", str(out)) == 0
        videos.append(read_video(out))
    assert videos[0].shape == videos[1].shape == (2, 32, 32, 3)
    assert mean_difference(*videos) > 1  # held to the dissolve throughout vs generated freely


def test_transition_share_zero_writes_the_dissolve(tiny_model_dir, inputs, tmp_path):
    args = ["transition", str(inputs / "a.gif"), str(inputs / "b.mp4"), "--prompt-a", "a big red circle moving right",
            "--prompt-b", "a big blue square moving left", "--model", str(tiny_model_dir), "--steps", "3"]
    assert cli(*args, "--share", "0", "-o", str(tmp_path / "dissolve.gif")) == 0
    assert cli(*args, "--share", "none", "-o", str(tmp_path / "model.gif")) == 0
    a_end, b_start = read_video(inputs / "a.gif")[-1].astype(float), read_video(inputs / "b.mp4")[0].astype(float)
    dissolve = np.stack([a_end * 2 / 3 + b_start / 3, a_end / 3 + b_start * 2 / 3])
    assert mean_difference(read_video(tmp_path / "dissolve.gif"), dissolve) < 2
    assert mean_difference(read_video(tmp_path / "model.gif"), dissolve) > 5  # the model's own frames


def test_animate_writes_a_video_of_the_asked_length(tiny_model_dir, inputs, tmp_path):
    out = tmp_path / "v.mp4"
    model = ["--model", str(tiny_model_dir), "--steps", "1"]
    assert cli("animate", str(inputs / "b.png"), "--prompt", "a big blue square moving left", *model,
               "-o", str(out)) == 0
    assert read_video(out).shape == (4, 32, 32, 3)
    assert cli("animate", str(inputs / "b.png"), "--prompt", "a big blue square", "--frames", "3", *model,
               "-o", str(out)) == 0
    assert read_video(out).shape[0] == 3


def test_extend_writes_the_clip_then_the_new_frames_past_the_models_length(tiny_model_dir, inputs, tmp_path):
    out = tmp_path / "longer.gif"
    assert cli("extend", str(inputs / "a.gif"), "--prompt", "a big red circle moving right", "--frames", "6",
               "--model", str(tiny_model_dir), "--steps", "1", "-o", str(out)) == 0
    video = read_video(out)
    assert video.shape == (4 + 6, 32, 32, 3)  # three windows of the 4-frame model, two new frames each
    assert mean_difference(video[:4], read_video(inputs / "a.gif")) < 2  # the clip first, as given


def test_inputs_of_another_size_are_resized_with_one_warning(tiny_model_dir, inputs, tmp_path, capsys):
    model = ["--model", str(tiny_model_dir), "--steps", "1"]
    out = tmp_path / "v.gif"
    assert cli("animate", str(inputs / "big.png"), "--prompt", "a big green triangle", *model, "-o", str(out)) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning:")]
    assert warnings == ["warning: image is 64x64; resized to the model's 32x32"]
    assert read_video(out).shape == (4, 32, 32, 3)
    assert cli("extend", str(inputs / "big.gif"), "--prompt", "a big red circle", "--frames", "2", *model,
               "-o", str(out)) == 0
    assert read_video(out).shape == (6, 32, 32, 3)  # the resized clip is what is written
    assert cli("animate", str(inputs / "wide.png"), "--prompt", "a big red circle", *model, "-o", str(out)) == 0
    assert "64x48; resized and centre-cropped to the model's 32x32" in capsys.readouterr().err


def test_a_resized_image_keeps_its_content(inputs):
    from t2v.commands._given_frames import fit_to_model

    big = rendered("green", "triangle", "still", size=64)
    small = rendered("green", "triangle", "still", size=32)
    fitted = fit_to_model(big, 32, "clip")
    assert fitted.shape == small.shape
    assert np.abs(fitted.astype(int) - small.astype(int)).mean() < 3  # box-averaged 64 px ≈ the 32 px render


BAD = [
    (["transition", "{in}/missing.mp4", "{in}/b.mp4", "--prompt-a", "a", "--prompt-b", "b"], "does not exist"),
    (["transition", "{in}/text.mp4", "{in}/b.mp4", "--prompt-a", "a", "--prompt-b", "b"], "not a readable video"),
    (["transition", "{in}/a.gif", "{in}/notes.txt", "--prompt-a", "a", "--prompt-b", "b"], "must be a video or"),
    (["transition", "{in}/a.gif", "{in}/b.mp4", "--prompt-a", "a", "--prompt-b", "b", "--frames", "3"],
     "--frames must be in [1, 2]"),
    (["transition", "{in}/a.gif", "{in}/b.png", "--prompt-a", "a", "--prompt-b", "b", "--context", "2"],
     "--context must be in [1, 1]"),
    (["transition", "{in}/a.gif", "{in}/b.mp4", "--prompt-a", "a", "--prompt-b", "b", "--context", "2"],
     "--context must be in [1, 1]"),
    (["transition", "{in}/a.gif", "{in}/b.mp4", "--prompt-a", " ", "--prompt-b", "b"], "--prompt-a"),
    (["transition", "{in}/a.gif", "{in}/b.mp4", "--prompt-a", "a", "--prompt-b", "b", "--guide", "0.2,1.5"],
     "--guide: both values must be in [0, 1]"),
    (["transition", "{in}/a.gif", "{in}/b.mp4", "--prompt-a", "a", "--prompt-b", "b", "--guide", "strong"],
     "--guide: must be ENDS,MIDDLE"),
    (["transition", "{in}/a.gif", "{in}/b.mp4", "--prompt-a", "a", "--prompt-b", "b", "--share", "1.5"],
     "--share: must be in [0, 1]"),
    (["transition", "{in}/a.gif", "{in}/b.mp4", "--prompt-a", "a", "--prompt-b", "b", "--share", "lots"],
     "--share: must be a number"),
    (["animate", "{in}/text.png", "--prompt", "a"], "not a readable image"),
    (["animate", "{in}/missing.png", "--prompt", "a"], "does not exist"),
    (["animate", "{in}/a.gif", "--prompt", "a"], "holds 4 frames"),
    (["animate", "{in}/b.png", "--prompt", "a", "--frames", "5"], "--frames must be in [2, 4]"),
    (["animate", "{in}/b.png", "--prompt", "a", "--resample", "11"], "--resample must be in [0, 10]"),
    (["extend", "{in}/text.mp4", "--prompt", "a", "--frames", "2"], "not a readable video"),
    (["extend", "{in}/a.gif", "--prompt", "a", "--frames", "0"], "--frames"),
    (["extend", "{in}/a.gif", "--prompt", "a", "--frames", "1000"], "--frames must be in [1, 256]"),
    (["extend", "{in}/a.gif", "--prompt", "a", "--frames", "2", "--context", "4"], "--context must be in [1, 3]"),
    (["extend", "{in}/b.png", "--prompt", "a", "--frames", "2", "--context", "2"], "at most the clip's 1 frames"),
]


@pytest.mark.parametrize(("args", "message"), BAD, ids=[" ".join(a[:2]) + f" {m}" for a, m in BAD])
def test_bad_inputs_exit_2_with_one_line_and_write_nothing(tiny_model_dir, inputs, tmp_path, capsys, args, message):
    before = sorted(p.name for p in tmp_path.rglob("*"))
    out = tmp_path / "out.mp4"
    argv = [a.replace("{in}", str(inputs)) for a in args]
    assert cli(*argv, "--model", str(tiny_model_dir), "--steps", "1", "-o", str(out)) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and message in err and err.startswith(f"t2v {args[0]}: error:")
    assert sorted(p.name for p in tmp_path.rglob("*")) == before
