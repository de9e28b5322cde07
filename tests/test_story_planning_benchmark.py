"""The story-planning benchmark's scoring rules against hand cases: what counts as a right scene."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from t2v.story import RuleBasedPlanner

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "story_planning.py"
_spec = importlib.util.spec_from_file_location("story_planning", _PATH)
story_planning = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(story_planning)


def _gold(motion: str | None, background: str | None = None, camera: str | None = None) -> dict:
    return {"objects": [{"color": "red", "shape": "circle", "size": None, "motion": motion}],
            "background": background, "camera": camera}


def test_a_gold_pan_over_a_plain_background_is_not_checked_but_one_over_checkered_is():
    # the world cannot render a pan over white (WorldSpec refuses it), so no caption could match that gold camera
    assert story_planning.scene_problem("a red ball moving left on a white background",
                                        _gold("left", "white", "pan left")) is None
    problem = story_planning.scene_problem("a red ball moving left on a checkered background",
                                           _gold("left", "checkered", "pan left"))
    assert problem is not None and problem.startswith("camera")


def test_an_opening_that_only_shows_the_entities_may_be_its_own_scene_or_not():
    assert story_planning.is_introduction("a big red ball on a white background")
    assert story_planning.is_introduction("two red balls as the camera pans left")
    assert not story_planning.is_introduction("a big red ball moving left on a white background")
    assert not story_planning.is_introduction("a red ball staying still")
    story = "There is a red ball. It rolls left."
    merged = {"id": "x", "split": "seen", "story": story, "scenes": [_gold("left")]}
    own = {"id": "y", "split": "seen", "story": story, "scenes": [_gold(None), _gold("left")]}
    result = story_planning.planner_accuracy(RuleBasedPlanner(), [merged, own])
    assert result["planner_accuracy"] == 1.0
    # a first scene with a motion is never dropped: one scene too many is still wrong
    moving = {"id": "z", "split": "seen", "story": "A red ball rises. It rolls left.", "scenes": [_gold("left")]}
    assert story_planning.planner_accuracy(RuleBasedPlanner(), [moving])["planner_accuracy"] == 0.0


def test_a_merged_opening_may_keep_its_other_shapes_in_the_first_scene():
    story = "There's a red triangle and a blue circle on white. The triangle moves right."
    triangle = {"color": "red", "shape": "triangle", "size": None, "motion": "right"}
    circle = {"color": "blue", "shape": "circle", "size": None, "motion": None}
    kept = {"id": "a", "split": "seen", "story": story,
            "scenes": [{"objects": [triangle, circle], "background": "white", "camera": None}]}
    left = {"id": "b", "split": "seen", "story": story,
            "scenes": [{"objects": [triangle], "background": "white", "camera": None}]}
    assert story_planning.planner_accuracy(RuleBasedPlanner(), [kept, left])["planner_accuracy"] == 1.0
    # but a shape the opening never showed does not count
    wrong = {"id": "c", "split": "seen", "story": story, "scenes": [{"objects": [
        triangle, {"color": "green", "shape": "square", "size": None, "motion": None}],
        "background": "white", "camera": None}]}
    assert story_planning.planner_accuracy(RuleBasedPlanner(), [wrong])["planner_accuracy"] == 0.0
