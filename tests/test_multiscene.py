"""MultiSceneAnimateDiffPipeline on tiny random models of the real architecture and on tiny-shapes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from t2v.models import load_pipeline
from t2v.pipelines import ContinuityConfig, MultiSceneAnimateDiffPipeline, T2VAnimateDiffPipeline
from t2v.story import Entity, Scene, Script


def two_scene_script(seed: int = 7) -> Script:
    ball = Entity(name="ball", description="a big red ball")
    return Script(entities=[ball], seed=seed, scenes=[
        Scene(prompt="a big red ball moving right on a black background", entities=["ball"]),
        Scene(prompt="a big red ball bouncing on a black background", entities=["ball"]),
    ])


@pytest.fixture(scope="module")
def pipe(tiny_model_dir):
    return MultiSceneAnimateDiffPipeline.from_pipe(load_pipeline(str(tiny_model_dir)))


def test_scenes_join_in_order_and_the_script_records_their_seeds(pipe):
    out = pipe(two_scene_script(), num_inference_steps=2)
    assert out.frames.shape == (1, 8, 32, 32, 3) and 0.0 <= out.frames.min() and out.frames.max() <= 1.0
    assert len(out.clips) == 2 and out.clips[0].shape == (4, 32, 32, 3)
    np.testing.assert_array_equal(out.frames[0, 4:], out.clips[1])
    seeds = [s.seed for s in out.script.scenes]
    assert None not in seeds and seeds[0] != seeds[1]


def test_the_same_seed_gives_the_same_video_and_another_seed_another(pipe):
    a = pipe(two_scene_script(seed=3), num_inference_steps=2).frames
    b = pipe(two_scene_script(seed=3), num_inference_steps=2).frames
    c = pipe(two_scene_script(seed=4), num_inference_steps=2).frames
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_without_continuity_each_scene_is_the_stock_pipeline_with_its_seed(pipe):
    """The independent baseline: continuity off must be exactly diffusers' AnimateDiff, scene by scene."""
    from diffusers import AnimateDiffPipeline

    out = pipe(two_scene_script(), num_inference_steps=3, continuity=ContinuityConfig.off())
    stock = AnimateDiffPipeline.from_pipe(pipe)
    for scene, clip in zip(out.script.scenes, out.clips, strict=True):
        ref = stock(scene.prompt, num_frames=4, num_inference_steps=3, guidance_scale=pipe.default_guidance_scale,
                    generator=torch.Generator().manual_seed(scene.seed), output_type="np").frames[0]
        np.testing.assert_allclose(clip, ref, atol=1 / 255 + 1e-6)


def test_boundary_noise_changes_the_second_scene_only(pipe):
    on = pipe(two_scene_script(), num_inference_steps=3, continuity=ContinuityConfig(structure_guidance=0.0))
    off = pipe(two_scene_script(), num_inference_steps=3, continuity=ContinuityConfig.off())
    np.testing.assert_array_equal(on.clips[0], off.clips[0])
    assert not np.array_equal(on.clips[1], off.clips[1])


def test_one_scene_regenerated_alone_matches_its_full_run(pipe, tmp_path):
    boundary = tmp_path / "story.boundary.safetensors"
    script = Script(entities=[Entity("ball", "a big red ball")], seed=11, scenes=[
        Scene(prompt=f"a big red ball {m} on a black background", entities=["ball"])
        for m in ("moving right", "bouncing", "moving up")])
    full = pipe(script, num_inference_steps=3, boundary_path=boundary)
    saved = Script.from_json(full.script.to_json())  # the script as a user would keep it
    alone = pipe(saved, num_inference_steps=3, scenes=[2], boundary_path=boundary)
    assert len(alone.clips) == 1
    np.testing.assert_allclose(alone.clips[0], full.clips[2], atol=2 / 255)
    with pytest.raises(ValueError, match="boundary_path"):
        pipe(saved, num_inference_steps=3, scenes=[2])


