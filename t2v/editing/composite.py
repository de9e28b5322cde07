"""Putting the source's own pixels back into an edit's output, where the edit was told to keep them.

Decoding gives the VAE's reconstruction of whatever the edit kept, not the source itself: on a small VAE a
shape that is kept can come back misshapen (tiny-shapes at 32×32 reads a reconstructed small square as a cup
one time in five). Where the edit knows what it keeps, the source's pixels go back in, as diffusers'
inpainting pipelines paste the original back outside their mask:

* a local blend keeps everything outside its mask (:func:`keep_outside`);
* a change of the surroundings (a background word edited over the whole frame) keeps the subject: the cells
  the surround words' region leaves out, and in them the pixels that differ from the old surround's colour
  (:func:`keep_subject`);
* and wherever the edit moved a pixel by no more than the VAE's own error, it is the source's
  (:func:`keep_unchanged`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage

# Nouns whose modifiers describe a scene's surroundings rather than its subject.
SURROUND_NOUNS: tuple[str, ...] = (
    "background", "backdrop", "sky", "wall", "walls", "floor", "ground", "scene", "setting", "room", "field",
    "landscape", "street", "sea", "water", "beach", "forest", "grass", "snow", "desert", "city")
# Max-channel distance (0-255) from the old surround's colour: up to KEY_LOW a pixel is surround, above
# KEY_HIGH it is counted as subject; a pixel's share of subject is its distance over the subject's own.
KEY_LOW, KEY_HIGH = 24.0, 64.0
# An edit that moved a pixel by at most UNCHANGED_LOW levels left it unchanged (the VAE's error); from
# UNCHANGED_HIGH up it changed it. Chosen on the dev splits (4/12, 6/16 and 8/24 tried: README).
UNCHANGED_LOW, UNCHANGED_HIGH = 6.0, 16.0
# A surround edit keeps the subject only when this share of the subject's pixels lies in the kept cells, the
# surround covers at least SURROUND_MIN of every frame, and FLAT_SHARE of it is within KEY_LOW of one colour.
SUBJECT_INSIDE, SURROUND_MIN, FLAT_SHARE = 0.9, 0.2, 0.9


def keep_outside(edited: torch.Tensor, source: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The edited video ``(B, C, F, H, W)`` with the source's own pixels wherever the pixel mask ``(F, H, W)``
    is off, and half of each on a one-pixel rim around the mask (softening the step between the decoded cells
    and the pasted pixels)."""
    if mask.shape != edited.shape[2:] or source.shape != edited.shape:
        raise ValueError(f"mask {tuple(mask.shape)} and source {tuple(source.shape)} must match the video "
                         f"{tuple(edited.shape)} (mask: frames, height, width)")
    hard = mask.to(edited.dtype).clamp(0, 1)
    rim = F.max_pool2d(hard[:, None], 3, stride=1, padding=1)[:, 0]
    weight = torch.maximum(hard, 0.5 * rim)[None, None]
    return weight * edited + (1 - weight) * source


def names_surroundings(prompt: str, words: Sequence[str], nouns: Sequence[str] = SURROUND_NOUNS) -> bool:
    """Whether every one of ``words`` (the edited words of ``prompt``) describes its surroundings: it is a
    surround noun, or the word right after it is ("a red ball on a *black* background"). An edit that also
    changes the subject ("big" and "black") is not a change of the surroundings alone."""
    clean = lambda word: word.strip(".,;:!?\"'").lower()  # noqa: E731
    tokens = [clean(t) for t in prompt.split()]
    edited = {clean(w) for w in words} - {""}
    nouns = {n.lower() for n in nouns}
    describing = {t for i, t in enumerate(tokens)
                  if t in nouns or (i + 1 < len(tokens) and tokens[i + 1] in nouns)}
    return bool(edited) and edited <= describing


def keep_subject(edited: np.ndarray, source: np.ndarray, surround: np.ndarray) -> np.ndarray | None:
    """uint8 frames ``(F, H, W, 3)``: the edit with the source's subject put back, or None when that cannot be
    done safely (the caller then keeps the edit as it is).

    ``surround`` ``(F, H, W)`` bool marks the surround at pixel resolution (the caller leaves a margin around
    the rest). The rest holds the subject. The key needs a flat old surround: in each frame ``surround`` must
    cover at least ``SURROUND_MIN`` of the frame, and ``FLAT_SHARE`` of its source pixels must lie within
    ``KEY_LOW`` of their median colour, else None (a checkered or textured surround would come back). Then,
    in the rest, a pixel's share of subject (its alpha) is its distance from that colour over the subject's own
    typical distance (at least ``KEY_HIGH``; 0 up to ``KEY_LOW``), and the new surround is filled in from
    the nearest edited pixel outside (so a subject the edit redrew a few pixels off does not show twice); a
    mixed edge pixel trades its share of the old surround colour for the new surround's (no dark fringe on a
    light background). None too when under ``SUBJECT_INSIDE`` of the subject's pixels lie in the rest (the
    words' region did not leave room for it). A textured new surround is smeared over the margin."""
    if edited.shape != source.shape or surround.shape != edited.shape[:3]:
        raise ValueError(f"edited {edited.shape}, source {source.shape} and surround {surround.shape} must "
                         "match (surround: frames, height, width)")
    out = np.empty_like(edited)
    inside, total = 0, 0
    for f, (frame, src, around) in enumerate(zip(edited, source, surround, strict=True)):
        if around.mean() < SURROUND_MIN:
            return None
        pixels = src.astype(np.float32)
        old = np.median(pixels[around], axis=0)
        distance = np.abs(pixels - old).max(-1)
        if (distance[around] <= KEY_LOW).mean() < FLAT_SHARE:
            return None
        subject = distance > KEY_HIGH
        held = subject & ~around  # the subject's pixels in the kept cells
        inside, total = inside + int(held.sum()), total + int(subject.sum())
        full = max(KEY_HIGH, float(np.percentile(distance[held], 90))) if held.any() else KEY_HIGH
        alpha = (np.where(distance > KEY_LOW, np.clip(distance / full, 0, 1), 0.0) * ~around)[..., None]
        nearest = ndimage.distance_transform_edt(~around, return_distances=False, return_indices=True)
        new = frame[nearest[0], nearest[1]].astype(np.float32)
        # alpha·(the subject's colour) = pixel − (1 − alpha)·old, put over the new surround instead of the old
        kept = np.rint(np.clip(pixels + (1 - alpha) * (new - old), 0, 255)).astype(np.uint8)
        out[f] = np.where(around[..., None], frame, kept)
    if total == 0 or inside / total < SUBJECT_INSIDE:
        return None
    return out


def keep_unchanged(edited: torch.Tensor, source: torch.Tensor, low: float = UNCHANGED_LOW,
                   high: float = UNCHANGED_HIGH) -> torch.Tensor:
    """The edited video ``(B, C, F, H, W)`` in [-1, 1] with the source's pixel wherever the edit moved it by at
    most ``low`` levels (0-255, the largest channel), the edit's from ``high`` levels up, and a linear mix in
    between: a difference that small is the VAE's reconstruction error, not the edit (an edit that means to
    change a pixel by less is undone there)."""
    if source.shape != edited.shape:
        raise ValueError(f"source {tuple(source.shape)} must match the video {tuple(edited.shape)}")
    if not 0 <= low < high:
        raise ValueError(f"need 0 <= low < high, got low={low}, high={high}")
    moved = (edited - source).abs().amax(dim=1, keepdim=True) * 127.5
    weight = ((moved - low) / (high - low)).clamp(0, 1)
    return weight * edited + (1 - weight) * source
