"""Atomic yes/no questions from a scene graph (DSG style), and the rule-based question generator.

Every object entity gets an existence question; its count, attributes, actions and relations are
asked in questions whose ``parents`` are the existence questions of the entities they mention,
so a scorer can skip "Is the dog brown?" once "Is there a dog?" was answered no. A part's
existence ("Does the knife have a handle?") depends on its owner's. Camera and background are
pseudo-entities that always exist: their questions are roots. Facts that hold for part of the
clip carry clip-time ``frames``.

:class:`RuleBasedQuestionGenerator` needs no language model; an LLM-based generator with the same
``generate(prompt)`` signature can replace it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from . import wording as w
from .lexicon import COLLECTIVE_NOUNS, PHYSICS_VERBS, SHAPE_ADJECTIVES, VAGUE_AMOUNT_NOUNS
from .parsing import Parser
from .scene_graph import build_scene_graph
from .segments import Segment, extract_camera, extract_quotes, split_segments
from .spacy_parser import SpacyParser, spacy_available
from .types import Entity, EvalQuestion, SceneGraph, TimedAttribute

logger = logging.getLogger(__name__)

ATTRIBUTE_CATEGORY: dict[str, str] = {
    "color": "color", "shape": "shape", "size": "shape", "material": "material", "texture": "material",
    "movement": "camera", "view": "camera", "count": "number", "style": "other",
}
SPATIAL_WORDING: dict[str, str] = {"left of": "to the left of", "right of": "to the right of"}
CAMERA_WORDING: dict[str, str] = {
    "static": "Is the camera static{when}?",
    "track": "Does the camera track the subject{when}?",
    "shake": "Is the camera shaking{when}?",
    "handheld": "Is the video shot with a handheld camera{when}?",
    "time-lapse": "Is the video a time-lapse{when}?",
    "slow motion": "Is the video in slow motion{when}?",
    "orbit": "Does the camera orbit around the subject{when}?",
    "pan": "Does the camera pan{when}?",
    "dolly": "Does the camera dolly{when}?",
    "aerial view": "Is the video shot from an aerial view{when}?",
    "close-up": "Is the video a close-up shot{when}?",
    "wide shot": "Is the video a wide shot{when}?",
    "low angle": "Is the video shot from a low angle{when}?",
    "high angle": "Is the video shot from a high angle{when}?",
    "first-person view": "Is the video shot from a first-person view{when}?",
    "side view": "Is the video shot from the side{when}?",
    "front view": "Is the video shot from the front{when}?",
}


class _QuestionList:
    """Questions in order, numbered from 1, with duplicates (same tuple and frames) dropped."""

    def __init__(self) -> None:
        self.items: list[EvalQuestion] = []
        self._seen: dict[tuple[tuple[str, ...], tuple[float, float] | None, tuple[str, ...]], int] = {}

    def add(self, text: str, category: str, tup: tuple[str, ...], entities: tuple[str, ...],
            parents: Sequence[int | None] = (), frames: tuple[float, float] | None = None) -> int:
        """Add a question unless an identical one exists; returns its id."""
        key = (tup, frames, entities)
        if key in self._seen:
            return self._seen[key]
        qid = len(self.items) + 1
        clean = sorted({p for p in parents if p is not None})
        self.items.append(EvalQuestion(id=qid, text=text, category=category, tuple=tup, parents=clean,
                                       frames=frames, entities=entities))
        self._seen[key] = qid
        return qid


def _attribute_text(ent: Entity, category: str, value: str, frames: tuple[float, float] | None) -> str:
    """The yes/no question for one attribute value of an entity."""
    when = w.when(frames)
    if ent.kind == "camera":
        template = CAMERA_WORDING.get(value)
        if template is not None:
            return template.format(when=when)
        if category == "view":
            return f"Is the video shot as {w.article(value)} {value}{when}?"
        return f"Does the camera {value}{when}?"
    subject = f"{w.be(ent)} {w.the(ent)}"
    if category == "material":
        return f"{subject} made of {value}{when}?"
    if category == "shape" and value.split()[-1] not in SHAPE_ADJECTIVES and not names_shape(ent, value):
        # "in the shape of a pineapple"
        shape = value if value.split()[0] in ("letter", "letters", "text", "word") else f"{w.article(value)} {value}"
        return f"{subject} in the shape of {shape}{when}?"
    if category == "name":
        return f"{subject} called {value}{when}?"
    if category == "text":
        return f"{'Do' if w.is_plural(ent) else 'Does'} {w.the(ent)} say \"{value}\"{when}?"
    if category == "count":
        of = " of" if value.split()[-1] in VAGUE_AMOUNT_NOUNS | COLLECTIVE_NOUNS else ""
        return f"Are there {value}{of} {ent.name}{when}?"
    if category == "style":
        return f"{'Do' if w.is_plural(ent) else 'Does'} {w.the(ent)} look like the work of {value}{when}?"
    if category == "type":
        head = ent.name.split()[-1]
        if ent.name.endswith(f"{value} {head}") and ent.name != head:  # a compound: "Is the hat a cowboy hat?"
            kind = f"{value} {head}"
            return (f"{w.be(ent)} the {head} {kind}{when}?" if w.is_plural(ent)
                    else f"{w.be(ent)} the {head} {w.article(kind)} {kind}{when}?")
        return f"{subject} {w.a_or_none(value)}{when}?"
    if category == "shape" and names_shape(ent, value):
        described = [v for c in ("size", "color") for v in ent.attributes.get(c, [])]
        noun = "shapes" if w.is_plural(ent) else "shape"
        shape = f"{value}s" if w.is_plural(ent) else f"{w.article(value)} {value}"
        return f"{w.be(ent)} the {' '.join(described + [noun])} {shape}{when}?"
    return f"{subject} {value}{when}?"


def names_shape(ent: Entity, value: str) -> bool:
    """Whether the shape ``value`` is the entity's own noun ("ball" of "red balls"): asked as identity."""
    return ent.name.split()[-1] in (value, value + "s", value + "es")