def test_self_check_retries_when_and_only_when_a_scene_fails(pipe):
    calls: list[str] = []

    def judge(frames: np.ndarray, prompt: str) -> float:  # fails the second scene's first try only
        calls.append(prompt)
        assert frames.dtype == np.uint8 and frames.shape == (4, 32, 32, 3)
        return 0.2 if "bouncing" in prompt and calls.count(prompt) == 1 else 0.9

    out = pipe(two_scene_script(), num_inference_steps=2, judge=judge, check=True, max_tries=3, threshold=0.5)
    first, second = out.script.scenes
    assert [t["score"] for t in first.tries] == [0.9]
    assert [t["score"] for t in second.tries] == [0.2, 0.9]
    assert second.score == 0.9 and second.seed == second.tries[1]["seed"]
    assert "tries" in out.script.to_json()


def test_self_check_keeps_the_best_try_when_none_passes(pipe):
    scores = iter([0.1, 0.3, 0.2, 0.5, 0.4, 0.45])

    out = pipe(two_scene_script(), num_inference_steps=2, judge=lambda f, p: next(scores), check=True,
               max_tries=3, threshold=0.99)
    assert [s.score for s in out.script.scenes] == [0.3, 0.5]
    assert [len(s.tries) for s in out.script.scenes] == [3, 3]
    assert out.script.scenes[0].seed == out.script.scenes[0].tries[1]["seed"]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"check": True}, "judge"),
    ({"max_tries": 0}, "max_tries"),
    ({"num_inference_steps": 0}, "num_inference_steps"),
    ({"scenes": [5]}, "scenes"),
    ({"output_type": "latent"}, "output_type"),
])
def test_bad_arguments_are_refused(pipe, kwargs, message):
    with pytest.raises(ValueError, match=message):
        pipe(two_scene_script(), **{"num_inference_steps": 2, **kwargs})




def test_clips_go_to_a_folder_as_they_finish(pipe, tmp_path):
    from t2v.video import read_video

    out = pipe(two_scene_script(), num_inference_steps=2, clips_dir=tmp_path / "clips")
    assert out.frames is None
    assert [p.name for p in out.clips] == ["scene_01.mp4", "scene_02.mp4"]
    assert read_video(out.clips[1]).shape == (4, 32, 32, 3)


def test_from_pipe_keeps_the_native_settings(tiny_model_dir):
    base = load_pipeline(str(tiny_model_dir))
    multi = MultiSceneAnimateDiffPipeline.from_pipe(base)
    assert multi.default_num_frames == 4 and multi.default_guidance_scale == 4.0
    assert isinstance(T2VAnimateDiffPipeline.from_pipe(multi), T2VAnimateDiffPipeline)


def test_a_stock_animatediff_with_a_motion_adapter_runs_a_story(tmp_path):
    from tests.tiny_models import build_sd_base_and_adapter

    base, adapter = build_sd_base_and_adapter(tmp_path)
    multi = MultiSceneAnimateDiffPipeline.from_pipe(load_pipeline(str(base), motion_adapter=str(adapter)))
    script = two_scene_script()
    for scene in script.scenes:
        scene.frames = 3
    out = multi(script, num_inference_steps=2, height=16, width=16)
    assert out.frames.shape == (1, 6, 16, 16, 3)


def test_inversion_boundary_runs_and_differs_from_the_recorded_one(pipe):
    recorded = pipe(two_scene_script(), num_inference_steps=3)
    inverted = pipe(two_scene_script(), num_inference_steps=3, continuity=ContinuityConfig(noise_init="inversion"))
    np.testing.assert_array_equal(recorded.clips[0], inverted.clips[0])
    assert not np.array_equal(recorded.clips[1], inverted.clips[1])


