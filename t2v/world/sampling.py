"""Place objects for a scene (canonical layout for parsed captions) and sample random scenes."""

from __future__ import annotations

import random
from dataclasses import replace

from .facts import relation_holds
from .spec import (
    BACKGROUNDS,
    BOUNCE_HEIGHT,
    CAMERAS,
    COLORS,
    MOTIONS,
    RELATIONS,
    SHAPES,
    SIZES,
    TRANSLATIONS,
    TRAVEL,
    ShapeObject,
    WorldSpec,
)

RELATION_GAP = 0.22  # half the distance between two related objects in canonical layout
RELATION_MARGIN = 0.03  # a sampled relation's axis leads the other axis by this much (frame fraction)


def _centre_for_motion(motion: str) -> tuple[float, float]:
    """Start centre that keeps the motion's path centred in the frame."""
    if motion in TRANSLATIONS:
        dx, dy = TRANSLATIONS[motion]
        return 0.5 - dx * TRAVEL / 2.0, 0.5 - dy * TRAVEL / 2.0
    if motion == "bounce":
        return 0.5, 0.5 + BOUNCE_HEIGHT / 2.0
    return 0.5, 0.5


def canonical_layout(objects: tuple[ShapeObject, ...], relation: str | None) -> tuple[ShapeObject, ...]:
    """Deterministic start positions: centred paths, related or identical objects side by side."""
    placed = [replace(o, x=_centre_for_motion(o.motion)[0], y=_centre_for_motion(o.motion)[1]) for o in objects]
    if len(placed) == 1:
        return tuple(placed)
    a, b = placed
    if relation is None:
        horizontal_motion = any(o.motion in ("left", "right") for o in placed)
        relation = "above" if horizontal_motion else "left of"
    axis_dx, axis_dy = {"left of": (-1, 0), "right of": (1, 0), "above": (0, -1), "below": (0, 1)}[relation]
    a = replace(a, x=a.x + axis_dx * RELATION_GAP, y=a.y + axis_dy * RELATION_GAP)
    b = replace(b, x=b.x - axis_dx * RELATION_GAP, y=b.y - axis_dy * RELATION_GAP)
    return a, b


def _fits(obj: ShapeObject, times: list[float], margin: float) -> bool:
    for t in times:
        cx, cy, _ = obj.state(t)
        r = obj.radius(t) * 1.35  # triangles reach furthest
        if not (r - margin <= cx <= 1 - r + margin and r - margin <= cy <= 1 - r + margin):
            return False
    return True


def _apart(a: ShapeObject, b: ShapeObject, times: list[float], gap: float) -> bool:
    for t in times:
        ax, ay, _ = a.state(t)
        bx, by, _ = b.state(t)
        if ((ax - bx) ** 2 + (ay - by) ** 2) ** 0.5 < (a.radius(t) + b.radius(t)) * 1.2 + gap:
            return False
    return True


def _clear_relation(a: ShapeObject, b: ShapeObject, relation: str, t: float) -> bool:
    """``relation`` holds at ``t`` and its axis leads the other by ``RELATION_MARGIN``, so that it
    can be seen: a pair on the diagonal would make the fact hinge on a fraction of a pixel."""
    (ax, ay), (bx, by) = a.state(t)[:2], b.state(t)[:2]
    dx, dy = abs(bx - ax), abs(by - ay)
    lead = dx - dy if relation in ("left of", "right of") else dy - dx
    return relation_holds((ax, ay), (bx, by), relation) and lead >= RELATION_MARGIN


def random_object(rng: random.Random, *, motions: tuple[str, ...] = MOTIONS) -> ShapeObject:
    return ShapeObject(
        shape=rng.choice(SHAPES),
        color=rng.choice(list(COLORS)),
        size=rng.choice(SIZES),
        motion=rng.choice(motions),
    )


def _place(rng: random.Random, obj: ShapeObject, times: list[float], margin: float) -> ShapeObject | None:
    for _ in range(50):
        moved = replace(obj, x=rng.uniform(0.05, 0.95), y=rng.uniform(0.05, 0.95))
        if _fits(moved, times, margin):
            return moved
    return None


def sample_spec(
    rng: random.Random,
    *,
    frames: int = 16,
    size: int = 64,
    fps: int = 8,
    two_objects: float = 0.35,
    identical_pair: float = 0.1,
    camera_pan: float = 0.1,
    edge_margin: float = 0.0,
    gap: float = 0.02,
) -> WorldSpec:
    """A random valid scene. Related objects keep their relation and stay apart on every frame.

    ``edge_margin`` > 0 lets shapes poke out of the frame by that fraction; ``gap`` < 0 lets
    two shapes touch or overlap slightly (hard cases for the oracle).
    """
    probe = WorldSpec(objects=(ShapeObject("circle", "red"),), frames=frames, size=size, fps=fps)
    times = probe.times()
    camera = rng.choice(CAMERAS[1:]) if rng.random() < camera_pan else "static"
    background = "checkered" if camera != "static" else rng.choice(list(BACKGROUNDS))
    # Decide the kind of scene once: re-drawing it per attempt would favour the easier kinds
    # (single objects, identical pairs) and make the others far rarer than asked.
    two = rng.random() < two_objects
    identical = two and rng.random() < identical_pair
    for _ in range(500):
        if not two:
            obj = _place(rng, random_object(rng), times, edge_margin)
            if obj is None:
                continue
            return WorldSpec((obj,), background, None, camera, frames, size, fps)
        a = random_object(rng)
        if identical:
            b, relation = replace(a), None
        else:
            b, relation = random_object(rng), rng.choice(RELATIONS)
            if (a.shape, a.color, a.size) == (b.shape, b.color, b.size):
                continue
        a, b = _place(rng, a, times, edge_margin), _place(rng, b, times, edge_margin)
        if a is None or b is None or not _apart(a, b, times, gap):
            continue
        if relation is not None and not all(_clear_relation(a, b, relation, t) for t in times):
            continue
        return WorldSpec((a, b), background, relation, camera, frames, size, fps)
    raise RuntimeError("could not sample a valid scene; loosen the constraints")
