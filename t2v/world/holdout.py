"""Attribute combinations held out of tiny-shapes' training, to measure generalisation.

Training never shows an object whose (colour, shape) or (colour, motion) pair is listed
here; the quality benchmark asks for exactly such objects.
"""

from __future__ import annotations

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
