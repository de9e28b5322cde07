"""Attention control for editing: roles, installation and restoration, no-op parity with stock attention,
IP-Adapter wrapping, token maps over BERT word pieces, and masks that follow a moving object."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from t2v.editing.attention import (
    ControlledProcessor,
    EditControl,
    EditWindows,
    RecordSource,
    StoreControl,
    attention_layers,
)
from t2v.editing.blend import blend_mask, fuse_frames
from t2v.editing.tokens import changed_words, token_indices, token_map, word_spans
from t2v.models.architecture import load_tokenizer


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer()


@pytest.fixture(scope="module")
def tiny_pipe(tiny_model_dir):
    from t2v.models import load_pipeline

    pipe = load_pipeline(str(tiny_model_dir))
    pipe.set_progress_bar_config(disable=True)
    return pipe


def unet_inputs(pipe, prompt: str, seed: int = 0):
    frames = pipe.default_num_frames
    generator = torch.Generator().manual_seed(seed)
    latents = torch.randn((1, 4, frames, 8, 8), generator=generator)
    embeds, _ = pipe.encode_prompt(prompt, "cpu", 1, False)
    return latents, embeds.repeat_interleave(frames, dim=0)


IDENTITY_PROMPT = "a big red circle moving left"
EVERY_STEP = EditWindows(cross=(0, 1), self_attention=(0, 1), temporal=(0, 1))


def identity_case(pipe):
    """The UNet, its inputs for ``IDENTITY_PROMPT`` and its stock output: what an edit of that prompt into
    itself must give back."""
    latents, embeds = unet_inputs(pipe, IDENTITY_PROMPT)
    return pipe.unet, latents, embeds, pipe.unet(latents, 500, encoder_hidden_states=embeds).sample


# -- roles, installation, restoration ------------------------------------------------------------------------

def test_roles_come_from_the_modules(tiny_pipe):
    layers = attention_layers(tiny_pipe.unet)
    assert set(layers) == set(tiny_pipe.unet.attn_processors)
    for name, layer in layers.items():
        if ".motion_modules." in name:
            assert layer.role == "temporal"  # a motion module's attn2 too: temporal self-attention
        elif name.endswith("attn2.processor"):
            assert layer.role == "cross" and layer.module.is_cross_attention
        else:
            assert layer.role == "self"
    assert any(n.endswith("motion_modules.0.transformer_blocks.0.attn2.processor") for n in layers)


def test_only_controlled_roles_are_wrapped_and_the_found_processors_come_back(tiny_pipe):
    unet = tiny_pipe.unet
    found = dict(unet.attn_processors)
    control = StoreControl(2, tiny_pipe.default_num_frames, (8, 8), [[1]])
    with control.installed(unet):
        during = unet.attn_processors
        for name, processor in during.items():
            if attention_layers(unet)[name].role == "cross":
                assert isinstance(processor, ControlledProcessor) and processor.original is found[name]
            else:
                assert processor is found[name]  # uncontrolled layers keep their (fused SDPA) processor
    assert all(unet.attn_processors[n] is p for n, p in found.items())


def test_the_found_processors_come_back_after_an_exception(tiny_pipe):
    unet = tiny_pipe.unet
    found = dict(unet.attn_processors)
    latents, embeds = unet_inputs(tiny_pipe, "a red circle")
    control = StoreControl(2, tiny_pipe.default_num_frames, (8, 8), [[1]])
    with pytest.raises(RuntimeError, match="boom"), control.installed(unet):
        unet(latents, 10, encoder_hidden_states=embeds)
        raise RuntimeError("boom")
    assert control.store.count > 0
    assert all(unet.attn_processors[n] is p for n, p in found.items())


# -- controls that control nothing ---------------------------------------------------------------------------

def test_storing_maps_changes_nothing(tiny_pipe):
    unet = tiny_pipe.unet
    latents, embeds = unet_inputs(tiny_pipe, "a big red circle moving left")
    stock = unet(latents, 500, encoder_hidden_states=embeds).sample
    control = StoreControl(1, tiny_pipe.default_num_frames, (8, 8), [[2], [3]])
    with control.installed(unet):
        stored = unet(latents, 500, encoder_hidden_states=embeds).sample
    cross = sum(layer.role == "cross" for layer in attention_layers(unet).values())
    assert control.store.count == cross == 7  # every cross-attention layer, explicit maps
    torch.testing.assert_close(stored, stock, atol=1e-5, rtol=1e-4)


def test_an_edit_of_a_prompt_into_itself_is_stock_attention(tiny_pipe, tokenizer):
    """Source recorded on the same latents and prompt, identity token map, every window open: every
    controlled layer swaps in maps, queries and keys equal to its own, so the output must be stock."""
    unet, latents, embeds, stock = identity_case(tiny_pipe)
    prompt = IDENTITY_PROMPT
    record = RecordSource(1, tiny_pipe.default_num_frames, (8, 8), EVERY_STEP, blend_tokens=[3])
    with record.installed(unet):
        recorded = unet(latents, 500, encoder_hidden_states=embeds).sample
    assert len(record.features) == len(attention_layers(unet)) == 28  # every layer (7 cross, 7 spatial, 14 temporal)
    mapping = token_map(tokenizer, prompt, prompt)
    edit = EditControl(record, mapping.matrix, blend_tokens=[3], cfg=False)
    with edit.installed(unet):
        edited = unet(latents, 500, encoder_hidden_states=embeds).sample
    torch.testing.assert_close(recorded, stock, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(edited, stock, atol=1e-5, rtol=1e-4)
    other, _ = unet_inputs(tiny_pipe, prompt, seed=1)
    with edit.installed(unet):  # the same control on other latents injects the recorded structure
        injected = unet(other, 500, encoder_hidden_states=embeds).sample
    assert (injected - unet(other, 500, encoder_hidden_states=embeds).sample).abs().max() > 1e-3


def test_recorded_queries_and_keys_kept_in_half_precision(tiny_pipe, tokenizer):
    """``dtype=float16``: the record holds half the bytes, and an edit of a prompt into itself from it is
    still stock attention within half precision's rounding."""
    unet, latents, embeds, stock = identity_case(tiny_pipe)
    frames = tiny_pipe.default_num_frames
    full, half = (RecordSource(1, frames, (8, 8), EVERY_STEP, dtype=dtype) for dtype in (None, torch.float16))
    for record in (full, half):
        with record.installed(unet):
            unet(latents, 500, encoder_hidden_states=embeds)
    assert all(q.dtype == k.dtype == torch.float16 for q, k in half.features.values())
    assert half.nbytes * 2 == full.nbytes
    edit = EditControl(half, token_map(tokenizer, IDENTITY_PROMPT, IDENTITY_PROMPT).matrix, cfg=False)
    with edit.installed(unet):
        edited = unet(latents, 500, encoder_hidden_states=embeds).sample
    assert edited.dtype == stock.dtype
    torch.testing.assert_close(edited, stock, atol=1e-2, rtol=1e-2)


