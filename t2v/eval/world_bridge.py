"""From the evaluator's questions to the shapes-world oracle's structured questions.

The question generator speaks English ("Is the ball red?", entity "ball", clip time in [0, 1]);
the oracle speaks :class:`t2v.world.facts.Question` (shape "circle", an :class:`ObjectRef`, frame
indices). This module translates one into the other:

- words map to canonical values through the caption module's lexicon (ball, disc → circle;
  crimson → red; "slides left" → motion left; "sweeps left" → camera pan left);
- the objects are rebuilt from the scene graph, so a question names its object the way
  :func:`t2v.world.facts.spec_facts` does: the shortest description that picks it out alone,
  leaving out the attribute being asked, or the group's description for identical objects;
- clip time t in [0, 1] becomes frame ``round(t * (num_frames - 1))``.

A question the shapes world cannot express (a material, a part, a tree) maps to None.
"""

from __future__ import annotations

from dataclasses import dataclass

from t2v.world.captions import LEXICON
from t2v.world.facts import ObjectRef, Question, attribute_ref, unique_ref

from .types import Entity, EvalQuestion, SceneGraph

_GROUP_REFS: dict[str, tuple[str, ...]] = {"color": ("shape",), "shape": ("color",), "size": ("color", "shape")}
_CAMERA_VERBS = frozenset({"pan", "sweep", "move"})


@dataclass(eq=False)
class _WorldObject:
    """One object of the scene as the oracle sees it (identity matters: two alike are two objects)."""

    entity: str
    shape: str
    color: str | None
    size: str | None
    motion: str | None


@dataclass
class _Scene:
    """The objects a scene graph describes, in the shape facts.unique_ref and facts.attribute_ref expect."""
    objects: list[_WorldObject]


def world_value(category: str, phrase: str) -> str | None:
    """The canonical shapes-world value of ``phrase`` in ``category`` ("crimson" → "red"), else None."""
    text = " ".join(phrase.lower().split())
    for candidate in (text, text.split()[-1] if text else ""):
        entry = LEXICON.get(candidate)
        if entry is not None and entry.category == category:
            return str(entry.value)
    return None


def world_motion(predicate: str) -> str | None:
    """The shapes-world motion of an action predicate: "move left" → left, "bounce" → bounce, "stay still"."""
    words = predicate.lower().split()
    if not words:
        return None
    whole = world_value("motion", predicate)
    if whole is not None:
        return whole
    if len(words) >= 2 and LEXICON.get(words[0]) is not None and LEXICON[words[0]].category == "move_verb":
        return world_value("direction", words[-1])
    if len(words) == 1:
        return world_value("motion", words[0])
    if words[-1] == "still":
        return "still"
    return None


def world_camera(value: str) -> str | None:
    """The shapes-world camera of a camera movement value ("pan left", "static"), else None."""
    words = value.lower().split()
    if words == ["static"]:
        return "static"
    if len(words) == 2 and words[0] in _CAMERA_VERBS and words[1] in ("left", "right"):
        return f"pan {words[1]}"
    return None


def to_frames(frames: tuple[float, float] | None, num_frames: int) -> tuple[int, int] | None:
    """Clip time in [0, 1] → an inclusive range of frame indices of a ``num_frames``-frame clip."""
    if frames is None:
        return None
    last = num_frames - 1
    lo, hi = (min(max(t, 0.0), 1.0) for t in frames)
    start, end = round(lo * last), round(hi * last)
    return (start, max(start, end))


def _attribute(ent: Entity, category: str) -> str | None:
    """The first value of ``category`` that the shapes world knows, canonical."""
    for value in ent.attributes.get(category, []):
        mapped = world_value(category, value)
        if mapped is not None:
            return mapped
    return None


def _scene(graph: SceneGraph) -> tuple[_Scene, dict[str, list[_WorldObject]]]:
    """The world objects the graph describes (a counted entity gives that many) and each entity's objects."""
    motions: dict[str, str] = {}
    for rel in graph.relations:
        if rel.object is None and rel.kind == "action" and rel.frames is None:
            motion = world_motion(rel.predicate)
            if motion is not None:
                motions.setdefault(rel.subject, motion)
    objects: list[_WorldObject] = []
    by_entity: dict[str, list[_WorldObject]] = {}
    for ent in graph.entities:
        if ent.kind != "object" or ent.part_of is not None:
            continue
        shape = world_value("shape", ent.name)
        if shape is None:
            continue
        n = ent.count if ent.count is not None else (2 if ent.plural else 1)
        made = [_WorldObject(ent.id, shape, _attribute(ent, "color"), _attribute(ent, "size"), motions.get(ent.id))
                for _ in range(max(n, 1))]
        objects.extend(made)
        by_entity[ent.id] = made
    return _Scene(objects), by_entity


