"""The shapes-motion reward judged against the renderer: every motion word of the world, on rendered clips of
scenes it never trained on, against every other motion word; frames in reverse order; objects told apart by
colour; gradients."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
import torch

from t2v.rewards import frames_from_uint8, load_reward
from t2v.world.captions import canonical_caption
from t2v.world.holdout import sample_training_spec
from t2v.world.parser import parse_caption
from t2v.world.render import render
from t2v.world.spec import MOTIONS


@pytest.fixture(scope="module")
def motion():
    return load_reward("shapes-motion")


def with_motion(spec, motion: str, index: int = 0):
    objects = list(spec.objects)
    objects[index] = replace(objects[index], motion=motion)
    return replace(spec, objects=tuple(objects))


def test_the_rendered_motion_scores_above_every_other_motion_word(motion):
    """For random one-object scenes, the prompt with the motion the renderer drew scores highest of all eight."""
    rng = random.Random(11)
    for _ in range(12):
        spec = sample_training_spec(rng, frames=8, size=32, two_objects=0.0)
        frames = frames_from_uint8(render(spec))
        prompts = [canonical_caption(with_motion(spec, m)) for m in MOTIONS]
        scores = motion(frames.repeat(len(MOTIONS), 1, 1, 1, 1), prompts)
        drawn = MOTIONS.index(spec.objects[0].motion)
        assert scores.shape == (len(MOTIONS),)
        assert scores[drawn] > -0.1, (spec, scores)
        others = torch.cat([scores[:drawn], scores[drawn + 1:]])
        assert (others < scores[drawn] - 1.0).all(), (spec.objects[0].motion, scores)
        verdicts = motion.verdict(frames.repeat(len(MOTIONS), 1, 1, 1, 1), prompts)
        assert verdicts[drawn] and verdicts.sum() == 1, (spec.objects[0].motion, verdicts)


def test_frames_in_reverse_read_as_the_opposite_motion(motion):
    spec = parse_caption("a big red circle moving right on a black background", frames=8, size=32)
    frames = frames_from_uint8(render(spec))
    backwards = frames.flip(1)
    right = "a big red circle moving right on a black background"
    left = right.replace("right", "left")
    assert motion(backwards, [left]) > motion(backwards, [right]) + 1.0
    grow = parse_caption("a big red circle growing on a black background", frames=8, size=32)
    shrinking = frames_from_uint8(render(grow)).flip(1)
    assert motion(shrinking, ["a big red circle shrinking on a black background"]) > \
        motion(shrinking, ["a big red circle growing on a black background"]) + 1.0


def test_each_object_is_followed_by_its_colour(motion):
    """Two objects: swapping their motion words in the prompt is caught; a shared colour is not judged."""
    prompt = "a big red circle moving up above a big blue square moving left on a black background"
    spec = parse_caption(prompt, frames=8, size=32)
    frames = frames_from_uint8(render(spec))
    swapped = "a big red circle moving left above a big blue square moving up on a black background"
    assert motion(frames, [prompt]) > motion(frames, [swapped]) + 1.0
    same = "a big red circle moving up above a big red square moving left on a black background"
    assert motion(frames, [same]).item() == 0.0


def test_gradients_reach_the_frames_and_bad_input_is_named(motion):
    spec = parse_caption("a big green square bouncing on a gray background", frames=8, size=32)
    frames = frames_from_uint8(render(spec)).requires_grad_(True)
    motion(frames, ["a big green square bouncing on a gray background"]).sum().backward()
    assert frames.grad is not None and frames.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="at least 2 frames"):
        motion(frames[:, :1].detach(), ["a big green square bouncing on a gray background"])
    with pytest.raises(ValueError, match="prompts"):
        motion(frames.detach(), ["a photo of a cat"])