def test_an_ip_adapter_processor_is_wrapped_not_dropped(tiny_pipe):
    from diffusers.models.attention_processor import IPAdapterAttnProcessor2_0

    layer = next(v for v in attention_layers(tiny_pipe.unet).values() if v.role == "cross")
    attn = layer.module
    torch.manual_seed(0)
    ip = IPAdapterAttnProcessor2_0(hidden_size=attn.inner_dim, cross_attention_dim=384, num_tokens=(4,), scale=1.0)
    torch.nn.init.normal_(ip.to_k_ip[0].weight, std=0.5)
    torch.nn.init.normal_(ip.to_v_ip[0].weight, std=0.5)
    frames = tiny_pipe.default_num_frames
    hidden = torch.randn(frames, 64, attn.query_dim)
    text = torch.randn(frames, 32, 384)
    image = [torch.randn(frames, 4, 384)]
    stock = ip(attn, hidden, encoder_hidden_states=(text, image))
    control = StoreControl(1, frames, (8, 8), [[1]])
    wrapped = ControlledProcessor(control, layer, ip)
    out = wrapped(attn, hidden, encoder_hidden_states=(text, image))
    torch.testing.assert_close(out, stock, atol=1e-5, rtol=1e-4)
    assert control.store.count == 1
    text_only = ip(attn, hidden, encoder_hidden_states=(text, [torch.zeros_like(image[0])]))
    assert (out - text_only).abs().max() > 1e-3  # the image term is still there


