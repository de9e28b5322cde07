"""Atomic facts of the shapes world: structured yes/no questions, their truth for a spec,
the true facts of a spec, and one-attribute falsifications.

The oracle answers these questions from pixels; ``truth`` answers them from the spec, so
the oracle (and every quality figure built on it) can be checked against ground truth.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from typing import Any

from .spec import (
    BACKGROUNDS,
    CAMERAS,
    COLORS,
    MOTIONS,
    NOUN_ATTRIBUTES,
    RADIUS,
    RELATIONS,
    SHAPES,
    SIZES,
    ShapeObject,
    WorldSpec,
)

KINDS: tuple[str, ...] = (
    "existence",
    "color",
    "shape",
    "size",
    "count",
    "motion",
    "relation",
    "background",
    "camera",
)
SIZE_THRESHOLD = (RADIUS["small"] + RADIUS["big"]) / 2.0  # apparent radius splitting small from big
OPPOSITE_RELATION = {"left of": "right of", "right of": "left of", "above": "below", "below": "above"}


@dataclass(frozen=True)
class ObjectRef:
    """Which objects a question is about: every given attribute must match."""

    shape: str | None = None
    color: str | None = None
    size: str | None = None

    def __post_init__(self) -> None:
        for name, value, allowed in (("shape", self.shape, SHAPES), ("color", self.color, COLORS),
                                     ("size", self.size, SIZES)):
            if value is not None and value not in allowed:
                raise ValueError(f"{name} must be one of {sorted(allowed)} or None, got {value!r}")

    def matches(self, obj: ShapeObject) -> bool:
        return (
            (self.shape is None or obj.shape == self.shape)
            and (self.color is None or obj.color == self.color)
            and (self.size is None or obj.size == self.size)
        )

    def noun(self) -> str:
        words = [w for w in (self.size, self.color) if w]
        return " ".join(words + [self.shape or "object"])

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in (("shape", self.shape), ("color", self.color), ("size", self.size)) if v}


@dataclass(frozen=True)
class Question:
    """An atomic yes/no question about a shapes-world clip.

    ``frames`` restricts it to an inclusive frame range (``(k, k)`` for "at frame k").
    """

    kind: str
    subject: ObjectRef | None = None
    value: Any = None
    other: ObjectRef | None = None
    frames: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {list(KINDS)}, got {self.kind!r}")
        allowed = {
            "color": COLORS, "shape": SHAPES, "size": SIZES, "motion": MOTIONS,
            "relation": RELATIONS, "background": BACKGROUNDS, "camera": CAMERAS,
        }.get(self.kind)
        if allowed is not None and self.value not in allowed:
            raise ValueError(f"value for a {self.kind} question must be one of {sorted(allowed)}, got {self.value!r}")
        if self.kind == "count" and (not isinstance(self.value, int) or self.value < 0):
            raise ValueError(f"value for a count question must be a non-negative integer, got {self.value!r}")
        needs_subject = self.kind not in ("background", "camera")
        if needs_subject and self.subject is None:
            raise ValueError(f"a {self.kind} question needs a subject")
        if self.kind == "relation" and self.other is None:
            raise ValueError("a relation question needs 'other'")
        if self.frames is not None:
            start, end = self.frames
            if not (isinstance(start, int) and isinstance(end, int) and 0 <= start <= end):
                raise ValueError(f"frames must be a range (start, end) with 0 <= start <= end, got {self.frames!r}")

    def text(self) -> str:
        """The question in plain English."""
        s = self.subject.noun() if self.subject else ""
        when = ""
        if self.frames is not None:
            start, end = self.frames
            when = f" at frame {start}" if start == end else f" during frames {start}-{end}"
        if self.kind == "existence":
            return f"Is there a {s}{when}?"
        if self.kind == "count":
            if self.value == 1:
                return f"Is there exactly one {s}{when}?"
            return f"Are there exactly {self.value} {s}s{when}?"
        if self.kind == "color":
            return f"Is the {s} {self.value}{when}?"
        if self.kind == "shape":
            return f"Is the {s} a {self.value}{when}?"
        if self.kind == "size":
            return f"Is the {s} {self.value}{when}?"
        if self.kind == "motion":
            phrase = {"still": "staying still", "bounce": "bouncing", "grow": "growing", "shrink": "shrinking"}
            return f"Is the {s} {phrase.get(self.value, 'moving ' + str(self.value))}{when}?"
        if self.kind == "relation":
            return f"Is the {s} {self.value} the {self.other.noun()}{when}?"
        if self.kind == "background":
            return f"Is the background {self.value}{when}?"
        return "Is the camera static?" if self.value == "static" else f"Does the camera {self.value}?"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "subject": self.subject.to_dict() if self.subject else None,
            "value": self.value,
            "other": self.other.to_dict() if self.other else None,
            "frames": list(self.frames) if self.frames else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Question:
        subject = ObjectRef(**data["subject"]) if data.get("subject") else None
        other = ObjectRef(**data["other"]) if data.get("other") else None
        frames = tuple(data["frames"]) if data.get("frames") else None
        return cls(kind=data["kind"], subject=subject, value=data.get("value"), other=other, frames=frames)


# -- truth from the spec ----------------------------------------------------------

def frame_indices(spec: WorldSpec, frames: tuple[int, int] | None) -> list[int]:
    if frames is None:
        return list(range(spec.frames))
    start, end = frames
    if end >= spec.frames:
        raise ValueError(f"frames {frames} out of range for a clip of {spec.frames} frames")
    return list(range(start, end + 1))


def relation_holds(a: tuple[float, float], b: tuple[float, float], relation: str) -> bool:
    """Whether centre ``a`` is ``relation`` centre ``b``: the dominant axis of their offset decides."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    if relation in ("left of", "right of"):
        horizontal = abs(dx) >= abs(dy)
        return horizontal and (dx > 0 if relation == "left of" else dx < 0)
    vertical = abs(dy) > abs(dx)
    return vertical and (dy > 0 if relation == "above" else dy < 0)


