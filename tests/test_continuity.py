"""The technique pieces of multi-scene generation, against hand cases and diffusers' own implementations."""

from __future__ import annotations

import pytest
import torch

from t2v.models import load_pipeline
from t2v.pipelines import ContinuityConfig, MultiSceneAnimateDiffPipeline
from t2v.pipelines.backbone import UNetBackbone
from t2v.pipelines.continuity import boundary_shares, mix_boundary_noise, structure_pull
from t2v.pipelines.time_varying_prompts import check_prompt_keys, interpolate_keyed
from tests.tiny_models import build_sd_base_and_adapter


@pytest.mark.parametrize("prediction_type", ["epsilon", "v_prediction", "sample"])
def test_backbone_reads_and_rewrites_the_clean_estimate(prediction_type):
    from diffusers import DDIMScheduler

    backbone = UNetBackbone(DDIMScheduler(prediction_type=prediction_type), scaling_factor=0.5)
    torch.manual_seed(0)
    clean, noise = torch.randn(1, 4, 3, 2, 2), torch.randn(1, 4, 3, 2, 2)
    t = 600
    alpha = backbone.scheduler.alphas_cumprod[t].sqrt()
    sigma = (1 - backbone.scheduler.alphas_cumprod[t]).sqrt()
    sample = alpha * clean + sigma * noise  # the forward process, written out by hand
    truth = {"epsilon": noise, "v_prediction": alpha * noise - sigma * clean, "sample": clean}[prediction_type]
    torch.testing.assert_close(backbone.clean_estimate(sample, truth, t), clean, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(backbone.noise_estimate(sample, truth, t), noise, atol=1e-4, rtol=1e-4)
    other = torch.randn_like(clean)
    rewritten = backbone.with_clean_estimate(sample, other, t)
    torch.testing.assert_close(backbone.clean_estimate(sample, rewritten, t), other, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(backbone.add_noise(clean, noise, t), sample)


def test_dynamic_noise_keeps_early_frames_near_the_boundary_and_frees_the_late_ones():
    shares = boundary_shares(8, ContinuityConfig(dynamic_strength=0.8, dynamic_span=0.5))
    torch.testing.assert_close(shares, torch.tensor([0.8, 0.6, 0.4, 0.2, 0.0, 0.0, 0.0, 0.0]))
    assert boundary_shares(8, ContinuityConfig(dynamic_noise=False, dynamic_strength=0.5)).tolist() == [0.5] * 8
    assert boundary_shares(8, ContinuityConfig.off()).tolist() == [0.0] * 8
    torch.manual_seed(0)
    fresh, boundary = torch.randn(1, 4, 8, 32, 32), torch.randn(1, 4, 1, 32, 32)
    mixed = mix_boundary_noise(fresh, boundary, shares)
    for i, w in enumerate(shares.tolist()):
        corr = torch.corrcoef(torch.stack([mixed[:, :, i].flatten(), boundary.flatten()]))[0, 1]
        assert abs(corr - w**0.5) < 0.05  # the correlation with the boundary is √w
        assert abs(mixed[:, :, i].std() - 1.0) < 0.05  # unit variance, as the schedule expects


def test_structure_pull_moves_each_frame_towards_the_one_before():
    clean = torch.tensor([0.0, 10.0, 20.0]).view(1, 1, 3, 1, 1)
    anchor = torch.tensor([-10.0]).view(1, 1, 1, 1, 1)
    pulled = structure_pull(clean, anchor, 0.5)
    assert pulled.flatten().tolist() == [-5.0, 5.0, 15.0]
    assert structure_pull(clean, None, 0.5).flatten().tolist() == [0.0, 5.0, 15.0]


def test_continuity_settings_are_checked():
    with pytest.raises(ValueError, match="noise_init"):
        ContinuityConfig(noise_init="magic")
    with pytest.raises(ValueError, match="structure_guidance"):
        ContinuityConfig(structure_guidance=1.5)


def test_prompt_keys_interpolate_linearly_between_keys():
    keyed = {0: torch.tensor([0.0]), 4: torch.tensor([8.0])}
    assert interpolate_keyed(keyed, 6).flatten().tolist() == [0.0, 2.0, 4.0, 6.0, 8.0, 8.0]
    assert interpolate_keyed({2: torch.tensor([1.0])}, 3).flatten().tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(ValueError, match="frame indices"):
        check_prompt_keys({9: "a ball"}, 8)
    with pytest.raises(ValueError, match=r"prompt\[1\]"):
        check_prompt_keys({0: "a ball", 1: " "}, 8)


@pytest.fixture(scope="module")
def tiny_animatediff(tmp_path_factory):
    base, adapter = build_sd_base_and_adapter(tmp_path_factory.mktemp("sd"))
    return load_pipeline(str(base), motion_adapter=str(adapter), dtype=torch.float32)


def test_time_varying_prompts_match_diffusers_free_noise_interpolation(tiny_animatediff):
    """FreeNoise needs a motion adapter's context windows; on a pipeline that has them, its prompt
    interpolation and ours must agree, with and without guidance."""
    pipe = MultiSceneAnimateDiffPipeline.from_pipe(tiny_animatediff)
    tiny_animatediff.enable_free_noise(context_length=8, context_stride=2)
    prompts = {0: "a red ball", 3: "a blue square", 5: "a green triangle"}
    for guidance in (False, True):
        ours = pipe.encode_time_varying_prompt(prompts, 8, torch.device("cpu"), guidance, negative_prompt="blurry")
        theirs, _ = tiny_animatediff._encode_prompt_free_noise(prompts, 8, torch.device("cpu"), 1, guidance,
                                                              negative_prompt="blurry")
        torch.testing.assert_close(ours, theirs)
    one = pipe.encode_time_varying_prompt("a red ball", 4, torch.device("cpu"), False)
    stock, _ = pipe.encode_prompt("a red ball", torch.device("cpu"), 1, False)
    torch.testing.assert_close(one, stock.repeat_interleave(4, dim=0))  # one prompt: the stock layout
