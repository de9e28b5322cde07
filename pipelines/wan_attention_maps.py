"""Where words sit in a video, read from Wan's text cross-attention: an edit mask for VACE.

Prompt-to-Prompt's local blend reads the edited words' cross-attention maps to find where an edit may act
(:mod:`t2v.editing.blend`). On Wan the same maps come from each block's text cross-attention (``attn2``):
:class:`TextAttentionMapProcessor` wraps the processor it finds, returns that processor's output unchanged,
and adds the softmax attention of every video token to the chosen text tokens (mean over heads) to a
:class:`WordMapStore`. :func:`word_attention_mask` runs the source video, noised to a few levels, through
the transformer once per level (the conditional pass only: Wan's guidance is a separate pass, so there is
no batch half to pick) and turns the mean map into a ``{0, 255}`` pixel mask with the local blend's
thresholding.

On VACE models the control branch is given zero hints (``control_hidden_states_scale`` 0): the base
transformer then runs alone, which is the text-to-video model VACE was trained on top of.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import torch

from .backbone import FlowBackbone
from .pipeline_t2v_wan import STOCK_MAX_SEQUENCE_LENGTH as WAN_TEXT_TOKENS
from .wan_model_call import expert_for, wan_denoiser

QUERY_CHUNK_ELEMENTS = 2 ** 24  # logits held at once (queries x heads x text tokens)


def word_token_positions(tokenizer, prompt: str, words: Sequence[str], max_length: int) -> list[int]:
    """Token positions of every occurrence of ``words`` (case-insensitive, whole words) in ``prompt`` as the
    tokenizer lays it out with special tokens.

    Written for both tokenizers Wan meets: UMT5's (no begin token, ``</s>`` at the end) and BERT-style ones
    (``[CLS]`` first); words are tokenised one by one and checked against the whole prompt's tokens, so a
    tokenizer that splits differently in context fails loudly instead of pointing at the wrong tokens.
    """
    if not isinstance(prompt, str) or not prompt.strip():
        raise ValueError(f"mask_prompt must be a non-empty string, got {prompt!r}")
    if isinstance(words, str) or not words or not all(isinstance(w, str) and w.strip() for w in words):
        raise ValueError(f"mask_words must be a non-empty list of words, got {words!r}")
    ids = tokenizer(prompt, truncation=True, max_length=max_length).input_ids
    probe_full, probe_bare = tokenizer("a").input_ids, tokenizer("a", add_special_tokens=False).input_ids
    leading = next(i for i in range(len(probe_full)) if probe_full[i:i + len(probe_bare)] == probe_bare)
    trailing = len(probe_full) - len(probe_bare) - leading
    wanted = {w.strip().lower() for w in words}
    positions, position = [], leading
    for word in prompt.split():
        pieces = tokenizer(word, add_special_tokens=False).input_ids
        if position + len(pieces) > len(ids) - trailing:
            break  # truncated away
        if ids[position:position + len(pieces)] != pieces:
            raise ValueError(f"the tokenizer splits {word!r} differently inside {prompt!r}; cannot find its tokens")
        if word.lower().strip(".,;:!?") in wanted or word.lower() in wanted:
            positions.extend(range(position, position + len(pieces)))
        position += len(pieces)
    if not positions:
        raise ValueError(f"mask_words {list(words)} do not occur in mask_prompt {prompt!r}")
    return positions


class WordMapStore:
    """Running sum of per-token attention to the chosen words, ``(S,)`` over the video's tokens."""

    def __init__(self) -> None:
        self.total: torch.Tensor | None = None
        self.count = 0

    def add(self, maps: torch.Tensor) -> None:
        maps = maps.detach().float().cpu()
        self.total = maps if self.total is None else self.total + maps
        self.count += 1

    def mean(self) -> torch.Tensor:
        if self.total is None:
            raise ValueError("no attention maps were recorded")
        return self.total / self.count