# -- token maps over BERT word pieces --------------------------------------------------------------------------

def test_word_spans_match_the_tokenizer_with_word_pieces(tokenizer):
    text = "a red square on a checkered background"
    spans = word_spans(tokenizer, text)
    ids = tokenizer(text).input_ids
    assert [s.word for s in spans] == text.split()
    checkered = spans[5]
    assert checkered.end - checkered.start == 2  # check ##ered
    assert tokenizer.convert_ids_to_tokens(ids[checkered.start:checkered.end]) == ["check", "##ered"]
    assert spans[0].start == 1 and spans[-1].end == len(ids) - 1  # [CLS] before, [SEP] after


def test_a_word_swap_with_a_different_number_of_pieces(tokenizer):
    source, target = "a red square on a checkered background", "a red square on a gray background"
    mapping = token_map(tokenizer, source, target)
    m = mapping.matrix
    assert mapping.mode == "replace"
    src, tgt = word_spans(tokenizer, source), word_spans(tokenizer, target)
    gray = tgt[5].start
    assert m[src[5].start, gray] == pytest.approx(0.5) and m[src[5].start + 1, gray] == pytest.approx(0.5)
    assert m[src[6].start, tgt[6].start] == 1  # "background" shifted by one token, still mapped to itself
    assert m[0, 0] == 1  # [CLS]
    assert m[src[-1].end, tgt[-1].end] == 1  # [SEP]
    assert m[src[-1].end + 1, tgt[-1].end + 1] == 1  # padding, counted from the end of the text
    torch.testing.assert_close(m.sum(0), torch.ones(m.shape[1]))  # every target token reads the source
    back = token_map(tokenizer, target, source).matrix
    assert back[tgt[5].start, src[5].start] == 1 and back[tgt[5].start, src[5].start + 1] == 1


def test_an_added_word_keeps_its_own_map_under_refine(tokenizer):
    source, target = "a red circle moving left", "a big red circle moving left"
    mapping = token_map(tokenizer, source, target)
    assert mapping.mode == "refine"
    src, tgt = word_spans(tokenizer, source), word_spans(tokenizer, target)
    assert mapping.mapped[tgt[1].start] == 0  # "big": no source word, its own map
    assert mapping.matrix[src[1].start, tgt[2].start] == 1  # "red" reads "red", one token later
    assert changed_words(source, target) == ([], ["big"])
    swapped = token_map(tokenizer, "a red circle", "a green circle", mode="refine")
    assert swapped.mapped[2] == 0 and swapped.mapped[3] == 1  # refine: the swapped word keeps its own map
    assert token_map(tokenizer, "a red circle", "a green circle").matrix[2, 2] == 1  # replace: it reads "red"
    assert (1, 1) in token_map(tokenizer, "a red circle", "a green circle").unchanged_tokens()


def test_a_learned_token_is_one_piece(tokenizer):
    tok = load_tokenizer()
    tok.add_tokens(["<ref>"])
    spans = word_spans(tok, "the <ref> moving left")
    assert spans[1].end - spans[1].start == 1
    assert token_indices(spans, ["<ref>"]) == [2]
    with pytest.raises(ValueError, match="mode"):
        token_map(tokenizer, "a", "b", mode="swap")


# -- masks ---------------------------------------------------------------------------------------------------

def test_fusing_frames_fills_a_frame_where_the_map_dropped_out():
    maps = torch.zeros(5, 8, 8)
    for f in range(5):
        maps[f, 3, 2 + f] = 1.0
    maps[2] = 0.05 * torch.rand(8, 8)  # the object's map lost in frame 2
    mask = blend_mask(maps, 0.3, radius=1, dilate=0)
    assert mask[2, 3, 3:6].sum() >= 1  # the neighbours' object carries over
    assert fuse_frames(maps, 0)[2].equal(maps[2])
    with pytest.raises(ValueError, match="threshold"):
        blend_mask(maps, 1.5)


