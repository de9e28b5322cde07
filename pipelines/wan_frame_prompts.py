"""Time-varying prompts on Wan: per-latent-frame text cross-attention.

Wan's transformer attends from every video token to one prompt; it has no per-frame text input. Here each
latent frame's tokens attend to their own prompt: the embeddings arrive as ``(B, F'·L, D)`` (frame-major,
``L`` text tokens per latent frame; Wan's text projection is pointwise, so it passes them through), and a
processor on each block's text cross-attention (``attn2``) folds the frames into the batch — queries
``(B·F', S, D)``, keys and values ``(B·F', L, D)`` — and calls the processor it replaced, then unfolds. With
one prompt in every frame this is exactly the stock attention. Models with image cross-attention (2.1 I2V)
are refused: their processor splits the image tokens off by position.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

from .time_varying_prompts import check_prompt_keys, interpolate_keyed


class PerFrameTextAttnProcessor:
    """Wraps a Wan cross-attention processor so each latent frame attends to its own text."""

    def __init__(self, inner, num_latent_frames: int) -> None:
        self.inner = inner
        self.num_latent_frames = num_latent_frames

    def __call__(self, attn, hidden_states: torch.Tensor, encoder_hidden_states: torch.Tensor | None = None,
                 attention_mask: torch.Tensor | None = None, rotary_emb=None) -> torch.Tensor:
        frames = self.num_latent_frames
        batch, tokens, dim = hidden_states.shape
        if tokens % frames or encoder_hidden_states.shape[1] % frames:
            raise ValueError(f"per-frame prompts: {tokens} video tokens and {encoder_hidden_states.shape[1]} text "
                             f"tokens do not split into {frames} latent frames")
        text_len = encoder_hidden_states.shape[1] // frames
        queries = hidden_states.reshape(batch * frames, tokens // frames, dim)
        texts = encoder_hidden_states.reshape(batch * frames, text_len, encoder_hidden_states.shape[-1])
        out = self.inner(attn, queries, texts, attention_mask, rotary_emb)
        return out.reshape(batch, tokens, -1)


@contextmanager
def per_frame_text_attention(transformer, num_latent_frames: int | None) -> Iterator[None]:
    """Install :class:`PerFrameTextAttnProcessor` on every block's ``attn2`` for the duration; restore the
    processors found. ``None`` installs nothing (one prompt for the whole video)."""
    if num_latent_frames is None:
        yield
        return
    blocks = list(transformer.blocks)
    if any(getattr(b.attn2, "add_k_proj", None) is not None for b in blocks):
        raise ValueError("time-varying prompts are not supported on Wan models with image cross-attention "
                         "(2.1 I2V/FLF2V): give one prompt")
    found = [b.attn2.processor for b in blocks]
    for block, inner in zip(blocks, found, strict=True):
        block.attn2.set_processor(PerFrameTextAttnProcessor(inner, num_latent_frames))
    try:
        yield
    finally:
        for block, inner in zip(blocks, found, strict=True):
            block.attn2.set_processor(inner)


class WanTimeVaryingPromptMixin:
    """``encode_time_varying_prompt`` for Wan pipelines (uses diffusers' ``WanPipeline.encode_prompt``)."""

    def encode_time_varying_prompt(
        self,
        prompt: str | dict[int, str],
        num_frames: int,
        device: torch.device,
        do_classifier_free_guidance: bool,
        negative_prompt: str | None = None,
    ) -> torch.Tensor:
        """Embeddings ``(B, L, D)`` for one prompt (the stock layout), or ``(B, F', L, D)`` per latent frame
        when the keyed prompts differ: each pixel frame's interpolated embedding, averaged over the pixel
        frames its latent frame holds. The negative half comes first under guidance."""
        keys = check_prompt_keys(prompt, num_frames)
        texts = list(dict.fromkeys(keys.values()))
        length = self.max_sequence_length
        embeds, _ = self.encode_prompt(texts, do_classifier_free_guidance=False, max_sequence_length=length,
                                       device=device)
        by_text = dict(zip(texts, embeds, strict=True))
        if len(texts) == 1:
            positive = embeds[:1]
        else:
            per_pixel = interpolate_keyed({k: by_text[text] for k, text in keys.items()}, num_frames)
            backbone = self.backbone
            per_latent = [per_pixel[list(backbone.pixel_frames_of(j))].mean(0)
                          for j in range(backbone.num_latent_frames(num_frames))]
            positive = torch.stack(per_latent)[None]
        if not do_classifier_free_guidance:
            return positive
        negative, _ = self.encode_prompt(negative_prompt or "", do_classifier_free_guidance=False,
                                         max_sequence_length=length, device=device)
        if positive.ndim == 4:
            negative = negative[:, None].expand(-1, positive.shape[1], -1, -1)
        return torch.cat([negative.to(positive.dtype), positive])