def _text_projections(attn, hidden_states: torch.Tensor, text: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Queries and keys as ``WanAttnProcessor`` makes them (fused or not), heads split: ``(B, H, S, d)``."""
    query = attn.to_q(hidden_states)
    if getattr(attn, "fused_projections", False) and getattr(attn, "to_kv", None) is not None:
        key = attn.to_kv(text).chunk(2, dim=-1)[0]
    else:
        key = attn.to_k(text)
    query, key = attn.norm_q(query), attn.norm_k(key)
    return (query.unflatten(2, (attn.heads, -1)).transpose(1, 2),
            key.unflatten(2, (attn.heads, -1)).transpose(1, 2))


class TextAttentionMapProcessor:
    """Wraps a Wan ``attn2`` processor: same output, plus the attention of each video token to ``tokens``
    (summed over those tokens, mean over heads) added to ``store``."""

    def __init__(self, inner, store: WordMapStore, tokens: Sequence[int]) -> None:
        self.inner = inner
        self.store = store
        self.tokens = list(tokens)

    def __call__(self, attn, hidden_states: torch.Tensor, encoder_hidden_states: torch.Tensor | None = None,
                 attention_mask: torch.Tensor | None = None, rotary_emb=None) -> torch.Tensor:
        out = self.inner(attn, hidden_states, encoder_hidden_states, attention_mask, rotary_emb)
        text = encoder_hidden_states
        if getattr(attn, "add_k_proj", None) is not None:  # 2.1 I2V: CLIP image tokens come first
            text = text[:, text.shape[1] - WAN_TEXT_TOKENS:]
        query, key = _text_projections(attn, hidden_states, text)
        scale = 1.0 / math.sqrt(query.shape[-1])
        batch, heads, length, _ = query.shape
        chunk = max(1, QUERY_CHUNK_ELEMENTS // (batch * heads * key.shape[2]))
        parts = []
        for start in range(0, length, chunk):
            logits = (query[:, :, start:start + chunk].float() @ key.float().transpose(-1, -2)) * scale
            probs = torch.exp(logits[..., self.tokens] - logits.logsumexp(-1, keepdim=True))
            parts.append(probs.sum(-1).mean(1))  # (B, s)
        self.store.add(torch.cat(parts, dim=1)[0])
        return out


@contextmanager
def recording_word_maps(transformer, tokens: Sequence[int]) -> Iterator[WordMapStore]:
    """Install :class:`TextAttentionMapProcessor` on every block's ``attn2`` for the duration (the processors
    found are put back, also after an exception); yields the store the maps go to."""
    store = WordMapStore()
    blocks = list(transformer.blocks)
    found = [block.attn2.processor for block in blocks]
    for block, inner in zip(blocks, found, strict=True):
        block.attn2.set_processor(TextAttentionMapProcessor(inner, store, tokens))
    try:
        yield store
    finally:
        for block, inner in zip(blocks, found, strict=True):
            block.attn2.set_processor(inner)


@torch.no_grad()
def word_attention_mask(
    pipe,
    video: np.ndarray,
    prompt: str,
    words: Sequence[str],
    *,
    noise_levels: Sequence[float] = (0.5, 0.75),
    threshold: float = 0.5,
    radius: int = 1,
    dilate: int = 1,
    generator: torch.Generator | None = None,
    max_sequence_length: int = WAN_TEXT_TOKENS,
) -> np.ndarray:
    """A ``{0, 255}`` uint8 mask ``(F, H, W)`` of where ``words`` of ``prompt`` sit in ``video`` (uint8
    ``(F, H, W, 3)``, ``F = 4k+1``), white = the words' place, for a T2V or VACE Wan pipeline.

    The video's latents are noised to each of ``noise_levels`` (σ in (0, 1)) and passed through the
    transformer once with the prompt; the words' maps, averaged over blocks and levels, are thresholded per
    latent frame as the local blend does (:func:`t2v.editing.blend.blend_mask`), then spread over the pixel
    frames each latent frame holds.
    """
    from t2v.editing.blend import blend_mask, to_pixels

    denoiser = wan_denoiser(pipe)
    z_dim = int(pipe.vae.config.z_dim)
    if int(denoiser.config.in_channels) != z_dim:
        raise ValueError("word attention masks need a text-to-video or VACE Wan model (its transformer takes the "
                         f"video's latents alone); this one takes {denoiser.config.in_channels} channels")
    if not noise_levels or any(not 0.0 < float(s) < 1.0 for s in noise_levels):
        raise ValueError(f"noise_levels must be levels in (0, 1), got {noise_levels!r}")
    frames = np.asarray(video)
    device = pipe._execution_device
    tokens = word_token_positions(pipe.tokenizer, prompt, words, max_sequence_length)
    embeds, _ = pipe.encode_prompt(prompt, do_classifier_free_guidance=False, max_sequence_length=max_sequence_length,
                                   device=device)
    pixels = torch.from_numpy(frames).to(device, torch.float32).permute(3, 0, 1, 2)[None] / 127.5 - 1.0
    backbone = FlowBackbone.of(pipe)
    clean = backbone.normalise(pipe.vae.encode(pixels.to(pipe.vae.dtype)).latent_dist.mode().float())
    extra = {}
    vace_layers = getattr(denoiser.config, "vace_layers", None)
    if vace_layers is not None:  # no hints: the base transformer alone
        control = torch.zeros(1, int(denoiser.config.vace_in_channels), *clean.shape[2:], device=device,
                              dtype=denoiser.dtype)
        extra = {"control_hidden_states": control,
                 "control_hidden_states_scale": torch.zeros(len(vace_layers), device=device, dtype=denoiser.dtype)}
    level_maps = []
    for sigma in noise_levels:
        noise = torch.randn(clean.shape, generator=generator, dtype=clean.dtype).to(device)
        t = float(sigma) * backbone.num_train_timesteps
        noisy = backbone.add_noise(clean, noise, t)
        model, _ = expert_for(pipe, t)  # on 2.2 A14B the low-noise expert owns t below the boundary
        with recording_word_maps(model, tokens) as store:
            model(hidden_states=noisy.to(model.dtype), timestep=torch.tensor([t], device=device),
                  encoder_hidden_states=embeds.to(model.dtype), return_dict=False, **extra)
        level_maps.append(store.mean())
    _, patch_h, patch_w = denoiser.config.patch_size
    latent_frames, h, w = clean.shape[2], clean.shape[3] // patch_h, clean.shape[4] // patch_w
    maps = torch.stack(level_maps).mean(0).reshape(latent_frames, h, w)
    latent_mask = blend_mask(maps, threshold, radius=radius, dilate=dilate)
    height, width = frames.shape[1:3]
    per_latent = to_pixels(latent_mask, height, width)
    mask = np.zeros(frames.shape[:3], dtype=np.uint8)
    for j in range(latent_frames):
        for k in backbone.pixel_frames_of(j):
            if k < len(mask):
                mask[k] = (per_latent[j].numpy() > 0.5) * 255
    return mask
