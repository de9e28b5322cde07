"""TransitionAnimateDiffPipeline: masked temporal inpainting in its three modes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from t2v.models import load_pipeline
from t2v.pipelines import TransitionAnimateDiffPipeline
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


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"mode": "morph"}, "mode"),
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