def _action_category(predicate: str) -> str:
    """ETVA files physical processes (melt, pour, fall) under physics, other verbs under action."""
    return "physics" if predicate.split()[0] in PHYSICS_VERBS else "action"


def graph_questions(graph: SceneGraph) -> list[EvalQuestion]:
    """The atomic questions of a scene graph, parents before children."""
    out = _QuestionList()
    by_id = {e.id: e for e in graph.entities}
    exists: dict[str, int | None] = {}

    ordered, placed = [], set()
    pending = list(graph.entities)
    while pending:  # owners before their parts
        progressed = False
        for ent in list(pending):
            if ent.part_of is None or ent.part_of in placed or ent.part_of not in by_id:
                ordered.append(ent)
                placed.add(ent.id)
                pending.remove(ent)
                progressed = True
        if not progressed:
            for ent in pending:
                ent.part_of = None
    for ent in ordered:
        if ent.kind != "object":
            exists[ent.id] = None
            continue
        owner = by_id.get(ent.part_of) if ent.part_of else None
        if owner is not None:
            verb = "Do" if w.is_plural(owner) else "Does"
            text = f"{verb} {w.the(owner)} have {w.some(ent)}?"
            exists[ent.id] = out.add(text, "existence", ("entity", "part", f"{owner.name}'s {ent.name}"),
                                     (ent.id,), [exists.get(owner.id)])
        else:
            text = (f"Is {ent.name} in the video?" if w.is_proper(ent)
                    else f"{'Are' if w.is_plural(ent) else 'Is'} there {w.some(ent)}?")
            exists[ent.id] = out.add(text, "existence", ("entity", "whole", ent.name), (ent.id,))
    for ent in ordered:
        parent = exists[ent.id]
        if ent.count is not None and ent.kind == "object":
            if ent.count == 1:
                text = f"Is there exactly one {ent.name}?"
            else:
                text = f"Are there {w.number_word(ent.count)} {ent.name}?"
            out.add(text, "number", ("other", "count", ent.name, f"=={ent.count}"), (ent.id,), [parent])
        for category, values in ent.attributes.items():
            for value in values:
                if category == "shape" and names_shape(ent, value) and not (
                        ent.attributes.get("color") or ent.attributes.get("size")):
                    continue  # "Is the shape a ball?" of a plain "ball" repeats its existence question
                out.add(_attribute_text(ent, category, value, None), ATTRIBUTE_CATEGORY.get(category, "other"),
                        ("attribute", category, ent.name, value), (ent.id,), [parent])
        for timed in ent.timed_attributes:
            _timed_question(out, ent, timed, parent)
    for rel in graph.relations:
        subj = by_id[rel.subject]
        parents = [exists.get(rel.subject)]
        when = w.when(rel.frames)
        if rel.object is None:
            text = f"{w.be(subj)} {w.the(subj)} {w.gerund(rel.predicate)}{when}?"
            out.add(text, _action_category(rel.predicate), ("attribute", "action", subj.name, rel.predicate),
                    (subj.id,), parents, rel.frames)
            continue
        obj = by_id[rel.object]
        parents.append(exists.get(rel.object))
        if rel.kind == "spatial":
            phrase = SPATIAL_WORDING.get(rel.predicate, rel.predicate)
            text = f"{w.be(subj)} {w.the(subj)} {phrase} {w.the(obj)}{when}?"
            category = "spatial"
        else:
            text = f"{w.be(subj)} {w.the(subj)} {w.gerund(rel.predicate)} {w.the(obj)}{when}?"
            category = _action_category(rel.predicate)
        out.add(text, category, ("relation", rel.kind, subj.name, obj.name, rel.predicate), (subj.id, obj.id),
                parents, rel.frames)
    if not out.items:  # nothing the rules recognise ("4k, trending"): one question about the whole prompt
        out.add(f'Does the video match the description "{graph.prompt}"?', "other", ("global", graph.prompt), ())
    return out.items