def _full(obj: _WorldObject) -> ObjectRef:
    """The reference naming every attribute of the object."""
    return ObjectRef(shape=obj.shape, color=obj.color, size=obj.size)


def _group(scene: _Scene, obj: _WorldObject) -> list[_WorldObject]:
    """The objects alike in size, colour and shape (spec_facts asks them as one group)."""
    key = (obj.size, obj.color, obj.shape)
    return [o for o in scene.objects if (o.size, o.color, o.shape) == key]


def _entity(graph: SceneGraph, q: EvalQuestion, position: int, name_index: int) -> Entity | None:
    """The entity a question is about: by id when the generator gave ids, else by the tuple's name."""
    if len(q.entities) > position:
        return next((e for e in graph.entities if e.id == q.entities[position]), None)
    if len(q.tuple) <= name_index:
        return None
    name = q.tuple[name_index]
    return next((e for e in graph.entities if e.name == name), None)


def to_world_question(q: EvalQuestion, graph: SceneGraph, *, num_frames: int) -> Question | None:
    """The oracle's structured form of ``q`` for a clip of ``num_frames`` frames, or None if the shapes
    world cannot express it."""
    if not isinstance(q, EvalQuestion):
        raise ValueError(f"q must be an EvalQuestion, got {type(q).__name__}")
    if not isinstance(graph, SceneGraph):
        raise ValueError(f"graph must be a SceneGraph, got {type(graph).__name__}")
    if isinstance(num_frames, bool) or not isinstance(num_frames, int) or num_frames < 1:
        raise ValueError(f"num_frames must be a positive integer, got {num_frames!r}")
    frames = to_frames(q.frames, num_frames)
    head = q.tuple[0] if q.tuple else ""
    subject = _entity(graph, q, 0, 2)
    if subject is None:
        return None
    if subject.kind == "background":
        return _background_question(q, frames)
    if subject.kind == "camera":
        value = world_camera(q.tuple[3]) if head == "attribute" and q.tuple[1] == "movement" else None
        return Question("camera", value=value, frames=frames) if value is not None else None
    scene, by_entity = _scene(graph)
    if subject.id not in by_entity:
        return None
    obj = by_entity[subject.id][0]
    group = _group(scene, obj)
    if head == "entity":
        if q.tuple[1] != "whole" or frames is not None:
            return None
        return Question("existence", ObjectRef(shape=obj.shape, color=obj.color))
    if head == "other" and q.tuple[1] == "count":
        return Question("count", _full(obj), len(group), frames=frames)
    if head == "attribute" and q.tuple[1] in _GROUP_REFS:
        return _attribute_question(scene, obj, group, q.tuple[1], q.tuple[3], frames)
    if head == "attribute" and q.tuple[1] == "action":
        motion = world_motion(q.tuple[3])
        ref = _full(obj) if len(group) > 1 else unique_ref(scene, obj)  # type: ignore[arg-type]
        if motion is None or ref is None:
            return None
        return Question("motion", ref, motion, frames=frames)
    if head == "relation" and q.tuple[1] == "spatial":
        other = _entity(graph, q, 1, 3)
        value = world_value("relation", q.tuple[4]) if len(q.tuple) > 4 else None
        if other is None or other.id not in by_entity or value is None:
            return None
        target = by_entity[other.id][0]
        if len(group) > 1 or len(_group(scene, target)) > 1:
            return None
        ref_a, ref_b = unique_ref(scene, obj), unique_ref(scene, target)  # type: ignore[arg-type]
        if ref_a is None or ref_b is None:
            return None
        return Question("relation", ref_a, value, ref_b, frames=frames)
    return None


def _attribute_question(scene: _Scene, obj: _WorldObject, group: list[_WorldObject], kind: str, phrase: str,
                        frames: tuple[int, int] | None) -> Question | None:
    """A colour/shape/size question, named as spec_facts names it.

    Identical objects are asked as their group, at clip times too ("are the squares big at the
    start?"): spec_facts has no such fact, but the oracle reads it, and a question in the world's
    vocabulary left unanswered would drop out of the score instead of counting.
    """
    value = world_value(kind, phrase)
    if value is None:
        return None
    if len(group) > 1:
        ref = ObjectRef(**{a: getattr(obj, a) for a in _GROUP_REFS[kind]})
    elif frames is not None:  # "small at the start": named in full, as a motion is
        ref = unique_ref(scene, obj)  # type: ignore[arg-type]
    else:
        ref = attribute_ref(scene, obj, kind)  # type: ignore[arg-type]
    if ref is None:
        return None
    return Question(kind, ref, value, frames=frames)


def _background_question(q: EvalQuestion, frames: tuple[int, int] | None) -> Question | None:
    """A question about the background pseudo-entity."""
    if q.tuple[0] != "attribute" or len(q.tuple) < 4:
        return None
    value = world_value("background", q.tuple[3])
    return Question("background", value=value, frames=frames) if value is not None else None
