"""t2v's techniques on Wan through the backbone seam, on tiny random Wan components of the real classes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from t2v.pipelines import (
    ContinuityConfig,
    MultiSceneWanPipeline,
    T2VWanPipeline,
    TransitionWanPipeline,
)
from t2v.pipelines.backbone import FlowBackbone, UNetBackbone, backbone_of
from t2v.pipelines.wan_frame_prompts import PerFrameTextAttnProcessor, per_frame_text_attention
from t2v.story import Entity, Scene, Script
from tests.tiny_wan import NUM_FRAMES, tiny_call_kwargs, tiny_wan_pipeline


def seeded(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.fixture(scope="module")
def transition_pipe():
    return tiny_wan_pipeline(TransitionWanPipeline)


# -- the seam ---------------------------------------------------------------------------------------


def test_flow_backbone_noises_like_the_flow_schedulers_scale_noise():
    pipe = tiny_wan_pipeline()
    backbone = backbone_of(pipe)
    assert isinstance(backbone, FlowBackbone)
    pipe.scheduler.set_timesteps(5)
    clean, noise = torch.randn(1, 16, 3, 2, 2), torch.randn(1, 16, 3, 2, 2)
    for t in pipe.scheduler.timesteps:
        expected = pipe.scheduler.scale_noise(clean, t[None], noise)
        torch.testing.assert_close(backbone.add_noise(clean, noise, t), expected, atol=1e-6, rtol=0)


def test_flow_clean_estimate_by_hand():
    backbone = FlowBackbone(num_train_timesteps=1000, latents_mean=torch.zeros(1), latents_std=torch.ones(1))
    x0, eps = torch.tensor([2.0]), torch.tensor([-1.0])
    x_t = backbone.add_noise(x0, eps, 250)  # σ = 0.25: 0.75·2 + 0.25·(-1) = 1.25
    torch.testing.assert_close(x_t, torch.tensor([1.25]))
    velocity = eps - x0  # what a perfect flow model predicts
    torch.testing.assert_close(backbone.clean_estimate(x_t, velocity, 250), x0)
    torch.testing.assert_close(backbone.noise_estimate(x_t, velocity, 250), eps)
    torch.testing.assert_close(backbone.with_clean_estimate(x_t, x0, 250), velocity)


def test_flow_latent_normalisation_inverts_the_wan_decode_formula():
    pipe = tiny_wan_pipeline()
    backbone = backbone_of(pipe)
    normalised = torch.randn(1, 16, 2, 2, 2)
    # diffusers' WanPipeline before decoding: latents / (1 / std) + mean
    std = torch.tensor(pipe.vae.config.latents_std).view(1, -1, 1, 1, 1)
    mean = torch.tensor(pipe.vae.config.latents_mean).view(1, -1, 1, 1, 1)
    torch.testing.assert_close(backbone.denormalise(normalised), normalised / (1.0 / std) + mean)
    torch.testing.assert_close(backbone.normalise(backbone.denormalise(normalised)), normalised, atol=1e-5, rtol=0)


def test_causal_frame_chunks():
    backbone = FlowBackbone(1000, torch.zeros(16), torch.ones(16), temporal_factor=4)
    assert [backbone.latent_frame_of(k) for k in range(9)] == [0, 1, 1, 1, 1, 2, 2, 2, 2]
    assert backbone.num_latent_frames(81) == 21 and backbone.num_latent_frames(9) == 3
    assert list(backbone.pixel_frames_of(0)) == [0] and list(backbone.pixel_frames_of(2)) == [5, 6, 7, 8]
    assert [UNetBackbone.latent_frame_of(k) for k in range(3)] == [0, 1, 2]


# -- generation ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("two_experts", [False, True])
def test_t2v_wan_pipeline_and_the_shared_loop_equal_stock_wan(two_experts):
    stock = tiny_wan_pipeline(two_experts=two_experts)
    expected = stock("a red ball", output_type="np", **tiny_call_kwargs()).frames[0]
    ours = tiny_wan_pipeline(T2VWanPipeline, two_experts=two_experts)
    np.testing.assert_array_equal(ours("a red ball", output_type="np", **tiny_call_kwargs()).frames[0], expected)
    shared = tiny_wan_pipeline(TransitionWanPipeline, two_experts=two_experts)
    frames = shared.generate_with_given("a red ball", NUM_FRAMES, num_inference_steps=2, guidance_scale=5.0,
                                        generator=seeded())
    np.testing.assert_allclose(frames, np.rint(expected * 255), atol=1)


@pytest.mark.parametrize("kwargs, message", [
    ({"num_frames": 8}, "num_frames must be 4k\\+1"),
    ({"height": 24}, "height must be a positive multiple of 16"),
    ({"width": 20}, "width must be a positive multiple of 16"),
])
def test_wan_shape_rules_are_checked_up_front(kwargs, message):
    pipe = tiny_wan_pipeline(T2VWanPipeline)
    with pytest.raises(ValueError, match=message):
        pipe("a red ball", **tiny_call_kwargs(**kwargs))


# -- time-varying prompts ------------------------------------------------------------------------------


def test_one_prompt_in_every_latent_frame_is_the_stock_transformer_output():
    pipe = tiny_wan_pipeline(T2VWanPipeline)
    embeds, _ = pipe.encode_prompt("a red ball", do_classifier_free_guidance=False, max_sequence_length=16)
    latents, t = torch.randn(1, 16, 3, 2, 2, generator=seeded()), torch.tensor([500.0])
    stock = pipe.transformer(latents, t, embeds, return_dict=False)[0]
    with per_frame_text_attention(pipe.transformer, 3):
        per_frame = pipe.transformer(latents, t, embeds.repeat(1, 3, 1), return_dict=False)[0]
    torch.testing.assert_close(per_frame, stock, atol=1e-5, rtol=1e-5)
    assert not any(isinstance(b.attn2.processor, PerFrameTextAttnProcessor) for b in pipe.transformer.blocks)


def test_each_latent_frame_attends_to_its_own_prompt():
    """Block 0's text attention: frame j's tokens under per-frame prompts equal the stock attention of those
    tokens to prompt j alone."""
    pipe = tiny_wan_pipeline(T2VWanPipeline)
    texts = ["a red ball", "a blue square", "a green triangle"]
    embeds, _ = pipe.encode_prompt(texts, do_classifier_free_guidance=False, max_sequence_length=16)
    projected = pipe.transformer.condition_embedder.text_embedder(embeds)  # (3, L, D)
    attn = pipe.transformer.blocks[0].attn2
    tokens = torch.randn(1, 3 * 4, projected.shape[-1], generator=seeded())
    stock = [attn(tokens[:, 4 * j: 4 * (j + 1)], projected[j: j + 1]) for j in range(3)]
    with per_frame_text_attention(pipe.transformer, 3):
        joint = attn(tokens, projected.reshape(1, -1, projected.shape[-1]))
    torch.testing.assert_close(joint, torch.cat(stock, dim=1), atol=1e-5, rtol=1e-5)


def test_keyed_prompts_that_differ_change_the_video_and_keys_of_one_text_do_not(transition_pipe):
    base = transition_pipe.generate_with_given("a red ball", NUM_FRAMES, num_inference_steps=2, generator=seeded())
    same = transition_pipe.generate_with_given({0: "a red ball", 8: "a red ball"}, NUM_FRAMES, num_inference_steps=2,
                                               generator=seeded())
    embeds = transition_pipe.encode_time_varying_prompt({0: "a red ball", 8: "a blue square"}, NUM_FRAMES,
                                                        torch.device("cpu"), True)
    np.testing.assert_array_equal(same, base)
    assert embeds.shape[:2] == (2, 3)  # negative and positive, three latent frames
    assert not torch.equal(embeds[1, 0], embeds[1, 2]) and torch.equal(embeds[0, 0], embeds[0, 2])


# -- given frames: keyframes, transitions, continuation --------------------------------------------------


def test_keyframes_at_first_middle_and_last_index_are_pinned_a_chunk_at_a_time(transition_pipe):
    rng = np.random.default_rng(0)
    keys = rng.integers(0, 256, (3, 16, 16, 3), dtype=np.uint8)
    record: dict = {}
    frames = transition_pipe.generate_with_given("a red ball", NUM_FRAMES, keys, [0, 4, 8], num_inference_steps=2,
                                                 generator=seeded(), record=record)
    assert frames.shape == (NUM_FRAMES, 16, 16, 3)
    # By hand: every frame holds the nearest key (a tie goes to the earlier key), and that video is encoded
    # whole by the causal VAE; the chunks 0 | 1-4 | 5-8 each hold a key, so all three are pinned.
    held = keys[[0, 0, 0, 1, 1, 1, 1, 2, 2]]
    pixels = torch.from_numpy(held).permute(3, 0, 1, 2)[None].float() / 127.5 - 1
    encoded = transition_pipe.backbone.normalise(transition_pipe.vae.encode(pixels).latent_dist.mode())
    placed, mask = transition_pipe.encode_given(keys, [0, 4, 8], NUM_FRAMES, record["latents"])
    assert mask.flatten().tolist() == [True, True, True]
    torch.testing.assert_close(placed, encoded, atol=1e-5, rtol=0)
    torch.testing.assert_close(record["latents"], encoded, atol=1e-5, rtol=0)  # the final latents hold them
    # frame 0 decodes from latent frame 0 alone: it is the VAE's own reconstruction of the first key
    reconstruction = transition_pipe.vae.decode(transition_pipe.backbone.denormalise(encoded)).sample
    expected_first = np.rint(((reconstruction[0, :, 0].permute(1, 2, 0).clamp(-1, 1) + 1) / 2 * 255).detach().numpy())
    np.testing.assert_allclose(frames[0], expected_first, atol=1)


def test_a_middle_keyframe_alone_leaves_the_other_chunks_free(transition_pipe):
    key = np.full((1, 16, 16, 3), 200, dtype=np.uint8)
    record: dict = {}
    transition_pipe.generate_with_given("a red ball", NUM_FRAMES, key, [6], num_inference_steps=2, generator=seeded(),
                                        record=record)
    placed, mask = transition_pipe.encode_given(key, [6], NUM_FRAMES, record["latents"])
    assert mask.flatten().tolist() == [False, False, True]
    torch.testing.assert_close(record["latents"][:, :, 2], placed[:, :, 2], atol=1e-6, rtol=0)
    assert not torch.allclose(record["latents"][:, :, 0], placed[:, :, 0], atol=1e-3)


def test_a_transition_bridges_two_clips(transition_pipe):
    a = np.zeros((4, 16, 16, 3), dtype=np.uint8)
    b = np.full((4, 16, 16, 3), 255, dtype=np.uint8)
    out = transition_pipe(mode="transition", clip_a=a, clip_b=b, prompt_a="a red ball", prompt_b="a blue square",
                          num_inference_steps=2, generator=seeded())
    assert out.frames.shape == (1, NUM_FRAMES - 2, 16, 16, 3)
    with pytest.raises(ValueError, match="num_frames must be one of 3, 7 .*got 5"):
        transition_pipe(mode="transition", clip_a=a, clip_b=b, prompt_a="a", prompt_b="b", num_frames=5,
                        num_inference_steps=2)


def one_frame_bridge(grey: int) -> dict:
    """The arguments of a 7-frame bridge from one black frame to one of ``grey``."""
    return {"clip_a": np.zeros((1, 16, 16, 3), dtype=np.uint8), "clip_b": np.full((1, 16, 16, 3), grey, np.uint8),
            "prompt_a": "a red ball", "prompt_b": "a blue square", "num_frames": 7, "num_inference_steps": 2}


def test_a_wan_bridge_is_unguided_by_default_and_takes_a_guide(transition_pipe):
    """Wan's default is no guide; a guide held for every step gives the dissolve's latents back, a latent
    frame (a chunk of four frames) at a time."""
    args = one_frame_bridge(255)
    default = transition_pipe(mode="transition", generator=seeded(), **args).frames
    unguided = transition_pipe(mode="transition", guide_strength=None, generator=seeded(), **args).frames
    np.testing.assert_array_equal(default, unguided)
    held = [transition_pipe(mode="transition", guide_strength=(0.0, 0.0), generator=seeded(seed), **args).frames
            for seed in (0, 1)]
    np.testing.assert_allclose(held[0], held[1], atol=1e-6)  # nothing left to the noise
    assert not np.allclose(held[0], unguided, atol=1e-3)


def test_a_wan_bridge_is_unmixed_by_default_and_takes_a_share(transition_pipe):
    """Mixed over the dissolve with share 0, a Wan bridge is the dissolve itself (the VAE passes go through
    Wan's video VAE); the default shows the model's frames."""
    args = one_frame_bridge(240)
    default = transition_pipe(mode="transition", generator=seeded(), **args).frames
    unmixed = transition_pipe(mode="transition", generated_share=None, generator=seeded(), **args).frames
    np.testing.assert_array_equal(default, unmixed)
    for share, guide in ((0.0, None), (0.5, (0.0, 0.0))):  # nothing of the model's; the model held to the dissolve
        dissolve = transition_pipe(mode="transition", generated_share=share, guide_strength=guide, generator=seeded(),
                                   **args).frames[0]
        np.testing.assert_allclose(dissolve[:, 0, 0, 0] * 255, 30 * np.arange(1, 8), atol=0.5 + 1e-6)  # 240·k/8


def test_continuation_runs_past_the_models_length(transition_pipe):
    clip = np.random.default_rng(1).integers(0, 256, (5, 16, 16, 3), dtype=np.uint8)
    out = transition_pipe(mode="continue", clip=clip, prompt="a red ball", num_frames=12, num_inference_steps=2,
                          generator=seeded())
    assert out.frames.shape == (1, 12, 16, 16, 3)


# -- stories ------------------------------------------------------------------------------------------------


def two_scene_script(seed: int = 7) -> Script:
    ball = Entity(name="ball", description="a big red ball")
    return Script(entities=[ball], seed=seed, scenes=[
        Scene(prompt="a big red ball moving right", entities=["ball"], frames=NUM_FRAMES),
        Scene(prompt="a big red ball bouncing", entities=["ball"], frames=NUM_FRAMES),
    ])


@pytest.mark.parametrize("two_experts", [False, True])
def test_a_two_scene_story_on_wan(two_experts):
    pipe = tiny_wan_pipeline(MultiSceneWanPipeline, two_experts=two_experts)
    on = pipe(two_scene_script(), num_inference_steps=2, continuity=ContinuityConfig(structure_guidance=0.0))
    off = pipe(two_scene_script(), num_inference_steps=2, continuity=ContinuityConfig.off())
    assert on.frames.shape == (1, 2 * NUM_FRAMES, 16, 16, 3) and len(on.clips) == 2
    np.testing.assert_array_equal(on.clips[0], off.clips[0])  # boundary noise acts on the second scene only
    guided = pipe(two_scene_script(), num_inference_steps=2)  # the default adds structure guidance
    assert not np.array_equal(guided.clips[1], on.clips[1])
    assert not np.array_equal(on.clips[1], off.clips[1])
    # continuity off is the stock pipeline, scene by scene
    stock = tiny_wan_pipeline(two_experts=two_experts)
    scene = off.script.scenes[1]
    expected = stock(scene.prompt, output_type="np", **tiny_call_kwargs(guidance_scale=pipe.default_guidance_scale,
                                                                         generator=seeded(scene.seed))).frames[0]
    np.testing.assert_allclose(off.clips[1], expected, atol=1 / 255 + 1e-6)


def test_a_wan_story_with_transitions_puts_a_bridge_between_the_scenes():
    pipe = tiny_wan_pipeline(MultiSceneWanPipeline)
    out = pipe(two_scene_script(), num_inference_steps=2, transitions=True, transition_frames=3)
    assert len(out.clips) == 2 and len(out.transitions) == 1 and out.transitions[0].shape == (3, 16, 16, 3)
    assert out.frames.shape == (1, 2 * NUM_FRAMES + 3, 16, 16, 3)


def test_story_refusals_on_wan():
    """Each refused before any scene is made."""
    pipe = tiny_wan_pipeline(MultiSceneWanPipeline)
    with pytest.raises(ValueError, match="transition_frames must be one of 3, 7 .*got 4"):
        pipe(two_scene_script(), num_inference_steps=2, transitions=True, transition_frames=4)
    with pytest.raises(ValueError, match="height must be a multiple of 16"):
        pipe(two_scene_script(), num_inference_steps=2, height=24)
    with pytest.raises(ValueError, match="inversion"):
        pipe(two_scene_script(), num_inference_steps=2, continuity=ContinuityConfig(noise_init="inversion"))
    script = two_scene_script()
    script.scenes[0].frames = 8
    with pytest.raises(ValueError, match="scenes\\[0\\].frames"):
        pipe(script, num_inference_steps=2)


def test_an_expand_timesteps_model_runs_the_shared_loop_like_stock_and_takes_keyframes():
    """TI2V-5B's layout (48-channel VAE, per-token timesteps): plain generation equals stock, and given frames
    are pinned the same way."""
    from diffusers import WanPipeline

    from tests.tiny_wan import tiny_ti2v_components

    stock = WanPipeline(**tiny_ti2v_components())
    stock.set_progress_bar_config(disable=True)
    expected = stock("a red ball", output_type="np", **tiny_call_kwargs(height=32, width=32)).frames[0]
    pipe = TransitionWanPipeline(**tiny_ti2v_components(), native_num_frames=NUM_FRAMES, native_height=32,
                                 native_width=32, native_max_sequence_length=16)
    pipe.set_progress_bar_config(disable=True)
    frames = pipe.generate_with_given("a red ball", NUM_FRAMES, num_inference_steps=2, guidance_scale=5.0,
                                      generator=seeded())
    np.testing.assert_allclose(frames, np.rint(expected * 255), atol=1)
    keys = np.random.default_rng(0).integers(0, 256, (2, 32, 32, 3), dtype=np.uint8)
    record: dict = {}
    pipe.generate_with_given("a red ball", NUM_FRAMES, keys, [0, 8], num_inference_steps=2, generator=seeded(),
                             record=record)
    placed, mask = pipe.encode_given(keys, [0, 8], NUM_FRAMES, record["latents"])
    assert mask.flatten().tolist() == [True, False, True]
    torch.testing.assert_close(record["latents"][:, :, 2], placed[:, :, 2], atol=1e-6, rtol=0)


def test_flow_backbone_takes_each_steps_sigma_from_wans_unipc_schedule():
    """Wan ships UniPC with flow sigmas; it rounds timesteps to integers, so σ is the schedule's, not t / 1000."""
    from diffusers import UniPCMultistepScheduler

    pipe = tiny_wan_pipeline(T2VWanPipeline)
    pipe.scheduler = UniPCMultistepScheduler(prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=3.0)
    pipe.scheduler.set_timesteps(7)
    backbone = backbone_of(pipe)
    clean, noise = torch.randn(1, 16, 3, 2, 2), torch.randn(1, 16, 3, 2, 2)
    for t in pipe.scheduler.timesteps:
        expected = pipe.scheduler.add_noise(clean, noise, t[None])
        torch.testing.assert_close(backbone.add_noise(clean, noise, t), expected, atol=1e-6, rtol=0)
