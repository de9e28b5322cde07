"""Wan's native ways (FLF2V, VACE) with t2v's inputs, on tiny random Wan components of the real classes."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from PIL import Image

from t2v.pipelines import T2VWanPipeline
from t2v.pipelines.wan_attention_maps import (
    TextAttentionMapProcessor,
    recording_word_maps,
    word_attention_mask,
    word_token_positions,
)
from t2v.pipelines.wan_native import (
    VACE_FILLER,
    as_edit_mask,
    native_continuation,
    native_keyframes,
    native_transition,
    reference_edit,
    vace_edit_inputs,
    vace_keyframe_inputs,
)
from tests.tiny_wan import (
    HEIGHT,
    MAX_SEQUENCE_LENGTH,
    NUM_FRAMES,
    WIDTH,
    tiny_i2v_components,
    tiny_ti2v_components,
    tiny_vace_components,
    tiny_wan_pipeline,
)

STEPS = dict(num_inference_steps=2)


def seeded(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def frames(count: int, seed: int = 0, size: int = HEIGHT) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (count, size, size, 3), dtype=np.uint8)


class LastLatents:
    """A ``callback_on_step_end`` keeping the latents after the last step: on random tiny weights the VAE
    decodes almost any latents to the same gray, so conditioning is checked on the latents."""

    def __init__(self) -> None:
        self.latents: torch.Tensor | None = None

    def __call__(self, pipe, step: int, t, kwargs: dict) -> dict:
        self.latents = kwargs["latents"].clone()
        return {}


def build(pipeline_class, components: dict):
    pipe = pipeline_class(**components)
    pipe.set_progress_bar_config(disable=True)
    return pipe


@pytest.fixture(scope="module")
def flf2v():
    from diffusers import WanImageToVideoPipeline

    return build(WanImageToVideoPipeline, tiny_i2v_components(first_last=True))


@pytest.fixture(scope="module")
def vace():
    from diffusers import WanVACEPipeline

    return build(WanVACEPipeline, tiny_vace_components())


# -- first and last frame -------------------------------------------------------------------------------


def test_native_transition_on_flf2v_returns_num_frames(flf2v):
    first, last = frames(2)
    out = native_transition(flf2v, first, last, "a red ball", NUM_FRAMES, generator=seeded(), **STEPS)
    assert out.shape == (NUM_FRAMES, HEIGHT, WIDTH, 3) and out.dtype == np.uint8
    again = native_transition(flf2v, first, last, "a red ball", NUM_FRAMES, generator=seeded(), **STEPS)
    np.testing.assert_array_equal(out, again)
    other_end = native_transition(flf2v, first, frames(1, seed=5)[0], "a red ball", NUM_FRAMES, generator=seeded(),
                                  **STEPS)
    assert not np.array_equal(out, other_end)  # the last frame conditions the video


def test_native_transition_on_a_two_expert_i2v_model():
    from diffusers import WanImageToVideoPipeline

    pipe = build(WanImageToVideoPipeline, tiny_i2v_components(two_experts=True))
    first, last = frames(2)
    out = native_transition(pipe, first, last, "a red ball", 5, generator=seeded(), **STEPS)
    assert out.shape == (5, HEIGHT, WIDTH, 3)


def test_native_continuation_from_the_clips_last_frame(flf2v):
    out = native_continuation(_plain_i2v(), frames(3), "a red ball", NUM_FRAMES, generator=seeded(), **STEPS)
    assert out.shape == (NUM_FRAMES, HEIGHT, WIDTH, 3)
    with pytest.raises(ValueError, match="FLF2V model"):
        native_continuation(flf2v, frames(3), "a red ball", NUM_FRAMES, **STEPS)


def _ti2v_as_i2v():
    from diffusers import WanImageToVideoPipeline

    return build(WanImageToVideoPipeline, tiny_ti2v_components())


def _ti2v_as_t2v():
    return build(T2VWanPipeline, tiny_ti2v_components())


def _plain_i2v():
    from diffusers import WanImageToVideoPipeline

    return build(WanImageToVideoPipeline, tiny_i2v_components(first_last=False))


@pytest.mark.parametrize("make, message", [
    (_ti2v_as_i2v, "expand_timesteps .*ignores last_image"),
    (_ti2v_as_t2v, "expand_timesteps"),
    (lambda: tiny_wan_pipeline(), "no image conditioning"),
    (_plain_i2v, "one image only"),
])
def test_native_transition_refuses_models_that_cannot_take_a_last_frame(make, message):
    first, last = frames(2, size=32)
    with pytest.raises(ValueError, match=message):
        native_transition(make(), first, last, "a red ball", NUM_FRAMES, **STEPS)


@pytest.mark.parametrize("change, message", [
    ({"num_frames": 8}, "num_frames must be 4k\\+1"),
    ({"num_frames": 1}, "at least 5"),
    ({"first_frame": frames(1, size=24)[0], "last_frame": frames(1, size=24)[0]}, "first_frame must have height "
                                                                                  "and width divisible by 16"),
    ({"last_frame": frames(1, size=32)[0]}, "same size"),
    ({"first_frame": frames(2)}, "first_frame must be one image"),
    ({"prompt": " "}, "prompt must be a non-empty string"),
    ({"max_sequence_length": 16}, "max_sequence_length must be 512"),
])
def test_native_transition_bad_inputs(flf2v, change, message):
    first, last = frames(2)
    kwargs = dict(first_frame=first, last_frame=last, prompt="a red ball", num_frames=NUM_FRAMES, **STEPS)
    kwargs.update(change)
    with pytest.raises(ValueError, match=message):
        native_transition(flf2v, **kwargs)


# -- keyframes -----------------------------------------------------------------------------------------------


def test_vace_keyframe_video_and_mask_follow_the_spec_by_hand(vace):
    keys = frames(3)
    video, mask = vace_keyframe_inputs({0: keys[0], 4: keys[1], 8: keys[2]}, NUM_FRAMES)
    assert video.shape == mask.shape == (NUM_FRAMES, HEIGHT, WIDTH, 3)
    for index, key in zip([0, 4, 8], keys, strict=True):
        np.testing.assert_array_equal(np.rint(video[index] * 255).astype(np.uint8), key)  # pixel-exact
        assert (mask[index] == 0).all()  # black: keep
    free = [k for k in range(NUM_FRAMES) if k not in (0, 4, 8)]
    assert (mask[free] == 1).all()  # white: generate
    assert (video[free] == VACE_FILLER).all()
    # what the VACE pipeline reads from them: [-1, 1] pixels, the filler at 0, the mask in {0, 1}
    pixels, read_mask, _ = vace.preprocess_conditions(video[None], mask[None], None, 1, HEIGHT, WIDTH, NUM_FRAMES,
                                                      torch.float32, torch.device("cpu"))
    assert pixels.shape == (1, 3, NUM_FRAMES, HEIGHT, WIDTH)
    expected = torch.from_numpy(keys[1]).permute(2, 0, 1).float() / 127.5 - 1
    torch.testing.assert_close(pixels[0, :, 4], expected, atol=1e-6, rtol=0)
    assert pixels[0, :, free].abs().max() == 0
    assert read_mask[0, 0, free].min() == 1 and read_mask[0, 0, [0, 4, 8]].max() == 0


def test_native_keyframes_at_first_middle_and_last_index(vace):
    keys = frames(3)
    given, moved = LastLatents(), LastLatents()
    out = native_keyframes(vace, {0: keys[0], 4: keys[1], 8: keys[2]}, "a red ball", NUM_FRAMES, generator=seeded(),
                           max_sequence_length=MAX_SEQUENCE_LENGTH, callback_on_step_end=given, **STEPS)
    assert out.shape == (NUM_FRAMES, HEIGHT, WIDTH, 3) and out.dtype == np.uint8
    native_keyframes(vace, {0: keys[0], 4: keys[2], 8: keys[2]}, "a red ball", NUM_FRAMES, generator=seeded(),
                     max_sequence_length=MAX_SEQUENCE_LENGTH, callback_on_step_end=moved, **STEPS)
    assert not torch.allclose(given.latents, moved.latents, atol=1e-4)  # the middle keyframe conditions the video


@pytest.mark.parametrize("keyframes, num_frames, message", [
    ({}, NUM_FRAMES, "non-empty dict"),
    ({9: frames(1)[0]}, NUM_FRAMES, "indices must be integers in \\[0, 8\\]"),
    ({0: frames(1)[0], 4: frames(1, size=32)[0]}, NUM_FRAMES, "same size"),
    ({0: frames(1)[0]}, 6, "num_frames must be 4k\\+1"),
    ({0: frames(1, size=24)[0]}, NUM_FRAMES, "keyframes must have height and width divisible by 16"),
])
def test_native_keyframes_bad_inputs(vace, keyframes, num_frames, message):
    with pytest.raises(ValueError, match=message):
        native_keyframes(vace, keyframes, "a red ball", num_frames, **STEPS)


def test_vace_functions_refuse_other_pipelines(flf2v):
    with pytest.raises(ValueError, match="pipe_vace must be a WanVACEPipeline"):
        native_keyframes(flf2v, {0: frames(1)[0]}, "a red ball", NUM_FRAMES, **STEPS)


# -- reference edits ----------------------------------------------------------------------------------------


def test_edit_inputs_gray_out_the_region_and_keep_the_rest_exactly():
    video = frames(NUM_FRAMES)
    region = np.zeros((HEIGHT, WIDTH), dtype=np.uint8)
    region[4:12, 4:12] = 255
    mask = as_edit_mask(region, NUM_FRAMES, HEIGHT, WIDTH)
    vace_video, vace_mask = vace_edit_inputs(video, mask)
    assert (vace_video[:, 4:12, 4:12] == VACE_FILLER).all() and (vace_mask[:, 4:12, 4:12] == 1).all()
    outside = ~mask
    np.testing.assert_array_equal(np.rint(vace_video[outside] * 255).astype(np.uint8), video[outside])
    assert (vace_mask[outside] == 0).all()


def test_reference_edit_with_a_user_mask(vace):
    video = frames(NUM_FRAMES)
    mask = np.zeros((NUM_FRAMES, HEIGHT, WIDTH), dtype=bool)
    mask[:, :8] = True
    reference = Image.fromarray(frames(1, seed=3, size=24)[0])
    first, second = LastLatents(), LastLatents()
    out = reference_edit(vace, video, "a blue square", [reference], mask, generator=seeded(),
                         max_sequence_length=MAX_SEQUENCE_LENGTH, callback_on_step_end=first, **STEPS)
    assert out.shape == video.shape and out.dtype == np.uint8
    reference_edit(vace, video, "a blue square", [Image.fromarray(frames(1, seed=4)[0])], mask, generator=seeded(),
                   max_sequence_length=MAX_SEQUENCE_LENGTH, callback_on_step_end=second, **STEPS)
    assert first.latents.shape[2] == 1 + 3  # the reference's latent frame, then the video's three
    assert not torch.allclose(first.latents, second.latents, atol=1e-4)  # the reference conditions the edit


@pytest.mark.parametrize("change, message", [
    ({"mask": None}, "needs mask= .* or mask_words="),
    ({"mask": np.zeros((HEIGHT, WIDTH), dtype=np.uint8)}, "black everywhere"),
    ({"mask": np.ones((3, HEIGHT, WIDTH), dtype=bool)}, "mask must be .* matching the video"),
    ({"reference_images": Image.new("RGB", (16, 16))}, "reference_images must be a non-empty list"),
    ({"reference_images": ["ref.png"]}, "reference_images\\[0\\] must be a PIL image"),
    ({"video": frames(8)}, "video: num_frames must be 4k\\+1"),
    ({"mask_words": ["ball"]}, "not both"),
])
def test_reference_edit_bad_inputs(vace, change, message):
    kwargs = dict(video=frames(NUM_FRAMES), prompt="a blue square", reference_images=[Image.new("RGB", (16, 16))],
                  mask=np.ones((HEIGHT, WIDTH), dtype=bool), **STEPS)
    kwargs.update(change)
    with pytest.raises(ValueError, match=message):
        reference_edit(vace, **kwargs)


# -- word masks from text cross-attention -----------------------------------------------------------------


def test_word_token_positions_find_the_words_pieces(vace):
    tokenizer = vace.tokenizer
    positions = word_token_positions(tokenizer, "a red ball left", ["ball"], 16)
    ids = tokenizer("a red ball left").input_ids
    assert [ids[p] for p in positions] == tokenizer("ball", add_special_tokens=False).input_ids
    with pytest.raises(ValueError, match="do not occur"):
        word_token_positions(tokenizer, "a red ball", ["cube"], 16)


def test_the_map_processor_returns_the_stock_output_and_the_softmax_share_of_the_words(vace):
    transformer = vace.transformer
    attn = transformer.blocks[0].attn2
    embeds, _ = vace.encode_prompt("a red ball", do_classifier_free_guidance=False, max_sequence_length=16)
    text = transformer.condition_embedder.text_embedder(embeds)
    tokens = torch.randn(1, 12, text.shape[-1], generator=seeded())
    stock = attn(tokens, text)
    with recording_word_maps(transformer, [2, 3]) as store:
        assert isinstance(attn.processor, TextAttentionMapProcessor)
        torch.testing.assert_close(attn(tokens, text), stock)
    assert not isinstance(attn.processor, TextAttentionMapProcessor)  # restored
    query = attn.norm_q(attn.to_q(tokens)).unflatten(2, (attn.heads, -1)).transpose(1, 2)
    key = attn.norm_k(attn.to_k(text)).unflatten(2, (attn.heads, -1)).transpose(1, 2)
    probs = torch.softmax(query @ key.transpose(-1, -2) / query.shape[-1] ** 0.5, dim=-1)
    torch.testing.assert_close(store.mean(), probs[0, :, :, [2, 3]].sum(-1).mean(0), atol=1e-5, rtol=1e-5)


def test_word_attention_mask_and_an_edit_from_it(vace):
    video = frames(NUM_FRAMES, size=64)
    mask = word_attention_mask(vace, video, "a red ball", ["ball"], generator=seeded(), max_sequence_length=16)
    assert mask.shape == (NUM_FRAMES, 64, 64) and mask.dtype == np.uint8
    assert set(np.unique(mask)) <= {0, 255} and mask.any()
    # frames sharing a latent chunk share its mask
    np.testing.assert_array_equal(mask[1], mask[4])
    out = reference_edit(vace, video, "a blue square", [Image.new("RGB", (32, 32), "blue")], mask_words=["ball"],
                         mask_prompt="a red ball", generator=seeded(), max_sequence_length=16, **STEPS)
    assert out.shape == video.shape


# -- the quality benchmark's front door (it needs real weights to run) ----------------------------------------


def _wan_quality():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "wan_quality.py"
    spec = importlib.util.spec_from_file_location("wan_quality", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("argv, message", [
    (["--t2v", "/no/such/t2v", "--vace", "/no/such/vace"], "--t2v '/no/such/t2v': no such folder"),
    (["--t2v", "{tmp}", "--vace", "{tmp}"], "no model_index.json"),
    (["--t2v", "{tmp}"], "at least one native model"),
    (["--t2v", "{tmp}", "--vace", "{tmp}", "--frames", "8"], "--frames must be 4k\\+1"),
])
def test_wan_quality_refuses_missing_models_with_a_clear_message(tmp_path, capsys, argv, message):
    module = _wan_quality()
    with pytest.raises(SystemExit) as exit_info:
        module.parse_args([a.format(tmp=tmp_path) for a in argv])
    assert exit_info.value.code == 2
    assert re.search(message, capsys.readouterr().err)


def test_wan_quality_help(capsys):
    with pytest.raises(SystemExit) as exit_info:
        _wan_quality().parse_args(["--help"])
    assert exit_info.value.code == 0 and "--flf2v" in capsys.readouterr().out
