"""Data types shared by the evaluator's parts: scene graphs, questions, answers.

Question generators produce ``EvalQuestion``s, answerers return ``EvalAnswer``s, the
scorer and reports consume both. Keeping them here lets each part be swapped alone.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# ETVA's question categories.
CATEGORIES: tuple[str, ...] = (
    "existence", "action", "material", "spatial", "number", "shape", "color", "camera", "physics", "other",
)


@dataclass
class TimedAttribute:
    """An attribute that holds only over part of the clip, e.g. "red" at the start of "turns from red to blue"."""

    category: str  # as in ``Entity.attributes``: "color", "size", "movement", ...
    value: str
    frames: tuple[float, float]  # clip-time range in [0, 1]


@dataclass
class Entity:
    """A node of the scene graph. ``kind`` is "object", "background" or "camera".

    ``plural`` marks a plural mention without a number ("dogs"); ``part_of`` names the entity
    this one belongs to ("the knife's handle"); ``timed_attributes`` hold for part of the clip only.
    """

    id: str
    name: str
    kind: str = "object"
    count: int | None = None
    attributes: dict[str, list[str]] = field(default_factory=dict)  # e.g. {"color": ["red"], "size": ["big"]}
    plural: bool = False
    part_of: str | None = None
    timed_attributes: list[TimedAttribute] = field(default_factory=list)


@dataclass
class Relation:
    """An edge: ``kind`` is "spatial" or "action"; ``object`` is None for intransitive actions/motions."""

    subject: str  # entity id
    predicate: str
    object: str | None = None
    kind: str = "spatial"
    frames: tuple[float, float] | None = None  # clip-time range in [0, 1], for temporal facts


@dataclass
class SceneGraph:
    prompt: str
    entities: list[Entity] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class EvalQuestion:
    """One atomic yes/no question.

    ``tuple`` is DSG style, e.g. ``("attribute", "color", "ball", "red")`` printed as
    ``attribute - color (ball, red)``; ``parents`` are ids of questions it depends on;
    ``frames`` is an optional clip-time range in [0, 1] for temporal facts; ``entities`` are the
    ids of the scene-graph entities the question is about, subject first (names in ``tuple`` can
    repeat: "a big ball and a small ball"); empty when the generator does not track them.
    """

    id: int
    text: str
    category: str
    tuple: tuple[str, ...]
    parents: list[int] = field(default_factory=list)
    frames: tuple[float, float] | None = None
    entities: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.category not in CATEGORIES:
            raise ValueError(f"category must be one of {list(CATEGORIES)}, got {self.category!r}")

    def tuple_text(self) -> str:
        head, *rest = self.tuple
        kind = f"{head} - {rest[0]}" if rest and head in ("attribute", "relation", "entity") else head
        args = rest[1:] if rest and head in ("attribute", "relation", "entity") else rest
        return f"{kind} ({', '.join(args)})"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["tuple"] = list(self.tuple)
        data["frames"] = list(self.frames) if self.frames else None
        data["entities"] = list(self.entities)
        return data


# P(yes) of an answer that carries no evidence either way.
NO_EVIDENCE = 0.5


@dataclass
class EvalAnswer:
    """An answerer's verdict: ``yes`` and its confidence in [0, 1], the probability that the verdict is right
    (so P(yes) is ``confidence`` for a yes and ``1 - confidence`` for a no; 0.5 means no idea).

    ``answered=False`` marks an abstention: the answerer could not judge the question at all (the
    shapes-world oracle asked about a material, a model reply without a verdict). It is no "no":
    scores leave it out and report it in their coverage instead.
    """

    yes: bool
    confidence: float = 1.0
    rationale: str = ""
    answered: bool = True

    @classmethod
    def unanswerable(cls, rationale: str) -> EvalAnswer:
        """An abstention, saying why; its ``yes``/``confidence`` (no, 0.5) carry no evidence and no score."""
        return cls(yes=False, confidence=NO_EVIDENCE, rationale=rationale, answered=False)

    @property
    def label(self) -> str:
        """The answer as reports show it: "yes", "no" or "unanswerable"."""
        if not self.answered:
            return "unanswerable"
        return "yes" if self.yes else "no"
