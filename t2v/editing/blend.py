"""Local blend (Prompt-to-Prompt): where the edit may act, from the edited words' cross-attention maps.

Per frame, a word's map is noisy and a small object's map can drop out in one frame; fusing each frame's
normalised map with its neighbours' before thresholding keeps the mask on the object in every frame (the
object moves less than a latent pixel between frames at the sizes this runs at). Everything outside the
mask is copied from the source latents at each step.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _per_frame_normalised(maps: torch.Tensor) -> torch.Tensor:
    """Each frame stretched to [0, 1]. Min-max, not P2P's divide-by-peak: averaged over heads, layers and
    steps, a small model's word maps sit on a floor of ~0.3-0.4 of their peak (measured on tiny-shapes),
    which a peak-only normalisation would put above any useful threshold."""
    flat = maps.flatten(-2)
    low, high = flat.amin(-1)[..., None, None], flat.amax(-1)[..., None, None]
    return (maps - low) / (high - low).clamp_min(1e-12)


def fuse_frames(maps: torch.Tensor, radius: int = 1) -> torch.Tensor:
    """``(F, H, W)`` maps averaged with their ``radius`` neighbours on each side (triangular weights; the
    clip's ends use the neighbours they have)."""
    if radius < 0:
        raise ValueError(f"radius must be >= 0, got {radius}")
    frames = maps.shape[0]
    out = torch.zeros_like(maps)
    for f in range(frames):
        total = 0.0
        for g in range(max(0, f - radius), min(frames, f + radius + 1)):
            weight = radius + 1 - abs(g - f)
            out[f] += weight * maps[g]
            total += weight
        out[f] /= total
    return out


def blend_mask(maps: torch.Tensor, threshold: float, radius: int = 1, dilate: int = 1) -> torch.Tensor:
    """A ``{0, 1}`` mask ``(F, H, W)`` from word maps ``(F, H, W)``: each frame stretched to [0, 1],
    dilated by a ``2·dilate+1`` max-pool (as P2P does), fused across neighbouring frames, normalised again
    and thresholded.

    When the words' region (fused and thresholded, undilated) covers most of the clip, they name the
    surroundings (a background, the scene) and what the edit must keep is the rest, the object: the margin
    then goes to the kept part instead, and the mask is that region less the kept part grown by ``dilate``
    (dilating the surround would swallow a small object, and its hole would fall below the threshold)."""
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be in [0, 1], got {threshold}")
    m = _per_frame_normalised(maps.float())
    region = _per_frame_normalised(fuse_frames(m, radius)) >= threshold
    if dilate > 0 and surrounding(region):
        kept = F.max_pool2d((~region).float()[:, None], 2 * dilate + 1, stride=1, padding=dilate)[:, 0]
        mask = kept < 0.5
    elif dilate > 0:
        grown = F.max_pool2d(m[:, None], 2 * dilate + 1, stride=1, padding=dilate)[:, 0]
        mask = _per_frame_normalised(fuse_frames(grown, radius)) >= threshold
    else:
        mask = region
    return mask.to(maps.dtype)


def surrounding(mask: torch.Tensor, share: float = 0.5) -> bool:
    """Whether a region ``(F, H, W)`` covers more than ``share`` of the clip: the words name the
    surroundings rather than a thing in them."""
    return bool(mask.float().mean() > share)


def union_mask(masks: list[torch.Tensor]) -> torch.Tensor:
    """Where any of the masks is on (the old object's place and the new one's)."""
    return torch.stack(masks).amax(0)


def to_pixels(mask: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """A latent-resolution mask ``(F, h, w)`` as ``(F, height, width)`` in [0, 1] (nearest: blocky, exact)."""
    return F.interpolate(mask[:, None].float(), size=(height, width), mode="nearest")[:, 0]
