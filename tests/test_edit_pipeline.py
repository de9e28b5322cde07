"""EditAnimateDiffPipeline: inversion returns the source, an edit keeps the background and moves the edit with
the object, processors come back, bad input is refused by name, and the reference-image token is cached."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from t2v.pipelines import EditAnimateDiffPipeline
from t2v.world.render import render
from t2v.world.spec import ShapeObject, WorldSpec

SOURCE = "a big red circle moving left on a black background"


@pytest.fixture(scope="module")
def shapes_pipe():
    from t2v.models import load_pipeline

    pipe = EditAnimateDiffPipeline.from_pipe(load_pipeline("tiny-shapes"))
    pipe.set_progress_bar_config(disable=True)
    return pipe


@pytest.fixture(scope="module")
def test_pipe(tiny_model_dir):
    from t2v.models import load_pipeline

    pipe = EditAnimateDiffPipeline.from_pipe(load_pipeline(str(tiny_model_dir)))
    pipe.set_progress_bar_config(disable=True)
    return pipe


@pytest.fixture(scope="module")
def source_spec():
    return WorldSpec(objects=(ShapeObject("circle", "red", "big", "left", x=0.7, y=0.5),), frames=8, size=32)


def psnr(a: np.ndarray, b: np.ndarray, where: np.ndarray | None = None) -> float:
    err = (a.astype(np.float64) - b.astype(np.float64)) ** 2
    mse = err[where].mean() if where is not None else err.mean()
    return float(10 * np.log10(255.0 ** 2 / max(mse, 1e-10)))


def to_uint8(frames) -> np.ndarray:
    return np.rint(np.asarray(frames[0]) * 255).astype(np.uint8)


@torch.no_grad()
def test_inversion_then_reconstruction_returns_the_source(shapes_pipe, source_spec):
    from t2v.editing.inversion import ddim_invert
    from t2v.pipelines.backbone import UNetBackbone
    from t2v.training.common import encode_clips

    pipe = shapes_pipe
    clip = render(source_spec)
    embeds = pipe.encode_per_frame(SOURCE, 8, torch.device("cpu"))
    pipe.scheduler.set_timesteps(12)
    pipe._cross_attention_kwargs = None
    clean = encode_clips(pipe.vae, clip[None])
    path = ddim_invert(pipe.unet, UNetBackbone.of(pipe), clean, embeds, pipe.scheduler.timesteps)
    assert len(path) == 12 and path[0].std() > 0.7  # it reached noise
    latents = pipe.denoise(path[0], embeds, pipe.scheduler.timesteps, 1.0)
    video = pipe.video_processor.postprocess_video(video=pipe.decode_latents(latents, 16), output_type="np")
    assert psnr(to_uint8(video), clip) >= 25.0


def test_a_colour_edit_changes_the_object_and_keeps_the_rest(shapes_pipe, source_spec):
    from t2v.world.facts import spec_facts
    from t2v.world.oracle import ShapesOracle

    clip = render(source_spec)
    target_spec = replace(source_spec, objects=(replace(source_spec.objects[0], color="green"),))
    found = dict(shapes_pipe.unet.attn_processors)
    out = shapes_pipe(clip, SOURCE, SOURCE.replace("red", "green"), num_inference_steps=12)
    assert all(shapes_pipe.unet.attn_processors[n] is p for n, p in found.items())
    assert (out.source_words, out.target_words, out.token_mode) == (["red"], ["green"], "replace")
    edited = to_uint8(out.frames)
    answers = ShapesOracle().answer_many(edited, spec_facts(target_spec))
    assert all(a.yes for a in answers), [q.text() for q, a in zip(spec_facts(target_spec), answers, strict=True)
                                         if not a.yes]
    background = out.mask < 0.5
    assert background.mean() > 0.3 and psnr(edited, clip, background) >= 28.0
    object_pixels = np.abs(clip.astype(int) - clip[:, :1, :1].astype(int)).sum(-1) > 60
    assert out.mask[object_pixels].mean() > 0.95  # the mask holds the object in every frame


@torch.no_grad()
def test_outside_the_mask_the_source_pixels_come_back(shapes_pipe, source_spec):
    """With a local blend, pixels away from the mask are the source's own (not the VAE's reconstruction of
    them); turned off, they are the reconstruction, which differs; inside the mask both are the edit."""
    from t2v.training.common import reconstruct

    clip = render(source_spec)
    target = SOURCE.replace("red", "green")
    kept = shapes_pipe(clip, SOURCE, target, num_inference_steps=6)
    decoded = shapes_pipe(clip, SOURCE, target, num_inference_steps=6, keep_source_pixels=False)
    np.testing.assert_array_equal(kept.mask, decoded.mask)
    grown = torch.nn.functional.max_pool2d(torch.from_numpy(kept.mask)[:, None], 3, stride=1, padding=1)[:, 0]
    far, inside = grown.numpy() == 0, kept.mask == 1
    assert far.mean() > 0.3 and inside.any()
    np.testing.assert_array_equal(to_uint8(kept.frames)[far], clip[far])
    reconstruction = reconstruct(shapes_pipe.vae, clip)
    assert not np.array_equal(reconstruction[far], clip[far])
    assert np.abs(to_uint8(decoded.frames)[far].astype(int) - clip[far].astype(int)).max() > 0
    moved = np.abs(to_uint8(decoded.frames).astype(int) - clip.astype(int)).max(-1) > 17  # an edit, not VAE error
    assert (inside & moved).any()
    np.testing.assert_array_equal(to_uint8(kept.frames)[inside & moved], to_uint8(decoded.frames)[inside & moved])


@torch.no_grad()
def test_a_background_edit_keeps_the_subject_pixels_and_a_size_edit_does_not(shapes_pipe, source_spec):
    """A change of the surroundings puts the source's subject back exactly, on the new background; a size edit,
    although it also spans the whole frame (its word's map is diffuse), does not: it changes the subject."""
    from t2v.world.facts import spec_facts
    from t2v.world.oracle import ShapesOracle
    from t2v.world.spec import COLORS

    clip = render(source_spec)
    subject = np.all(clip == COLORS["red"], axis=-1)  # the circle's inside, as rendered (edges are mixed)
    assert subject.sum() > 8 * 20
    target = replace(source_spec, background="white")
    kept = shapes_pipe(clip, SOURCE, SOURCE.replace("black", "white"), num_inference_steps=12)
    decoded = shapes_pipe(clip, SOURCE, SOURCE.replace("black", "white"), num_inference_steps=12,
                          keep_source_pixels=False)
    assert kept.mask.min() == 1.0  # the whole-frame path
    edited = to_uint8(kept.frames)
    np.testing.assert_array_equal(edited[subject], clip[subject])
    assert not np.array_equal(to_uint8(decoded.frames)[subject], clip[subject])
    answers = ShapesOracle().answer_many(edited, spec_facts(target))
    assert all(a.yes for a in answers)
    size = [to_uint8(shapes_pipe(clip, SOURCE, SOURCE.replace("big", "small"), num_inference_steps=6,
                                 keep_source_pixels=keep).frames) for keep in (True, False)]
    moved = np.abs(size[1].astype(int) - clip.astype(int)).max(-1)
    assert (subject & (moved > 17)).any()  # the circle shrank: some of its pixels are now background
    np.testing.assert_array_equal(size[0][moved > 17], size[1][moved > 17])  # the edit's, not the source's
    np.testing.assert_array_equal(size[0][moved < 6], clip[moved < 6])  # within the VAE's error: the source's
    assert (moved < 6).mean() > 0.2


def test_recomputing_the_source_per_step_gives_the_edit_of_keeping_it_all(test_pipe):
    """The source's queries and keys recomputed at each controlled step from the inversion's input for that step
    are the ones the inversion would have kept: the same edit, and the control really used them (without
    the self and temporal windows the edit differs)."""
    clip = render(WorldSpec(objects=(ShapeObject("square", "blue", "big", "right", x=0.3),), frames=4, size=32))
    args = ("a blue square", "a red square")
    kwargs = {"num_inference_steps": 5, "output_type": "latent", "control_dtype": None,
              "cross_window": (0.0, 0.6), "self_window": (0.0, 0.6), "temporal_window": (0.2, 0.8)}
    kept = test_pipe(clip, *args, recompute_source=False, **kwargs).frames
    recomputed = test_pipe(clip, *args, recompute_source=True, **kwargs).frames
    torch.testing.assert_close(recomputed, kept, atol=1e-4, rtol=1e-4)
    uncontrolled = test_pipe(clip, *args, **{**kwargs, "cross_window": None, "self_window": None,
                                            "temporal_window": None}).frames
    assert (uncontrolled - kept).abs().max() > 1e-2
    wide = {**kwargs, "whole_frame_above": 0.0}  # kept from the inversion over the union, then cut to the window
    runs = [test_pipe(clip, *args, recompute_source=way, **wide) for way in (True, False)]
    assert all(run.mask.min() == 1.0 for run in runs)  # the whole-frame path was taken
    torch.testing.assert_close(runs[0].frames, runs[1].frames, atol=1e-4, rtol=1e-4)


@torch.no_grad()
def test_a_background_edit_spans_the_whole_frame(shapes_pipe, source_spec):
    """The background word's region is the surround (most of the frame), so the edit drops the local blend and
    holds the source's attention longer; an object edit keeps its blend."""
    clip = render(source_spec)
    target = SOURCE.replace("black background", "white background")
    whole = shapes_pipe(clip, SOURCE, target, num_inference_steps=6, output_type="latent")
    assert whole.mask.min() == 1.0
    blended = shapes_pipe(clip, SOURCE, target, num_inference_steps=6, output_type="latent", whole_frame_above=None)
    assert 0.5 < blended.mask.mean() < 1.0
    colour = shapes_pipe(clip, SOURCE, SOURCE.replace("red", "green"), num_inference_steps=6, output_type="latent")
    assert colour.mask.mean() < 0.5
    for bad, name in (({"whole_frame_above": 1.5}, "whole_frame_above"),
                      ({"whole_frame_above": "x"}, "whole_frame_above"),
                      ({"whole_frame_window": (0.8, 0.2)}, "whole_frame_window")):
        with pytest.raises(ValueError, match=name):
            shapes_pipe(clip, SOURCE, target, num_inference_steps=2, **bad)


def test_processors_come_back_after_an_exception_inside_the_edit(test_pipe):
    found = dict(test_pipe.unet.attn_processors)
    clip = np.zeros((4, 32, 32, 3), np.uint8)

    def fail(pipe, i, t, tensors):
        raise RuntimeError("stop at step")

    with pytest.raises(RuntimeError, match="stop at step"):
        test_pipe(clip, "a red circle", "a green circle", num_inference_steps=2, callback_on_step_end=fail)
    assert all(test_pipe.unet.attn_processors[n] is p for n, p in found.items())


def test_outputs_and_null_text(test_pipe):
    clip = render(WorldSpec(objects=(ShapeObject("square", "blue", "big", "right", x=0.3),), frames=4, size=32))
    out = test_pipe(clip, "a blue square", "a big blue square", num_inference_steps=2, null_text=True)
    assert out.frames.shape == (1, 4, 32, 32, 3)
    assert out.mask.shape == (4, 32, 32) and set(np.unique(out.mask)) <= {0.0, 1.0}
    assert out.token_mode == "refine" and out.target_words == ["big"]
    assert out.null_text_seconds > 0 and out.inversion_seconds > 0
    whole = test_pipe(clip, "a blue square", "a red square", num_inference_steps=2, blend_threshold=None,
                      output_type="latent")
    assert whole.frames.shape == (1, 4, 4, 8, 8) and whole.mask.min() == 1.0


def test_the_blend_mask_comes_from_the_source_maps_unless_asked(test_pipe):
    """By default the mask is the source words' region (recorded over the inversion); the edit's own maps,
    which drift under guidance, only join when `blend_edit_maps` is on, and stand in when the source has no
    blend words."""
    from t2v.editing.attention import EditControl, EditWindows, RecordSource
    from t2v.editing.blend import blend_mask

    source_map, edit_map = torch.zeros(4, 8, 8), torch.zeros(4, 8, 8)
    source_map[:, 2:4, 2:4] = 1.0
    edit_map[:, 5:7, 5:7] = 1.0
    record = RecordSource(2, 4, (8, 8), EditWindows(), blend_tokens=[1])
    control = EditControl(record, torch.eye(8), blend_tokens=[1], cfg=False)
    record.store.total[0], control.store.total[0] = source_map, edit_map
    record.store.count = control.store.count = 1
    expected = blend_mask(source_map, 0.3, radius=test_pipe.blend_radius, dilate=test_pipe.blend_dilate)
    assert test_pipe.blend_edit_maps is False
    torch.testing.assert_close(test_pipe.current_mask(record, control, 0.3), expected)
    assert test_pipe.current_mask(record, control, 0.3)[:, 5:7, 5:7].sum() == 0
    try:
        test_pipe.blend_edit_maps = True
        both = test_pipe.current_mask(record, control, 0.3)
    finally:
        del test_pipe.blend_edit_maps
    assert both[:, 5:7, 5:7].all() and both[:, 2:4, 2:4].all()
    record.store.count = 0  # no source words: the edit's maps make the mask
    assert test_pipe.current_mask(record, control, 0.3)[:, 5:7, 5:7].all()


def test_negative_prompt_inversion_retraces_the_source_under_guidance(test_pipe):
    """Guiding against the source prompt: where the prompts agree (here: everywhere, and no control makes the
    halves differ) the guided sampler makes what the unguided one makes, whatever the scale; guiding against
    the empty prompt does not."""
    clip = render(WorldSpec(objects=(ShapeObject("square", "blue", "big", "right", x=0.3),), frames=4, size=32))
    args = {"video": clip, "source_prompt": "a blue square", "target_prompt": "a blue square",
            "edit_words": ["blue"], "num_inference_steps": 2, "output_type": "latent", "cross_window": None,
            "self_window": None, "temporal_window": None, "blend_threshold": None}
    unguided = test_pipe(**args, guidance_scale=1.0).frames
    guided = test_pipe(**args, guidance_scale=6.0, negative_prompt_inversion=True).frames
    empty = test_pipe(**args, guidance_scale=6.0).frames  # the default: the empty prompt
    torch.testing.assert_close(guided, unguided, atol=1e-4, rtol=1e-4)
    assert (empty - unguided).abs().max() > 1e-2


@pytest.mark.parametrize(("kwargs", "name"), [
    ({"target_prompt": "a red circle"}, "nothing to edit"),
    ({"target_prompt": "  "}, "target_prompt"),
    ({"num_inference_steps": 0}, "num_inference_steps"),
    ({"blend_threshold": 2.0}, "blend_threshold"),
    ({"cross_window": (0.5, 0.2)}, "cross window"),
    ({"edit_words": ["dog"]}, "edit_words"),
    ({"word_weights": {"dog": 2.0}}, "word_weights"),
    ({"video": np.zeros((4, 30, 30, 3), np.uint8)}, "divisible"),
    ({"reference_image": np.zeros((8, 8, 3), np.uint8)}, "<ref>"),
])
def test_bad_input_is_refused_by_name(test_pipe, kwargs, name):
    args = {"video": np.zeros((4, 32, 32, 3), np.uint8), "source_prompt": "a red circle",
            "target_prompt": "a green circle", "num_inference_steps": 1, **kwargs}
    with pytest.raises(ValueError, match=name):
        test_pipe(**args)


def test_reference_token_is_learned_from_moving_crops_and_cached(test_pipe, tmp_path):
    from t2v.editing.textual_inversion import TextualInversionConfig, learn_token, moving_crops

    image = render(WorldSpec(objects=(ShapeObject("triangle", "orange", "big", "still"),), frames=2, size=64))[0]
    config = TextualInversionConfig(steps=2, batch=1, clips=4)
    clips, motions = moving_crops(image, 4, 32, 4, config, __import__("random").Random(0))
    assert clips.shape == (4, 4, 32, 32, 3) and set(motions) <= {"left", "right", "up", "down"}
    assert all(not np.array_equal(c[0], c[-1]) for c in clips)  # the crops move
    first = learn_token(test_pipe, image, config, cache_dir=tmp_path)
    (cached,) = tmp_path.glob("*.safetensors")
    written = cached.stat().st_mtime_ns
    again = learn_token(test_pipe, image, config, cache_dir=tmp_path)
    assert torch.equal(first, again) and cached.stat().st_mtime_ns == written  # read back, not refitted
    other = learn_token(test_pipe, image[::-1].copy(), config, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("*.safetensors"))) == 2 and not torch.equal(other, first)  # keyed by image
    token_id = test_pipe.tokenizer.convert_tokens_to_ids("<ref>")
    torch.testing.assert_close(test_pipe.text_encoder.get_input_embeddings().weight[token_id], other)  # the last one
    out = test_pipe(render(WorldSpec(objects=(ShapeObject("circle", "red"),), frames=4, size=32)),
                    "a red circle", "a <ref>", reference_image=image, textual_inversion_config=config,
                    cache_dir=tmp_path, num_inference_steps=2)
    assert out.target_words == ["<ref>"] and len(list(tmp_path.glob("*.safetensors"))) == 2


