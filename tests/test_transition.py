"""TransitionAnimateDiffPipeline: masked temporal inpainting in its three modes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from t2v.models import load_pipeline
from t2v.pipelines import TransitionAnimateDiffPipeline
from t2v.pipelines.masked_frames import dissolve_guide, linear_dissolve, mix_over_dissolve
from t2v.training.common import reconstruct
from t2v.video import frames_psnr
from t2v.world.render import render
from t2v.world.spec import ShapeObject, WorldSpec


def rendered(color: str, shape: str, motion: str, frames: int = 8) -> np.ndarray:
    return render(WorldSpec((ShapeObject(shape, color, "big", motion),), background="black", frames=frames, size=32))


@pytest.fixture(scope="module")
def tiny(tiny_model_dir):
    return TransitionAnimateDiffPipeline.from_pipe(load_pipeline(str(tiny_model_dir)))


@pytest.fixture(scope="module")
def shapes():
    pipe = TransitionAnimateDiffPipeline.from_pipe(load_pipeline("tiny-shapes"))
    pipe.set_progress_bar_config(disable=True)
    return pipe


def test_nothing_given_is_plain_generation(tiny):
    from diffusers import AnimateDiffPipeline

    ours = tiny.generate_with_given("a red ball", 4, num_inference_steps=3, generator=torch.Generator().manual_seed(2))
    stock = AnimateDiffPipeline.from_pipe(tiny)("a red ball", num_frames=4, num_inference_steps=3, guidance_scale=4.0,
                                                generator=torch.Generator().manual_seed(2), output_type="np").frames[0]
    np.testing.assert_allclose(ours / 255.0, stock, atol=1 / 255 + 1e-6)


def test_given_frames_come_back_as_the_vaes_reconstruction(shapes):
    a = rendered("red", "circle", "right")
    b = rendered("blue", "square", "left")
    window = shapes.generate_with_given({0: "a big red circle moving right on a black background",
                                         7: "a big blue square moving left on a black background"},
                                        8, np.stack([a[-1], b[0]]), [0, 7], num_inference_steps=10,
                                        generator=torch.Generator().manual_seed(0))
    assert frames_psnr(window[:1], reconstruct(shapes.vae, a[-1:])) >= 30
    assert frames_psnr(window[7:], reconstruct(shapes.vae, b[:1])) >= 30


def test_each_mode_runs_on_tiny_shapes(shapes):
    a, b = rendered("red", "circle", "right"), rendered("blue", "square", "left")
    gen = torch.Generator().manual_seed(1)
    bridge = shapes("transition", clip_a=a, clip_b=b, prompt_a="a big red circle moving right on a black background",
                    prompt_b="a big blue square moving left on a black background", num_inference_steps=5,
                    generator=gen).frames
    assert bridge.shape == (1, 6, 32, 32, 3)
    video = shapes("image_to_video", "a big red circle moving right on a black background", image=a[0],
                   num_inference_steps=5, generator=gen).frames
    assert video.shape == (1, 8, 32, 32, 3)
    assert frames_psnr(np.rint(video[0, :1] * 255).astype(np.uint8), reconstruct(shapes.vae, a[:1])) >= 30
    longer = shapes("continue", "a big red circle moving right on a black background", clip=a, num_frames=10,
                    num_inference_steps=5, generator=gen).frames
    assert longer.shape == (1, 10, 32, 32, 3)  # two windows: past the model's 8 frames


def test_each_mode_runs_on_a_stock_animatediff_with_a_motion_adapter(tmp_path):
    from tests.tiny_models import build_sd_base_and_adapter

    base, adapter = build_sd_base_and_adapter(tmp_path)
    pipe = TransitionAnimateDiffPipeline.from_pipe(load_pipeline(str(base), motion_adapter=str(adapter)))
    a = np.random.default_rng(0).integers(0, 255, (3, 16, 16, 3), dtype=np.uint8)
    assert pipe("transition", clip_a=a, clip_b=a[::-1], prompt_a="a cat", prompt_b="a dog", num_frames=4,
                num_inference_steps=2).frames.shape == (1, 4, 16, 16, 3)
    assert pipe("image_to_video", "a cat", image=a[0], num_frames=5, num_inference_steps=2).frames.shape[1] == 5
    assert pipe("continue", "a cat", clip=a, num_frames=3, num_inference_steps=2).frames.shape[1] == 3


def test_resampling_rounds_change_the_free_frames_only(tiny):
    a = np.random.default_rng(0).integers(0, 255, (1, 32, 32, 3), dtype=np.uint8)
    plain = tiny.generate_with_given("a red ball", 4, a, [0], num_inference_steps=3,
                                     generator=torch.Generator().manual_seed(0))
    resampled = tiny.generate_with_given("a red ball", 4, a, [0], num_inference_steps=3, resample_rounds=2,
                                         generator=torch.Generator().manual_seed(0))
    np.testing.assert_array_equal(plain[0], resampled[0])
    assert not np.array_equal(plain[1:], resampled[1:])


def test_a_guide_free_for_every_step_is_the_unguided_bridge(shapes):
    a, b = rendered("red", "circle", "right"), rendered("blue", "square", "left")
    args = {"clip_a": a, "clip_b": b, "prompt_a": "a big red circle moving right on a black background",
            "prompt_b": "a big blue square moving left on a black background", "num_frames": 6,
            "num_inference_steps": 4}
    plain = shapes("transition", guide_strength=None, generator=torch.Generator().manual_seed(3), **args).frames
    free = shapes("transition", guide_strength=(1.0, 1.0), generator=torch.Generator().manual_seed(3), **args).frames
    np.testing.assert_array_equal(free, plain)


def held_bridge(shapes, **kwargs) -> np.ndarray:
    """A two-frame bridge from black to white held to the dissolve for every step."""
    black, white = np.zeros((1, 32, 32, 3), np.uint8), np.full((1, 32, 32, 3), 255, np.uint8)
    bridge = shapes("transition", clip_a=black, clip_b=white, prompt_a="a big red circle moving right on a black "
                    "background", prompt_b="a big blue square moving left on a white background", num_frames=2,
                    guide_strength=(0.0, 0.0), num_inference_steps=5, generator=torch.Generator().manual_seed(0),
                    **kwargs)
    return np.rint(bridge.frames[0] * 255).astype(np.uint8)


DISSOLVE = np.stack([np.full((32, 32, 3), 85, np.uint8), np.full((32, 32, 3), 170, np.uint8)])  # 1/3, 2/3 of 255


def test_a_guide_held_for_every_step_is_the_dissolve_as_the_vae_gives_it_back(shapes):
    got = held_bridge(shapes, generated_share=None)
    assert frames_psnr(got, reconstruct(shapes.vae, DISSOLVE)) >= 30


def test_a_held_bridge_mixed_over_the_dissolve_is_the_exact_dissolve(shapes):
    """The model drew nothing beyond the dissolve, so whatever the share the VAE's error on it cancels."""
    np.testing.assert_array_equal(held_bridge(shapes), DISSOLVE)
    np.testing.assert_array_equal(held_bridge(shapes, generated_share=1.0), DISSOLVE)