def _timed_question(out: _QuestionList, ent: Entity, timed: TimedAttribute, parent: int | None) -> None:
    """The question for an attribute that holds for part of the clip."""
    text = _attribute_text(ent, timed.category, timed.value, timed.frames)
    out.add(text, ATTRIBUTE_CATEGORY.get(timed.category, "other"),
            ("attribute", timed.category, ent.name, timed.value), (ent.id,), [parent], timed.frames)


def _check_prompt(prompt: object, name: str = "prompt") -> str:
    """The prompt stripped, or a ValueError naming the argument."""
    if not isinstance(prompt, str):
        raise ValueError(f"{name} must be a string, got {type(prompt).__name__}")
    if not prompt.strip():
        raise ValueError(f"{name} must be a non-empty text, got {prompt!r}")
    return prompt.strip()


def _make_parser(parser: str | Parser) -> Parser:
    """The parser named by ``parser`` (spaCy when installed, for "auto")."""
    if not isinstance(parser, str):
        return parser
    if parser == "spacy":
        return SpacyParser()
    if parser == "lexicon":
        from .lexicon_parser import LexiconParser

        return LexiconParser()
    if parser == "auto":
        if spacy_available():
            return SpacyParser()
        from .lexicon_parser import LexiconParser

        logger.warning("spaCy's English pipeline is not installed; questions come from the weaker lexicon "
                       "parser (install the [nlp] extra for better ones)")
        return LexiconParser()
    raise ValueError(f"parser must be 'auto', 'spacy', 'lexicon' or a Parser, got {parser!r}")


class RuleBasedQuestionGenerator:
    """Prompt → scene graph → atomic questions, with a dependency parse and word lists; no language model.

    ``parser``: "spacy" (spaCy's small English pipeline, the ``[nlp]`` extra), "lexicon" (no model,
    weaker), "auto" (spaCy when installed, else the lexicon parser) or any object with
    ``parse(texts) -> list[Parse]``. The parser is created on first use and spaCy is loaded once
    per process.

    ``closed_world=True`` reads each prompt as a complete description of the clip, as a
    shapes-world caption is: a singular object is then exactly one, an object with no motion stays
    still, no camera movement means a static camera, and placements hold from the first frame
    (see :func:`t2v.eval.scene_graph.close_world`). Off by default: an open-ended prompt that
    does not mention the camera says nothing about it.
    """

    def __init__(self, parser: str | Parser = "auto", *, closed_world: bool = False) -> None:
        if isinstance(parser, str) and parser not in ("auto", "spacy", "lexicon"):
            raise ValueError(f"parser must be 'auto', 'spacy', 'lexicon' or a Parser, got {parser!r}")
        if not isinstance(parser, str) and not callable(getattr(parser, "parse", None)):
            raise ValueError(f"parser must be 'auto', 'spacy', 'lexicon' or a Parser, got {parser!r}")
        if not isinstance(closed_world, bool):
            raise ValueError(f"closed_world must be True or False, got {closed_world!r}")
        self.closed_world = closed_world
        self._parser_choice = parser
        self._parser: Parser | None = None

    @property
    def parser(self) -> Parser:
        """The parser, created on first use."""
        if self._parser is None:
            self._parser = _make_parser(self._parser_choice)
        return self._parser

    def generate(self, prompt: str) -> tuple[SceneGraph, list[EvalQuestion]]:
        """The scene graph of ``prompt`` and its questions."""
        return self.generate_batch([_check_prompt(prompt)])[0]

    def generate_batch(self, prompts: Sequence[str]) -> list[tuple[SceneGraph, list[EvalQuestion]]]:
        """:meth:`generate` for many prompts at once (one parser pass: much faster)."""
        graphs = self.scene_graphs(prompts)
        return [(g, graph_questions(g)) for g in graphs]

    def scene_graphs(self, prompts: Sequence[str]) -> list[SceneGraph]:
        """The scene graphs of many prompts, parsed in one batch."""
        if isinstance(prompts, str):
            raise ValueError("prompts must be a sequence of strings, not one string")
        cleaned = [_check_prompt(p, f"prompts[{i}]") for i, p in enumerate(prompts)]
        plans: list[list[Segment]] = []
        texts: list[str] = []
        quoted: list[list[str]] = []
        for prompt in cleaned:
            text, quotes = extract_quotes(prompt)
            quoted.append(quotes)
            segments = split_segments(text)
            for seg in segments:
                seg.text, seg.camera = extract_camera(seg.text)
                texts.append(seg.text)
            plans.append(segments)
        parses = iter(self.parser.parse(texts))
        graphs = []
        for prompt, segments, quotes in zip(cleaned, plans, quoted, strict=True):
            graphs.append(build_scene_graph(prompt, segments, [next(parses) for _ in segments],
                                            closed_world=self.closed_world, quotes=quotes))
        return graphs