def ip_adapter_state_dict(unet, clip_dim: int) -> dict:
    """An IP-Adapter checkpoint (plain variant, 4 image tokens) with random weights for ``unet``, keyed as
    published checkpoints are: one to_k_ip/to_v_ip pair per spatial cross-attention layer, numbered 1, 3, 5…"""
    cross = unet.config.cross_attention_dim
    torch.manual_seed(0)
    adapter, key_id = {}, 1
    channels = list(unet.config.block_out_channels)
    for name in unet.attn_processors:
        if name.endswith("attn1.processor") or "motion_modules" in name:
            continue
        if name.startswith("mid_block"):
            hidden = channels[-1]
        elif name.startswith("up_blocks"):
            hidden = list(reversed(channels))[int(name[len("up_blocks.")])]
        else:
            hidden = channels[int(name[len("down_blocks.")])]
        adapter[f"{key_id}.to_k_ip.weight"] = torch.randn(hidden, cross) * 0.5
        adapter[f"{key_id}.to_v_ip.weight"] = torch.randn(hidden, cross) * 0.5
        key_id += 2
    image_proj = {"proj.weight": torch.randn(cross * 4, clip_dim) * 0.5, "proj.bias": torch.zeros(cross * 4),
                  "norm.weight": torch.ones(cross), "norm.bias": torch.zeros(cross)}
    return {"image_proj": image_proj, "ip_adapter": adapter}


def test_entity_reference_images_go_through_ip_adapter(tiny_model_dir, tmp_path):
    from PIL import Image
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(0)
    encoder = CLIPVisionModelWithProjection(CLIPVisionConfig(
        hidden_size=16, projection_dim=8, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
        image_size=32, patch_size=8)).eval()
    processor = CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    base = load_pipeline(str(tiny_model_dir))
    with_encoder = MultiSceneAnimateDiffPipeline.from_pipe(base, image_encoder=encoder, feature_extractor=processor)
    with_encoder.load_ip_adapter(ip_adapter_state_dict(with_encoder.unet, 8), subfolder="", weight_name="")
    Image.fromarray(np.full((32, 32, 3), (230, 120, 20), dtype=np.uint8)).save(tmp_path / "ref.png")

    plain = two_scene_script()
    referenced = two_scene_script()
    referenced.entities[0].reference_image = str(tmp_path / "ref.png")
    def final_latents(pipe, script):
        seen = []

        def keep(_pipe, i, t, tensors):
            seen.append(tensors["latents"].clone())
            return tensors

        pipe(script, num_inference_steps=2, continuity=ContinuityConfig.off(), callback_on_step_end=keep)
        return seen[-1]

    # The reference image changes the scenes; without one the loaded adapter is held at scale 0 ...
    assert (final_latents(with_encoder, plain) - final_latents(with_encoder, referenced)).abs().max() > 1e-4
    no_adapter = MultiSceneAnimateDiffPipeline.from_pipe(load_pipeline(str(tiny_model_dir)))  # its own UNet
    torch.testing.assert_close(final_latents(with_encoder, plain), final_latents(no_adapter, plain))
    # ... and a model with no image encoder (tiny-shapes' case) ignores it.
    torch.testing.assert_close(final_latents(no_adapter, referenced), final_latents(no_adapter, plain))
    # Transitions, long scenes and inversion also run with an adapter loaded (the UNet then needs image
    # embeddings on every call), and the user's per-layer scales come back afterwards.
    long = two_scene_script()
    long.scenes[1].frames = 6
    with_encoder.set_ip_adapter_scale(0.7)
    out = with_encoder(long, num_inference_steps=1, transitions=True, transition_frames=1,
                       continuity=ContinuityConfig(noise_init="inversion"))
    assert [len(c) for c in out.clips] == [4, 6] and len(out.transitions) == 1
    scales = {p.scale[0] for p in with_encoder.unet.attn_processors.values() if isinstance(getattr(p, "scale", None),
                                                                                           list)}
    assert scales == {0.7}