def test_mixing_over_the_dissolve_by_hand():
    """Four bridge frames over a flat dissolve (20, 40, 60, 80) that the VAE renders 10 levels too bright
    everywhere. The model drew an object 100 levels above that rendering in the top-left 2×2 cells and a faint
    change of 36 levels in the bottom-right cell. With share 0.6 the ramp is 0.3, 0.6, 0.6, 0.3: the 10-level VAE
    error is dropped (under 24), the object comes in at the ramp's weight, the faint change at half of it (36 is
    half-way from 24 to 48)."""
    dissolve = np.stack([np.full((3, 3, 3), v, np.uint8) for v in (20, 40, 60, 80)])
    decoded = dissolve + 10
    bridge = decoded.copy()
    bridge[:, :2, :2] += 100
    bridge[:, 2, 2] += 36
    mixed = mix_over_dissolve(bridge, dissolve, decoded, 0.6).astype(int)
    base = np.array([20, 40, 60, 80])
    np.testing.assert_array_equal(mixed[:, 0, 0, 0], base + [30, 60, 60, 30])
    np.testing.assert_array_equal(mixed[:, 2, 2, 0], base + [5, 11, 11, 5])  # 0.3·18 = 5.4, 0.6·18 = 10.8
    np.testing.assert_array_equal(mixed[:, 0, 2], np.repeat(base[:, None], 3, axis=1))  # VAE error only
    np.testing.assert_array_equal(mix_over_dissolve(bridge, dissolve, decoded, 0.0), dissolve)
    with pytest.raises(ValueError, match="one shape"):
        mix_over_dissolve(bridge[:3], dissolve, decoded, 0.5)
    with pytest.raises(ValueError, match="uint8"):
        mix_over_dissolve(bridge / 255.0, dissolve / 255.0, decoded / 255.0, 0.5)
    with pytest.raises(ValueError, match="share must be a number in"):
        mix_over_dissolve(bridge, dissolve, decoded, 2.0)