def test_a_surrounding_region_keeps_the_object_with_a_margin():
    """A background word attends everywhere but the object: the mask is the surround, the object and a
    one-pixel margin around it are kept (a dilated surround would swallow a small object)."""
    maps = torch.ones(4, 8, 8)
    for f in range(4):
        maps[f, 3:5, 1 + f:3 + f] = 0.0  # a 2x2 object moving right
    mask = blend_mask(maps, 0.3, radius=1, dilate=1)
    for f in range(4):
        assert mask[f, 3:5, 1 + f:3 + f].sum() == 0  # the object is kept in every frame
        assert mask[f, 2:6, f:4 + f].sum() < mask.new_tensor(16 - 4)  # some of its margin too
    assert mask[:, 0].all() and mask[:, 7].all()  # the rest is edited
    assert mask.mean() > 0.6
    # an object's own map still gets the margin on the edited side
    obj = blend_mask(1.0 - maps, 0.3, radius=0, dilate=1)
    assert obj[0, 2:6, 0:4].all() and obj[0].sum() == 16


def test_masks_follow_a_moving_object_on_tiny_shapes():
    """Cross-attention maps of "red circle", stored during DDIM inversion of a rendered clip, give a mask
    whose centre tracks the object frame by frame."""
    from t2v.editing.inversion import ddim_invert
    from t2v.models import load_pipeline
    from t2v.pipelines.backbone import UNetBackbone
    from t2v.training.common import encode_clips
    from t2v.world.render import render
    from t2v.world.spec import ShapeObject, WorldSpec

    pipe = load_pipeline("tiny-shapes")
    spec = WorldSpec(objects=(ShapeObject("circle", "red", "small", "left", x=0.75, y=0.3),), frames=8, size=32)
    clip = render(spec)
    prompt = "a small red circle moving left on a black background"
    spans = word_spans(pipe.tokenizer, prompt)
    embeds, _ = pipe.encode_prompt(prompt, "cpu", 1, False)
    pipe.scheduler.set_timesteps(8)
    control = StoreControl(8, 8, (8, 8), [token_indices(spans, ["red", "circle"])])
    with control.installed(pipe.unet):
        ddim_invert(pipe.unet, UNetBackbone.of(pipe), encode_clips(pipe.vae, clip[None]),
                    embeds.repeat_interleave(8, dim=0), pipe.scheduler.timesteps, on_step=control.begin_step)
    mask = blend_mask(control.store.mean()[0], 0.5).numpy()
    object_pixels = np.abs(clip.astype(int) - clip[:, :1, :1].astype(int)).sum(-1) > 60
    cols = np.arange(8) * 4 + 1.5
    for f in range(8):
        mask_x = (mask[f].sum(0) * cols).sum() / mask[f].sum()
        true_x = np.nonzero(object_pixels[f])[1].mean()
        assert abs(mask_x - true_x) <= 5.0, (f, mask_x, true_x)
        assert mask[f].mean() < 0.5  # a region, not the frame
    first, last = (np.nonzero(mask[f])[1].mean() for f in (0, 7))
    assert last < first - 1.5  # it moved left with the object


def test_xformers_processors_found_are_wrapped_and_put_back(tiny_pipe):
    """Whatever the processors were (xformers' here, which needs no GPU to be installed), the control
    hands its calls to them and puts them back."""
    from diffusers.models.attention_processor import XFormersAttnProcessor

    unet = tiny_pipe.unet
    before = dict(unet.attn_processors)
    xformers = {name: XFormersAttnProcessor() for name in before}
    unet.set_attn_processor(dict(xformers))
    try:
        control = StoreControl(2, tiny_pipe.default_num_frames, (8, 8), [[1]])
        with control.installed(unet):
            for name, processor in unet.attn_processors.items():
                if attention_layers(unet)[name].role == "cross":
                    assert isinstance(processor, ControlledProcessor) and processor.original is xformers[name]
                else:
                    assert processor is xformers[name]
        assert all(unet.attn_processors[n] is p for n, p in xformers.items())
    finally:
        unet.set_attn_processor(before)


def test_the_union_of_windows_holds_both_and_keeps_a_role_that_either_has():
    a = EditWindows(cross=(0.0, 0.3), self_attention=(0.2, 0.4), temporal=None)
    b = EditWindows(cross=(0.1, 0.6), self_attention=None, temporal=(0.5, 0.9))
    joined = a.union(b)
    assert (joined.cross, joined.self_attention, joined.temporal) == ((0.0, 0.6), (0.2, 0.4), (0.5, 0.9))