def test_transitions_go_between_scenes_and_leave_the_scenes_as_they_were(pipe):
    plain = pipe(two_scene_script(), num_inference_steps=2)
    bridged = pipe(two_scene_script(), num_inference_steps=2, transitions=True, transition_frames=2)
    assert len(bridged.transitions) == 1 and bridged.transitions[0].shape == (2, 32, 32, 3)
    assert bridged.frames.shape == (1, 10, 32, 32, 3)  # scene, bridge, scene
    np.testing.assert_array_equal(bridged.frames[0, :4], plain.clips[0])
    np.testing.assert_array_equal(bridged.frames[0, 4:6], bridged.transitions[0])
    np.testing.assert_array_equal(bridged.frames[0, 6:], plain.clips[1])
    dissolved = pipe(two_scene_script(), num_inference_steps=2, transitions=True, transition_frames=2,
                     transition_share=0.0).transitions[0].astype(float)  # none of the model's frames: the dissolve
    a_end, b_start = plain.clips[0][-1].astype(float), plain.clips[1][0].astype(float)
    np.testing.assert_allclose(dissolved, [(2 * a_end + b_start) / 3, (a_end + 2 * b_start) / 3], atol=0.5 + 1e-9)
    with pytest.raises(ValueError, match="transition_frames"):
        pipe(two_scene_script(), num_inference_steps=2, transitions=True, transition_frames=3)
    for bad, name in (({"transition_share": 1.5}, "transition_share"),
                      ({"transition_guide": (0, 2)}, "transition_guide"),
                      ({"transition_guide": "strong"}, "transition_guide")):
        with pytest.raises(ValueError, match=name):
            pipe(two_scene_script(), num_inference_steps=2, transitions=True, transition_frames=2, **bad)


def test_a_scene_longer_than_the_model_is_continued(pipe):
    script = two_scene_script()
    script.scenes[0].frames = 7
    out = pipe(script, num_inference_steps=2)
    assert [len(c) for c in out.clips] == [7, 4]


def test_the_shipped_model_tells_a_two_scene_story():
    """On tiny-shapes the story keeps its entity: the oracle finds the red ball in both scenes."""
    from t2v.world.facts import ObjectRef, Question
    from t2v.world.oracle import ShapesOracle

    shipped = MultiSceneAnimateDiffPipeline.from_pipe(load_pipeline("tiny-shapes"))
    out = shipped(two_scene_script(), num_inference_steps=10)
    assert out.frames.shape == (1, 16, 32, 32, 3)
    oracle = ShapesOracle()
    for clip in out.clips:
        reading = oracle.analyse(np.rint(clip * 255).astype(np.uint8))
        assert oracle.answer(reading, Question("existence", ObjectRef(color="red"))).yes, reading.to_dict()


def test_regenerating_needs_the_boundary_of_the_scene_before(pipe, tmp_path):
    boundary = tmp_path / "b.safetensors"
    script = two_scene_script()
    pipe(script, num_inference_steps=1, scenes=[0], boundary_path=boundary)  # the file holds scene 0 only
    three = Script(entities=script.entities, seed=7, scenes=[*script.scenes, Scene(prompt="a big red ball growing",
                                                                                  entities=["ball"])])
    with pytest.raises(ValueError, match=r"no boundary for scene\(s\) \[1\]"):
        pipe(three, num_inference_steps=1, scenes=[2], boundary_path=boundary)
    with pytest.raises(ValueError, match="scenes must be a list"):
        pipe(script, num_inference_steps=1, scenes=1)


def test_a_long_scene_ends_on_the_frame_its_boundary_holds(pipe, tmp_path):
    """A long scene's last window is cut to length, so the next scene (and a transition) starts from the
    frame the viewer saw last."""
    from t2v.pipelines.pipeline_multiscene import load_boundaries

    script = two_scene_script()
    script.scenes[0].frames = 6  # 4, then 2 new frames after 2 frames of context
    out = pipe(script, num_inference_steps=2, boundary_path=tmp_path / "b.safetensors")
    assert [len(c) for c in out.clips] == [6, 4]
    seen_last = np.rint(out.clips[0][-1] * 255).astype(np.uint8)
    held = pipe.boundary_frame(load_boundaries(tmp_path / "b.safetensors")[0])[0]
    assert np.abs(held.astype(int) - seen_last).max() <= 1