def _visible(obj: ShapeObject, t: float) -> bool:
    cx, cy, _ = obj.state(t)
    r = obj.radius(t)
    return -r < cx < 1 + r and -r < cy < 1 + r


def apparent_size(obj: ShapeObject, t: float) -> str:
    return "big" if obj.radius(t) >= SIZE_THRESHOLD else "small"


def truth(spec: WorldSpec, q: Question) -> bool:
    """The exact answer to ``q`` for the clip that ``spec`` renders."""
    idx = frame_indices(spec, q.frames)
    times = [spec.times()[i] for i in idx]
    if q.kind == "background":
        return spec.background == q.value
    if q.kind == "camera":
        return spec.camera == q.value
    # A nominal-size reference ("the big circle") matches the spec's size word.
    matching = [o for o in spec.objects if q.subject.matches(o)]
    if q.frames is not None:
        matching = [o for o in matching if any(_visible(o, t) for t in times)]
    if q.kind == "existence":
        return bool(matching)
    if q.kind == "count":
        return len(matching) == q.value
    if q.kind == "color":
        return any(o.color == q.value for o in matching)
    if q.kind == "shape":
        return any(o.shape == q.value for o in matching)
    if q.kind == "size":
        if q.frames is None:
            return any(o.size == q.value for o in matching)
        return any(all(apparent_size(o, t) == q.value for t in times) for o in matching)
    if q.kind == "motion":
        return any(o.motion == q.value for o in matching)
    # relation: holds on most of the frames in range
    others = [o for o in spec.objects if q.other.matches(o)]
    for a in matching:
        for b in others:
            if a is b:
                continue
            hits = sum(relation_holds(a.state(t)[:2], b.state(t)[:2], q.value) for t in times)
            if hits * 2 > len(times):
                return True
    return False


# -- the true facts of a spec ------------------------------------------------------

def unique_ref(spec: WorldSpec, obj: ShapeObject, *, exclude: str | None = None) -> ObjectRef | None:
    """The shortest reference to ``obj`` that picks it out alone, never naming ``exclude``.

    Returns None when no such reference exists (two objects alike but for ``exclude``).
    """
    candidates = [("shape",), ("color",), ("color", "shape"), ("size", "shape"), ("size", "color", "shape")]
    if exclude == "shape":
        candidates = [("color",), ("size", "color")]
    others = [o for o in spec.objects if o is not obj]
    for attrs in candidates:
        if exclude in attrs:
            continue
        ref = ObjectRef(**{a: getattr(obj, a) for a in attrs})
        if not any(ref.matches(o) for o in others):
            return ref
    return None


