"""The Script format: JSON round trip, atomic save, hand-edited files, and errors that name the field."""

from __future__ import annotations

import json

import pytest

from t2v.story import Entity, Scene, Script


def full_script() -> Script:
    return Script(
        story="A big red ball moves right. Then it bounces next to a box.",
        entities=[Entity("ball", "a big red ball", reference_image="refs/ball.png"),
                  Entity("box", "a small wooden box")],
        scenes=[
            Scene("a big red ball moving right", entities=["ball"], background="black", camera="static",
                  frames=16, prompt_keys={0: "a big red ball", 8: "a big red ball moving right"}, seed=7,
                  score=0.75, tries=[{"seed": 3, "score": 0.5}, {"seed": 7, "score": 0.75}]),
            Scene("a big red ball bouncing next to a small wooden box", entities=["ball", "box"]),
        ],
        seed=42,
        planner="rule",
    )


def test_json_round_trip_is_identity_and_frame_keys_come_back_as_ints():
    script = full_script()
    text = script.to_json()
    assert json.loads(text)["scenes"][0]["prompt_keys"] == {"0": "a big red ball", "8": "a big red ball moving right"}
    again = Script.from_json(text)
    assert again == script
    assert again.scenes[0].prompt_keys == {0: "a big red ball", 8: "a big red ball moving right"}
    assert again.to_json() == text


def test_save_writes_atomically_and_load_reads_it_back(tmp_path):
    path = full_script().save(tmp_path / "out" / "story.json")
    assert [p.name for p in path.parent.iterdir()] == ["story.json"]  # no temp file left behind
    assert Script.load(path) == full_script()


def test_an_invalid_script_is_not_saved(tmp_path):
    script = full_script()
    script.scenes[1].frames = 0  # edited in place after construction
    with pytest.raises(ValueError, match=r"scenes\[1\]\.frames must be >= 1"):
        script.save(tmp_path / "story.json")
    assert list(tmp_path.iterdir()) == []


def test_a_hand_edited_file_loads(tmp_path):
    data = json.loads(full_script().to_json())
    data["entities"].append({"name": "cat", "description": "a fluffy grey cat"})  # no reference_image key
    data["scenes"][1]["entities"].append("cat")
    data["scenes"][1]["prompt"] = "a big red ball bouncing next to a fluffy grey cat"
    data["scenes"][1]["frames"] = 24
    data["scenes"][1]["prompt_keys"] = {"12": "a fluffy grey cat jumping"}
    data["scenes"].append({"prompt": "a fluffy grey cat sleeping", "entities": ["cat"]})  # minimal scene
    del data["version"]
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(data))
    script = Script.load(path)
    assert script.entity("cat") == Entity("cat", "a fluffy grey cat")
    assert script.scenes[1].frames == 24 and script.scenes[1].prompt_keys == {12: "a fluffy grey cat jumping"}
    assert script.scenes[2] == Scene("a fluffy grey cat sleeping", entities=["cat"])


def _edit(change):
    data = json.loads(full_script().to_json())
    change(data)
    return json.dumps(data)


def _set(path, value):
    def change(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return change


@pytest.mark.parametrize(("change", "message"), [
    (_set(["scenes", 1, "frames"], 0), r"scenes\[1\]\.frames must be >= 1"),
    (_set(["scenes", 0, "frames"], True), r"scenes\[0\]\.frames must be >= 1"),
    (_set(["scenes", 1, "entities"], ["ball", "cat"]), r"scenes\[1\]\.entities\[1\] 'cat' is not a declared entity"),
    (_set(["entities", 0, "name"], ""), r"entities\[0\]\.name must be a non-empty string"),
    (_set(["entities", 1, "name"], "ball"), r"entities\[1\]\.name 'ball' is declared twice"),
    (_set(["entities", 1, "description"], None), r"entities\[1\]\.description must be a non-empty string"),
    (_set(["scenes", 0, "prompt_keys"], {"16": "late"}), r"scenes\[0\]\.prompt_keys\[16\] is out of range \[0, 16\)"),
    (_set(["scenes", 0, "prompt_keys"], {"first": "x"}), r"scenes\[0\]\.prompt_keys key 'first' must be a frame index"),
    (_set(["scenes", 0, "prompt_keys"], {"-1": "x"}), r"scenes\[0\]\.prompt_keys key '-1' must be a frame index"),
    (_set(["scenes", 1, "promt"], "typo"), r"scenes\[1\] has unknown key\(s\) \['promt'\]"),
    (_set(["entities", 0, "colour"], "red"), r"entities\[0\] has unknown key\(s\) \['colour'\]"),
    (_set(["seeds"], 3), r"script has unknown key\(s\) \['seeds'\]"),
    (_set(["scenes"], []), r"scenes must be a non-empty list"),
    (_set(["scenes", 0, "prompt"], " "), r"scenes\[0\]\.prompt must be a non-empty string"),
    (_set(["scenes", 0, "seed"], -1), r"scenes\[0\]\.seed must be an integer in \[0, 2\*\*63 - 1\]"),
    (_set(["seed"], 1.5), r"^seed must be an integer"),
    (_set(["scenes", 0, "score"], "high"), r"scenes\[0\]\.score must be a finite number or null"),
    (_set(["scenes", 0, "tries"], [{"seed": 1}]), r"scenes\[0\]\.tries\[0\] is missing 'score'"),
    (_set(["scenes", 0, "camera"], ""), r"scenes\[0\]\.camera must be a non-empty string or null"),
    (_set(["version"], 2), r"version must be 1"),
    (lambda data: data["scenes"][0].pop("prompt"), r"scenes\[0\] is missing 'prompt'"),
])
def test_load_errors_name_the_field(change, message):
    with pytest.raises(ValueError, match=message):
        Script.from_json(_edit(change))


def test_load_rejects_text_that_is_not_a_script(tmp_path):
    with pytest.raises(ValueError, match="not valid JSON"):
        Script.from_json("{'scenes': []")
    with pytest.raises(ValueError, match="script must be a JSON object"):
        Script.from_json("[1, 2]")
    with pytest.raises(ValueError, match="cannot read script"):
        Script.load(tmp_path / "missing.json")


def test_construction_validates():
    with pytest.raises(ValueError, match="scenes must be a non-empty list"):
        Script(scenes=[])
    with pytest.raises(ValueError, match=r"scenes\[0\]\.entities\[0\] 'ball' is not a declared entity"):
        Script(scenes=[Scene("a ball", entities=["ball"])])
    with pytest.raises(ValueError, match=r"scenes\[0\]\.entities names an entity twice"):
        Script(scenes=[Scene("a ball", entities=["ball", "ball"])], entities=[Entity("ball", "a ball")])
    with pytest.raises(KeyError, match="no entity named 'cat'"):
        full_script().entity("cat")
