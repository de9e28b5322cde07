"""``t2v story`` in-process through ``t2v.cli.main``."""

from __future__ import annotations

import json

import pytest

from t2v.cli import main
from t2v.story import Script
from t2v.video import read_video

STORY = "A big red ball moves right on a black background. Then it bounces. Finally it grows."


def test_story_writes_the_video_the_script_and_the_clips(tiny_model_dir, tmp_path, capsys):
    out = tmp_path / "story.gif"
    code = main(["story", STORY, "--model", str(tiny_model_dir), "--steps", "2", "-o", str(out),
                 "--clips-dir", str(tmp_path / "clips")])
    assert code == 0
    assert read_video(out).shape == (12, 32, 32, 3)  # three scenes of the test model's 4 frames
    assert sorted(p.name for p in (tmp_path / "clips").iterdir()) == ["scene_01.mp4", "scene_02.mp4", "scene_03.mp4"]
    script = Script.load(tmp_path / "story.json")
    assert [s.prompt for s in script.scenes] == ["a big red ball moving right on a black background",
                                                 "a big red ball bouncing on a black background",
                                                 "a big red ball growing on a black background"]
    assert all(s.seed is not None for s in script.scenes)
    assert (tmp_path / "story.boundary.safetensors").is_file()
    assert "3 scenes" in capsys.readouterr().out


def test_an_edited_script_is_generated_as_given(tiny_model_dir, tmp_path):
    first = tmp_path / "first.gif"
    assert main(["story", STORY, "--model", str(tiny_model_dir), "--steps", "2", "-o", str(first)]) == 0
    data = json.loads((tmp_path / "first.json").read_text())
    data["scenes"] = data["scenes"][:2]
    data["scenes"][1]["prompt"] = "a big red ball moving left on a black background"
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(data))
    again = tmp_path / "again.gif"
    assert main(["story", "--script", str(edited), "--model", str(tiny_model_dir), "--steps", "2",
                 "-o", str(again)]) == 0
    assert read_video(again).shape[0] == 8  # the two scenes left in the edited file
    assert Script.load(tmp_path / "again.json").scenes[0].seed == data["scenes"][0]["seed"]
    assert Script.load(tmp_path / "again.json").scenes[1].prompt.endswith("moving left on a black background")


@pytest.mark.parametrize("story", ["", "   ", "Hmm."])
def test_an_empty_or_unreadable_story_exits_2_and_writes_nothing(tiny_model_dir, tmp_path, capsys, story):
    out = tmp_path / "story.mp4"
    assert main(["story", story, "--model", str(tiny_model_dir), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("t2v story: error:") and "\n" not in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("args", "message"), [
    (["--max-tries", "50", "--check"], "max-tries"),
    (["--script", "nope.json"], "script"),
    (["--planner", "llm"], "--llm"),
])
def test_bad_options_exit_2_with_one_line(tiny_model_dir, tmp_path, capsys, args, message):
    story = [] if "--script" in args else [STORY]
    assert main(["story", *story, "--model", str(tiny_model_dir), "-o", str(tmp_path / "s.mp4"), *args]) == 2
    assert message in capsys.readouterr().err


def test_transitions_add_frames_between_the_scenes(tiny_model_dir, tmp_path):
    out = tmp_path / "story.gif"
    assert main(["story", STORY, "--model", str(tiny_model_dir), "--steps", "1", "-o", str(out),
                 "--transitions", "2", "--clips-dir", str(tmp_path / "clips")]) == 0
    assert read_video(out).shape[0] == 3 * 4 + 2 * 2
    assert {p.name for p in (tmp_path / "clips").iterdir()} >= {"transition_01_02.mp4", "transition_02_03.mp4"}
    assert main(["story", STORY, "--model", str(tiny_model_dir), "-o", str(out), "--transitions", "3"]) == 2