class CountingProcessor(torch.nn.Module):
    """A custom processor with a weight (so diffusers keeps it as a submodule): stock SDPA attention,
    counting its calls."""

    def __init__(self) -> None:
        super().__init__()
        from diffusers.models.attention_processor import AttnProcessor2_0

        self.stock = AttnProcessor2_0()
        self.gain = torch.nn.Parameter(torch.ones(()))
        self.calls = 0

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None, temb=None, **kwargs):
        self.calls += 1
        return self.stock(attn, hidden_states, encoder_hidden_states, attention_mask, temb, **kwargs) * self.gain


def test_an_edit_puts_back_the_custom_processors_it_found(test_pipe):
    unet = test_pipe.unet
    before = dict(unet.attn_processors)
    custom = {name: CountingProcessor() for name in before}
    unet.set_attn_processor(dict(custom))
    try:
        clip = np.zeros((4, 32, 32, 3), np.uint8)
        test_pipe(clip, "a red circle", "a green circle", num_inference_steps=2)
        assert all(unet.attn_processors[n] is p for n, p in custom.items())
        assert any(p.calls > 0 for p in custom.values())  # the calls the control does not take are theirs
        assert all(isinstance(unet.get_submodule(n.removesuffix(".processor")).processor, CountingProcessor)
                   for n in custom)
    finally:
        unet.set_attn_processor(before)
