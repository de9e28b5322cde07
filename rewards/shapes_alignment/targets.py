"""What the shapes-alignment reward checks, as tensors: per object colour, how many objects, which shapes
and sizes; the background; and a relation between two colours.

The same layout labels training frames (from the renderer's scene and coverage) and states what a prompt
asks for (from the world's parser), so the network is trained on exactly what the reward later asks of it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from t2v.world.spec import BACKGROUNDS, COLORS, SHAPES, SIZES, WorldSpec

COLOR_NAMES: tuple[str, ...] = tuple(COLORS)
BACKGROUND_NAMES: tuple[str, ...] = tuple(BACKGROUNDS)
MAX_COUNT = 2  # counts of a colour are read as 0, 1 or 2+
SCALED_MOTIONS = ("grow", "shrink")  # their apparent size changes across the clip: size is not checked


@dataclass
class Targets:
    """A batch of targets; every tensor's first dimension is the batch."""

    count: torch.Tensor  # (B, colours) long in [0, MAX_COUNT]
    shapes: torch.Tensor  # (B, colours, shapes) float multi-hot
    sizes: torch.Tensor  # (B, colours, sizes) float multi-hot
    size_known: torch.Tensor  # (B, colours) bool: the size of that colour's objects is checked
    background: torch.Tensor  # (B,) long
    relation: torch.Tensor  # (B, 3) long: colour a, colour b, axis sign code (see RELATION_CODES); -1 none

    @staticmethod
    def stack(items: list[Targets]) -> Targets:
        return Targets(*(torch.cat([getattr(t, f) for t in items]) for f in Targets.__dataclass_fields__))

    def apply(self, fn: Callable[[torch.Tensor], torch.Tensor]) -> Targets:
        """``fn`` on every tensor (an index, a device move, a repeat)."""
        return Targets(*(fn(getattr(self, f)) for f in Targets.__dataclass_fields__))

    def select(self, index: torch.Tensor | slice) -> Targets:
        """The targets of the batch rows ``index`` picks."""
        return self.apply(lambda tensor: tensor[index])

    def to(self, device: torch.device | str) -> Targets:
        return self.apply(lambda tensor: tensor.to(device))


# relation → code: 0 a left of b, 1 a right of b, 2 a above b, 3 a below b
RELATION_CODES: dict[str, int] = {"left of": 0, "right of": 1, "above": 2, "below": 3}


def targets_for(spec: WorldSpec, visible: list[bool] | None = None) -> Targets:
    """Targets of one scene; ``visible`` leaves out objects not on the frame (training labels)."""
    objects = [o for o, seen in zip(spec.objects, visible or [True] * len(spec.objects), strict=True) if seen]
    n = len(COLOR_NAMES)
    count = torch.zeros(1, n, dtype=torch.long)
    shapes = torch.zeros(1, n, len(SHAPES))
    sizes = torch.zeros(1, n, len(SIZES))
    size_known = torch.ones(1, n, dtype=torch.bool)
    for obj in objects:
        c = COLOR_NAMES.index(obj.color)
        count[0, c] = min(MAX_COUNT, int(count[0, c]) + 1)
        shapes[0, c, SHAPES.index(obj.shape)] = 1.0
        sizes[0, c, SIZES.index(obj.size)] = 1.0
        if obj.motion in SCALED_MOTIONS:
            size_known[0, c] = False
    relation = torch.full((1, 3), -1, dtype=torch.long)
    if spec.relation is not None and len(objects) == 2 and objects[0].color != objects[1].color:
        relation[0] = torch.tensor([COLOR_NAMES.index(objects[0].color), COLOR_NAMES.index(objects[1].color),
                                    RELATION_CODES[spec.relation]])
    background = torch.tensor([BACKGROUND_NAMES.index(spec.background)])
    return Targets(count, shapes, sizes, size_known, background, relation)


def pixel_labels(spec: WorldSpec, coverage: np.ndarray) -> np.ndarray:
    """Per-pixel class of each frame, ``int64 (frames, H, W)``: 0 background, 1 + colour index otherwise.

    ``coverage`` is :func:`t2v.world.render.object_coverage` of ``spec``; a pixel belongs to the object that
    covers at least half of it.
    """
    frames, _, h, w = coverage.shape
    labels = np.zeros((frames, h, w), dtype=np.int64)
    for k, obj in enumerate(spec.objects):
        labels[coverage[:, k] >= 0.5] = 1 + COLOR_NAMES.index(obj.color)
    return labels


def visible_objects(coverage: np.ndarray, min_pixels: float = 1.5) -> np.ndarray:
    """``bool (frames, objects)``: which objects show at least ``min_pixels`` pixels on each frame."""
    return coverage.sum(axis=(2, 3)) >= min_pixels
