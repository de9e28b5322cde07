"""The generating verbs with ``--model`` a Wan folder (a tiny random T2V model saved with its native
settings): they run where Wan can, refuse the rest in one line, and check Wan's shape rules up front."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from t2v.cli import main
from t2v.video import read_video, write_video
from tests.tiny_wan import HEIGHT, NUM_FRAMES


@pytest.fixture
def inputs(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    rng = np.random.default_rng(0)
    write_video(rng.integers(0, 256, (5, HEIGHT, HEIGHT, 3), dtype=np.uint8), folder / "clip.gif")
    Image.fromarray(np.full((HEIGHT, HEIGHT, 3), 200, np.uint8)).save(folder / "a.png")
    Image.fromarray(np.zeros((HEIGHT, HEIGHT, 3), np.uint8)).save(folder / "b.png")
    return folder


def cli(*args: str) -> int:
    try:
        return main(list(args))
    except SystemExit as exit_:
        return int(exit_.code)


def test_generate_story_transition_animate_and_extend_run_on_wan(wan_dir, inputs, tmp_path):
    model = ["--model", str(wan_dir), "--steps", "2"]
    out = tmp_path / "gen.gif"
    assert cli("generate", "a red ball", *model, "-o", str(out)) == 0
    assert read_video(out).shape == (NUM_FRAMES, HEIGHT, HEIGHT, 3)
    story = tmp_path / "story.gif"
    assert cli("story", "A red ball moves right. Then it bounces.", *model, "-o", str(story)) == 0
    assert read_video(story).shape == (2 * NUM_FRAMES, HEIGHT, HEIGHT, 3)
    bridge = tmp_path / "bridge.gif"
    assert cli("transition", str(inputs / "a.png"), str(inputs / "b.png"), "--prompt-a", "a grey field",
               "--prompt-b", "a black field", *model, "-o", str(bridge)) == 0
    assert read_video(bridge).shape == (NUM_FRAMES - 2, HEIGHT, HEIGHT, 3)
    animated = tmp_path / "animated.gif"
    assert cli("animate", str(inputs / "a.png"), "--prompt", "a grey field", *model, "-o", str(animated)) == 0
    assert read_video(animated).shape == (NUM_FRAMES, HEIGHT, HEIGHT, 3)
    extended = tmp_path / "extended.gif"
    assert cli("extend", str(inputs / "clip.gif"), "--prompt", "noise", "--frames", "6", *model,
               "-o", str(extended)) == 0
    assert read_video(extended).shape == (5 + 6, HEIGHT, HEIGHT, 3)  # the clip, then the new frames


@pytest.mark.parametrize("args, message", [
    (["generate", "a red ball", "--frames", "8"], "num_frames must be 4k+1"),
    (["generate", "a red ball", "--size", "24"], "multiple of 16"),
])
def test_wan_shape_rules_exit_2_before_any_file(wan_dir, tmp_path, capsys, args, message):
    out = tmp_path / "x.gif"
    assert cli(*args, "--model", str(wan_dir), "--steps", "2", "-o", str(out)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert not out.exists()


def test_edit_on_wan_is_refused_in_one_line(wan_dir, inputs, tmp_path, capsys):
    out = tmp_path / "edit.gif"
    code = cli("edit", str(inputs / "clip.gif"), "--source", "a ball", "--target", "a cube", "--model", str(wan_dir),
               "-o", str(out))
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not supported on Wan" in err[0] and not out.exists()


def test_finetune_on_wan_writes_a_lora(wan_dir, tmp_path):
    out = tmp_path / "run"
    assert cli("finetune", "--model", str(wan_dir), "--output-dir", str(out), "--steps", "1",
               "--num-inference-steps", "4", "--noise-fraction", "0.75", "--grad-steps", "1", "--source-steps", "1",
               "--num-prompts", "2", "--num-validation-prompts", "1", "--validation-judge", "",
               "--checkpoint-every", "1") == 0
    assert (out / "lora" / "pytorch_lora_weights.safetensors").is_file()


@pytest.fixture(scope="module")
def i2v_dirs(tmp_path_factory):
    """A tiny Wan 2.1 FLF2V and a tiny 2.1 I2V folder, saved as published."""
    from diffusers import WanImageToVideoPipeline

    from tests.tiny_wan import tiny_i2v_components

    root = tmp_path_factory.mktemp("wan-i2v")
    for name, first_last in (("flf2v", True), ("i2v", False)):
        WanImageToVideoPipeline(**tiny_i2v_components(first_last=first_last)).save_pretrained(root / name)
    return root


def test_an_flf2v_model_bridges_natively_and_an_i2v_model_animates_and_extends(i2v_dirs, inputs, tmp_path,
                                                                                 capsys):
    """Wan's own conditioning where the model has it: first-last frame on FLF2V, image-to-video on I2V."""
    bridge = tmp_path / "bridge.gif"
    assert cli("transition", str(inputs / "a.png"), str(inputs / "b.png"), "--prompt-a", "a grey field",
               "--prompt-b", "a black field", "--frames", "3", "--steps", "2", "--model", str(i2v_dirs / "flf2v"),
               "-o", str(bridge)) == 0
    assert "native" in capsys.readouterr().out
    assert read_video(bridge).shape == (3, HEIGHT, HEIGHT, 3)
    assert cli("transition", str(inputs / "a.png"), str(inputs / "b.png"), "--prompt-a", "a", "--prompt-b", "b",
               "--frames", "4", "--model", str(i2v_dirs / "flf2v"), "-o", str(tmp_path / "x.gif")) == 2
    assert "4k+3" in capsys.readouterr().err
    animated = tmp_path / "animated.gif"
    assert cli("animate", str(inputs / "a.png"), "--prompt", "a grey field", "--frames", "5", "--steps", "2",
               "--model", str(i2v_dirs / "i2v"), "-o", str(animated)) == 0
    assert read_video(animated).shape == (5, HEIGHT, HEIGHT, 3)
    extended = tmp_path / "extended.gif"
    assert cli("extend", str(inputs / "clip.gif"), "--prompt", "noise", "--frames", "3", "--steps", "2",
               "--model", str(i2v_dirs / "i2v"), "-o", str(extended)) == 0
    assert read_video(extended).shape == (5 + 3, HEIGHT, HEIGHT, 3)


def test_a_story_on_an_image_to_video_model_is_refused_in_one_line(i2v_dirs, tmp_path, capsys):
    assert cli("story", "A red ball moves right. Then it bounces.", "--model", str(i2v_dirs / "i2v"),
               "-o", str(tmp_path / "s.gif")) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "WanImageToVideoPipeline" in err[0]