def attribute_ref(spec: WorldSpec, obj: ShapeObject, attr: str) -> ObjectRef:
    """How a question about ``attr`` names ``obj``: its shortest unique reference without ``attr``; when
    only ``attr`` tells it from another object, every object with its other attributes ("any of them")."""
    ref = unique_ref(spec, obj, exclude=attr)
    if ref is None:
        ref = ObjectRef(**{a: getattr(obj, a) for a in NOUN_ATTRIBUTES if a != attr})
    return ref


def spec_facts(spec: WorldSpec) -> list[Question]:
    """Every true atomic fact of ``spec``; an attribute that alone tells two objects apart is asked of both."""
    facts: list[Question] = []
    groups: dict[tuple[str, str, str], int] = {}
    for obj in spec.objects:
        key = (obj.size, obj.color, obj.shape)
        groups[key] = groups.get(key, 0) + 1
    last = spec.frames - 1
    seen_groups: set[tuple[str, str, str]] = set()
    for obj in spec.objects:
        key = (obj.size, obj.color, obj.shape)
        if key in seen_groups:
            continue
        seen_groups.add(key)
        full = ObjectRef(shape=obj.shape, color=obj.color, size=obj.size)
        facts.append(Question("existence", ObjectRef(shape=obj.shape, color=obj.color)))
        facts.append(Question("count", full, groups[key]))
        if groups[key] > 1:
            # Identical objects: ask each attribute once, of the group.
            facts.append(Question("color", ObjectRef(shape=obj.shape), obj.color))
            facts.append(Question("shape", ObjectRef(color=obj.color), obj.shape))
            facts.append(Question("size", ObjectRef(color=obj.color, shape=obj.shape), obj.size))
            facts.append(Question("motion", full, obj.motion))
            continue
        for attr in NOUN_ATTRIBUTES:
            facts.append(Question(attr, attribute_ref(spec, obj, attr), getattr(obj, attr)))
        ref = unique_ref(spec, obj)
        facts.append(Question("motion", ref, obj.motion))
        if obj.motion in ("grow", "shrink"):
            facts.append(Question("size", ref, apparent_size(obj, 0.0), frames=(0, 0)))
            facts.append(Question("size", ref, apparent_size(obj, 1.0), frames=(last, last)))
    if spec.relation is not None:
        a, b = spec.objects
        ref_a, ref_b = unique_ref(spec, a), unique_ref(spec, b)
        if ref_a is not None and ref_b is not None:
            facts.append(Question("relation", ref_a, spec.relation, ref_b))
            facts.append(Question("relation", ref_a, spec.relation, ref_b, frames=(0, 0)))
    facts.append(Question("background", value=spec.background))
    facts.append(Question("camera", value=spec.camera))
    return [q for q in facts if truth(spec, q)]


def falsify(spec: WorldSpec, q: Question, rng: random.Random) -> Question | None:
    """``q`` with one attribute changed so that it is false for ``spec``; None if none can be."""
    options: list[Question] = []
    if q.kind in ("color", "shape", "size", "motion", "background", "camera"):
        pool = {"color": COLORS, "shape": SHAPES, "size": SIZES, "motion": MOTIONS,
                "background": BACKGROUNDS, "camera": CAMERAS}[q.kind]
        options = [replace(q, value=v) for v in pool if v != q.value]
    elif q.kind == "count":
        options = [replace(q, value=v) for v in (q.value - 1, q.value + 1) if v >= 0]
    elif q.kind == "relation":
        options = [replace(q, value=v) for v in RELATIONS if v != q.value]
    elif q.kind == "existence":
        subj = q.subject
        options = [replace(q, subject=replace(subj, color=c)) for c in COLORS if c != subj.color]
        options += [replace(q, subject=replace(subj, shape=s)) for s in SHAPES if s != subj.shape]
    options = [o for o in options if not truth(spec, o)]
    return rng.choice(options) if options else None