def test_an_odd_bridge_peaks_at_its_middle_frame_by_hand():
    """Five frames, share 0.6: the object drawn 100 levels above the dissolve comes in at 0.2, 0.4, 0.6, 0.4, 0.2."""
    dissolve = np.full((5, 2, 2, 3), 50, np.uint8)
    bridge = dissolve + 100
    mixed = mix_over_dissolve(bridge, dissolve, dissolve, 0.6)
    np.testing.assert_array_equal(mixed[:, 0, 0, 0], [70, 90, 110, 90, 70])
    np.testing.assert_array_equal(mix_over_dissolve(bridge[:1], dissolve[:1], dissolve[:1], 0.6)[0, 0, 0], 110)


def test_bridge_frames_called_directly_returns_mixed_uint8_frames(shapes):
    a, b = rendered("red", "circle", "right"), rendered("blue", "square", "left")
    bridge = shapes.bridge_frames(a[-2:], b[:2], "a big red circle moving right on a black background",
                                  "a big blue square moving left on a black background", 4,
                                  generated_share=np.float32(0.4), guide_strength=(0.0, 0.0), num_inference_steps=3,
                                  generator=torch.Generator().manual_seed(0))
    assert bridge.dtype == np.uint8 and bridge.shape == (4, 32, 32, 3)
    # held to the dissolve for every step with two given frames a side: the dissolve from A's last to B's first
    np.testing.assert_array_equal(bridge, linear_dissolve(a[-1], b[0], 4))


def test_the_dissolve_guide_and_its_strengths_by_hand():
    """Two given frames each side, three bridge frames: the dissolve from A's last frame (0) to B's first (200)
    moves 50 a frame, and the strength rises from the ends' value by sin(πj/4) to the middle's."""
    a = np.stack([np.full((2, 2, 3), 90, np.uint8), np.zeros((2, 2, 3), np.uint8)])
    b = np.stack([np.full((2, 2, 3), 200, np.uint8), np.full((2, 2, 3), 7, np.uint8)])
    guide, strength = dissolve_guide(a, b, 3, (0.2, 1.0))
    assert [int(f[0, 0, 0]) for f in guide] == [90, 0, 50, 100, 150, 200, 7]
    side = 0.2 + 0.8 * 2 ** -0.5
    np.testing.assert_allclose(strength, [0, 0, side, 1.0, side, 0, 0], atol=1e-9)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"mode": "morph"}, "mode"),
    ({"mode": "transition", "guide_strength": (0.2, 1.5)}, "guide_strength"),
    ({"mode": "transition", "guide_strength": "strong"}, "guide_strength"),
    ({"mode": "image_to_video", "prompt": "a", "guide_strength": (0.2, 0.5)}, "guide_strength"),
    ({"mode": "image_to_video", "prompt": "a", "guide_strength": np.array([0.2, 0.5])}, "guide_strength"),
    ({"mode": "transition", "generated_share": 1.5}, "generated_share must be a number in"),
    ({"mode": "transition", "generated_share": "half"}, "generated_share must be a number in"),
    ({"mode": "continue", "prompt": "a", "generated_share": 0.3}, "generated_share mixes a transition"),
    ({"mode": "transition", "prompt_a": "a", "prompt_b": "b", "clip_a": None}, "clip_a"),
    ({"mode": "transition", "num_frames": 9}, "num_frames must be one of 1, 2 "),  # 4 frames less 2 given
    ({"mode": "transition", "context": 3}, "context"),
    ({"mode": "image_to_video", "prompt": " "}, "prompt"),
    ({"mode": "continue", "prompt": "a", "context": 4}, "context"),
    ({"mode": "image_to_video", "prompt": "a", "image": np.zeros((30, 30, 3), np.uint8)}, "divisible"),
    ({"mode": "continue", "prompt": "a", "resample_rounds": 11}, "resample_rounds"),
])
def test_bad_inputs_are_refused(tiny, kwargs, message):
    clip = np.zeros((2, 32, 32, 3), np.uint8)
    args = {"clip_a": clip, "clip_b": clip, "prompt_a": "a", "prompt_b": "b", "image": clip[0], "clip": clip,
            "num_inference_steps": 1, **kwargs}
    with pytest.raises(ValueError, match=message):
        tiny(**args)


def test_guide_strength_of_the_wrong_form_is_refused_by_name(tiny):
    frames = np.zeros((4, 32, 32, 3), np.uint8)
    with pytest.raises(ValueError, match="guide_strength must be one number"):
        tiny.generate_with_given("a red ball", 4, frames[:1], [0], num_inference_steps=1, guide=frames,
                                 guide_strength=0.3)
