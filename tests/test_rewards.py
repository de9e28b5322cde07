"""The reward interface, its registry, InstructVideo's shaping, and the shipped shapes-alignment reward judged
against the renderer (the world's own truth)."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from t2v.rewards import ShapingConfig, attenuation_weights, available_rewards, load_reward, segment_frames
from t2v.rewards.shaping import shape_video_reward
from t2v.world.parser import parse_caption
from t2v.world.render import object_coverage, render
from t2v.world.spec import ShapeObject, WorldSpec


def as_frames(clip: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(clip).permute(0, 3, 1, 2).float().div(255).unsqueeze(0)


@pytest.fixture(scope="module")
def reward():
    return load_reward("shapes-alignment")


def test_segments_take_one_frame_from_each_equal_part():
    gen = torch.Generator().manual_seed(0)
    for _ in range(20):
        picked = segment_frames(16, 4, gen).tolist()
        assert [p // 4 for p in picked] == [0, 1, 2, 3]
    assert segment_frames(8, 0).tolist() == list(range(8))
    assert segment_frames(3, 4).tolist() == [0, 1, 2]  # more segments than frames: every frame once
    with pytest.raises(ValueError, match="num_frames"):
        segment_frames(0, 4)


def test_attenuated_weights_follow_exp_minus_lambda_distance_from_the_middle():
    weights = attenuation_weights(torch.tensor([0, 4, 6]), 8, 1.0)
    raw = [math.exp(-4), 1.0, math.exp(-2)]  # |0-4|, |4-4|, |6-4|
    assert weights.tolist() == pytest.approx([r / sum(raw) for r in raw], rel=1e-5)
    flat = attenuation_weights(torch.tensor([0, 7]), 8, 0.0)
    assert flat.tolist() == pytest.approx([0.5, 0.5])
    scores = torch.tensor([[1.0, 3.0, 5.0]])
    assert shape_video_reward(scores, torch.tensor([0, 4, 6]), 8, 1.0).item() == pytest.approx(
        sum(s * r for s, r in zip([1, 3, 5], raw, strict=True)) / sum(raw), rel=1e-5)


def test_shaping_config_and_registry_name_bad_values():
    with pytest.raises(ValueError, match="segments"):
        ShapingConfig(segments=-1)
    with pytest.raises(ValueError, match="attenuation"):
        ShapingConfig(attenuation=-0.5)
    assert {"shapes-alignment", "question-score", "hpsv2", "pickscore", "clip-score", "aesthetic"} <= set(
        available_rewards())
    with pytest.raises(ValueError, match="reward must be one of"):
        load_reward("no-such-reward")


def test_reward_inputs_are_checked_by_name(reward):
    with pytest.raises(ValueError, match="frames"):
        reward(torch.zeros(1, 8, 32, 32), ["a big red circle"])
    with pytest.raises(ValueError, match="prompts"):
        reward(torch.zeros(2, 8, 3, 32, 32), ["a big red circle"])
    with pytest.raises(ValueError, match="outside the shapes world"):
        reward(torch.zeros(1, 8, 3, 32, 32), ["a photo of a cat"])


SCENE = WorldSpec(objects=(ShapeObject("square", "green", "big", "right", x=0.3, y=0.5),), background="gray",
                  frames=8, size=32)


def test_rendered_scene_scores_above_each_wrong_prompt(reward):
    """The prompt the renderer drew beats one that changes the colour, shape, size, background or adds an object."""
    frames = as_frames(render(SCENE))
    right = "a big green square moving right on a gray background"
    wrong = ["a big blue square moving right on a gray background",
             "a big green circle moving right on a gray background",
             "a small green square moving right on a gray background",
             "a big green square moving right on a white background",
             "a big green square and a small red circle on a gray background"]
    scores = reward(frames.repeat(len(wrong) + 1, 1, 1, 1, 1), [right, *wrong]).mean(dim=1)
    assert scores.shape == (len(wrong) + 1,)
    assert all(scores[0] > s for s in scores[1:]), scores
    assert reward.verdict(frames, [right]).item()
    assert not reward.verdict(frames, [wrong[1]]).item()


def test_a_stray_blob_lowers_the_score_and_fails_the_verdict(reward):
    """A frame with an extra small object the prompt does not ask for is penalised (strict, like the oracle)."""
    prompt = "a big green square moving right on a gray background"
    clean = as_frames(render(SCENE))
    stray = replace(SCENE, objects=(*SCENE.objects, ShapeObject("circle", "orange", "small", "still", x=0.8, y=0.2)))
    dirty = as_frames(render(stray))
    assert reward(dirty, [prompt]).mean() < reward(clean, [prompt]).mean() - 0.5
    assert not reward.verdict(dirty, [prompt]).item()


def test_held_out_colour_shape_pairs_are_read_like_any_other(reward):
    """The network never saw a blue circle, but its shape head reads masks without colour."""
    for color, shape, wrong_shape in (("blue", "circle", "square"), ("red", "triangle", "circle"),
                                      ("yellow", "square", "triangle")):
        spec = WorldSpec(objects=(ShapeObject(shape, color, "big", "still", x=0.5, y=0.5),), frames=8, size=32)
        frames = as_frames(render(spec))
        right = f"a big {color} {shape} on a black background"
        wrong = f"a big {color} {wrong_shape} on a black background"
        scores = reward(frames.repeat(2, 1, 1, 1, 1), [right, wrong]).mean(dim=1)
        assert scores[0] > scores[1], (color, shape, scores)


def test_gradients_reach_the_frames(reward):
    frames = as_frames(render(SCENE)).requires_grad_(True)
    reward(frames, ["a big green square moving right on a gray background"]).sum().backward()
    assert frames.grad is not None and frames.grad.abs().sum() > 0


def test_a_relation_is_judged_by_where_the_colours_are(reward):
    spec = parse_caption("a big red circle left of a big blue square on a black background", frames=8, size=32)
    frames = as_frames(render(spec))
    left = "a big red circle left of a big blue square on a black background"
    right = "a big red circle right of a big blue square on a black background"
    scores = reward(frames.repeat(2, 1, 1, 1, 1), [left, right]).mean(dim=1)
    assert scores[0] > scores[1]


def test_object_coverage_matches_the_rendered_pixels():
    """Where the coverage says an object covers a pixel fully, the rendered pixel has its colour exactly."""
    clip, coverage = render(SCENE), object_coverage(SCENE)
    full = coverage[:, 0] == 1.0
    assert full.sum() > 20
    assert (clip[full] == np.array([40, 170, 60], dtype=np.uint8)).all()
    assert (clip[coverage[:, 0] == 0.0] == 125).all()  # gray background elsewhere


def test_question_score_picks_the_rendered_scene_over_a_wrong_one():
    """The evaluator's score is not differentiable but ranks the video that shows the prompt first."""
    from t2v.rewards.selection import best_of_n, reward_filter

    question = load_reward("question-score")
    assert not question.differentiable and not question.per_frame
    wrong = replace(SCENE, objects=(replace(SCENE.objects[0], color="red"),))
    candidates = torch.cat([as_frames(render(wrong)), as_frames(render(SCENE))])
    best, scores = best_of_n(question, candidates, "a big green square moving right on a gray background")
    assert best == 1 and scores[1] > scores[0]
    assert reward_filter(question, candidates, ["a big green square moving right on a gray background"] * 2,
                         keep=0.5) == [1]
    with pytest.raises(ValueError, match="keep"):
        reward_filter(question, candidates, ["a"] * 2, keep=0.0)


def test_training_clips_for_fine_tuning_hold_no_held_out_combination(tmp_path):
    """The data file the fine-tune edits: uint8 clips, one readable prompt each, never a held-out pair."""
    import json

    from safetensors import safe_open

    from t2v.rewards.shapes_alignment.clips import write_training_clips
    from t2v.world.holdout import spec_is_heldout

    path = write_training_clips(tmp_path / "clips.safetensors", 40)
    with safe_open(str(path), "np") as f:
        clips, prompts = f.get_tensor("clips"), json.loads(f.metadata()["prompts"])
    assert clips.shape == (40, 8, 32, 32, 3) and clips.dtype == np.uint8 and len(prompts) == 40
    assert not any(spec_is_heldout(parse_caption(p)) for p in prompts)
    with pytest.raises(ValueError, match="clips"):
        write_training_clips(tmp_path / "none.safetensors", 0)
