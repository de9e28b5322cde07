"""The shapes-alignment reward's network: a per-pixel colour reader, then one colour-blind head that reads
each colour's soft mask.

The head sees only a colour's mask, never its hue, so what it learns about shape, size and count cannot
depend on colour: a colour–shape pair that training never showed (the world's held-out combinations) is read
as any other.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from t2v.world.spec import SHAPES, SIZES

from .targets import BACKGROUND_NAMES, COLOR_NAMES, MAX_COUNT


class MaskHead(nn.Module):
    """One colour's soft mask ``(N, 1, H, W)`` → count, shape and size logits."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, width, 3, stride=2, padding=1), nn.GELU(),
            nn.Conv2d(width, 2 * width, 3, padding=1), nn.GELU(),
            nn.Conv2d(2 * width, 4 * width, 3, stride=2, padding=1), nn.GELU(),
        )
        self.out = nn.Sequential(nn.Linear(8 * width + 1, 4 * width), nn.GELU(),
                                 nn.Linear(4 * width, MAX_COUNT + 1 + len(SHAPES) + len(SIZES)))

    def forward(self, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        h = self.features(mask)
        area = mask.mean(dim=(1, 2, 3)).unsqueeze(1)
        pooled = torch.cat([h.mean(dim=(2, 3)), h.amax(dim=(2, 3)), area], dim=1)
        logits = self.out(pooled)
        count, shape, size = logits.split([MAX_COUNT + 1, len(SHAPES), len(SIZES)], dim=1)
        return count, shape, size


class ShapesPerception(nn.Module):
    """Frames ``(N, 3, H, W)`` in [0, 1] → colour probabilities per pixel and per-colour readings."""

    def __init__(self, width: int = 16) -> None:
        super().__init__()
        self.width = width
        classes = 1 + len(COLOR_NAMES)
        self.pixels = nn.Sequential(
            nn.Conv2d(3, 2 * width, 3, padding=1), nn.GELU(),
            nn.Conv2d(2 * width, 2 * width, 3, padding=1), nn.GELU(),
        )
        self.pixel_logits = nn.Conv2d(2 * width, classes, 1)
        self.background = nn.Linear(4 * width, len(BACKGROUND_NAMES))
        self.head = MaskHead(width)

    def forward(self, frames: torch.Tensor) -> dict[str, torch.Tensor]:
        h = self.pixels(frames * 2.0 - 1.0)
        pixel_logits = self.pixel_logits(h)
        probs = pixel_logits.softmax(dim=1)  # (N, 1 + colours, H, W)
        background_weight = probs[:, :1]
        pooled_bg = (h * background_weight).sum(dim=(2, 3)) / background_weight.sum(dim=(2, 3)).clamp_min(1e-3)
        background = self.background(torch.cat([pooled_bg, h.mean(dim=(2, 3))], dim=1))
        n, colours = frames.shape[0], len(COLOR_NAMES)
        masks = probs[:, 1:].reshape(n * colours, 1, *probs.shape[2:])
        count, shape, size = self.head(masks)
        return {
            "pixel_logits": pixel_logits,
            "masks": probs[:, 1:],
            "background": background,
            "count": count.reshape(n, colours, -1),
            "shape": shape.reshape(n, colours, -1),
            "size": size.reshape(n, colours, -1),
        }


def soft_centroids(masks: torch.Tensor) -> torch.Tensor:
    """Centre (x, y) in frame fractions of each colour's soft mask: ``(N, colours, 2)``."""
    n, c, h, w = masks.shape
    ys = (torch.arange(h, dtype=masks.dtype, device=masks.device) + 0.5) / h
    xs = (torch.arange(w, dtype=masks.dtype, device=masks.device) + 0.5) / w
    total = masks.sum(dim=(2, 3)).clamp_min(1e-3)
    cx = (masks.sum(dim=2) * xs).sum(dim=2) / total
    cy = (masks.sum(dim=3) * ys).sum(dim=2) / total
    return torch.stack([cx, cy], dim=-1)


CHECK_FLOOR = -7.0  # every log-probability a reward of this network adds up is floored here


def log_likelihoods(readings: dict[str, torch.Tensor], targets, floor: float = CHECK_FLOOR) -> torch.Tensor:
    """Per-frame log-likelihood of each check the targets ask, ``(N, checks)``, with NaN where a check does
    not apply. Checks: count of each colour; shape and size of each colour the targets show; background;
    relation. Each log-probability is floored at ``floor`` so one hopeless check cannot swamp the others."""
    count_lp = F.log_softmax(readings["count"], dim=-1).gather(-1, targets.count.unsqueeze(-1)).squeeze(-1)
    shown = targets.count > 0
    shape_lp = -F.binary_cross_entropy_with_logits(readings["shape"], targets.shapes, reduction="none").sum(-1)
    size_lp = -F.binary_cross_entropy_with_logits(readings["size"], targets.sizes, reduction="none").sum(-1)
    nan = torch.full_like(shape_lp, float("nan"))
    shape_lp = torch.where(shown, shape_lp, nan)
    size_lp = torch.where(shown & targets.size_known, size_lp, nan)
    bg_lp = F.log_softmax(readings["background"], dim=-1).gather(-1, targets.background.unsqueeze(-1))
    relation_lp = torch.full_like(bg_lp, float("nan"))
    has_relation = targets.relation[:, 0] >= 0
    if has_relation.any():
        centres = soft_centroids(readings["masks"])
        rows = torch.arange(len(centres), device=centres.device)
        a = centres[rows, targets.relation[:, 0].clamp_min(0)]
        b = centres[rows, targets.relation[:, 1].clamp_min(0)]
        code = targets.relation[:, 2].clamp_min(0)
        axis = torch.where(code < 2, 0, 1)
        sign = torch.where(code % 2 == 0, 1.0, -1.0).to(centres)  # left of / above: a's coordinate is smaller
        gap = (b.gather(1, axis.unsqueeze(1)) - a.gather(1, axis.unsqueeze(1))).squeeze(1) * sign
        relation_lp = torch.where(has_relation, F.logsigmoid(gap * 40.0), relation_lp.squeeze(1)).unsqueeze(1)
    checks = torch.cat([count_lp, shape_lp, size_lp, bg_lp, relation_lp], dim=1)
    return checks.clamp_min(floor)
