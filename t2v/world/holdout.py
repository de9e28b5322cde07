"""Attribute combinations held out of tiny-shapes' training, to measure generalisation.

Training never shows an object whose (colour, shape) or (colour, motion) pair is listed
here; the quality benchmark asks for exactly such objects.
"""

from __future__ import annotations

import random
from typing import Any

from .spec import ShapeObject, WorldSpec

HELDOUT_COLOR_SHAPE: frozenset[tuple[str, str]] = frozenset(
    {("red", "triangle"), ("blue", "circle"), ("yellow", "square")}
)
HELDOUT_COLOR_MOTION: frozenset[tuple[str, str]] = frozenset(
    {("green", "left"), ("purple", "bounce"), ("orange", "up")}
)


def object_is_heldout(obj: ShapeObject) -> bool:
    return (obj.color, obj.shape) in HELDOUT_COLOR_SHAPE or (obj.color, obj.motion) in HELDOUT_COLOR_MOTION


def spec_is_heldout(spec: WorldSpec) -> bool:
    """True when any object of ``spec`` uses a held-out combination."""
    return any(object_is_heldout(o) for o in spec.objects)


def sample_training_spec(rng: random.Random, **kwargs: Any) -> WorldSpec:
    """A random scene of the training split: :func:`~t2v.world.sampling.sample_spec` (``kwargs`` go to it)
    drawn again until no object uses a held-out combination."""
    from .sampling import sample_spec

    while True:
        spec = sample_spec(rng, **kwargs)
        if not spec_is_heldout(spec):
            return spec
