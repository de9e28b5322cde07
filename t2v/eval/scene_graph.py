"""Rule-based scene graphs: a dependency parse of each timed segment of a prompt → entities, attributes
and relations.

Why rules over a parse: the evaluator's default must run offline and fast with no language model,
yet work on general English, not only on the shapes world. A dependency parse says which word
modifies which ("two red apples on a wooden table": *red* and *two* hang off *apples*, *on* links
*apples* to *table*); the word lists in :mod:`t2v.eval.lexicon` say what kind of fact each link is.

Which parser: spaCy's small English pipeline (the ``[nlp]`` extra, with the repairs of
:mod:`t2v.eval.parse_repairs`) or the model-free :mod:`t2v.eval.lexicon_parser`, both feeding these
same rules. Weighed on DSG-1k (``benchmarks/question_generation.py --parser spacy|lexicon``, all
1,060 prompts, which were also the rules' development set): spaCy reaches entity / attribute /
relation recall 0.89 / 0.60 / 0.52 and F1 0.66 at about 400 prompts/s on one CPU core; the lexicon
parser 0.85 / 0.49 / 0.45 and F1 0.61 at about 2,000 prompts/s. On shapes-world captions read as
complete descriptions, spaCy's graphs give exactly the spec's facts for all but about one caption in
two thousand, the lexicon parser's for about three in four. A statistical tagger gets unknown words' parts
of speech and long sentences' attachments right where word lists and nearest-neighbour heuristics
cannot, and the speed is ample, so spaCy is the default and the lexicon parser only the fallback
when spaCy is not installed.

Video-specific facts come on top: camera movements and views (read from the raw text, see
:mod:`t2v.eval.segments`), motions with directions ("moving left"), growth ("grows": small at
the start, big at the end), changes of state ("turns from red to blue") and sequences ("X, then
Y"), which get clip-time ``frames``. Background and camera are pseudo-entities: they always exist,
so they get no existence question of their own.
"""

from __future__ import annotations

import re

from . import lexicon as lx
from .graph_clauses import ClauseRules
from .graph_common import NOUN_POS, State, sentences
from .graph_mentions import MentionRules
from .parsing import Parse
from .segments import Segment
from .types import Entity, Relation, SceneGraph, TimedAttribute


class SceneGraphBuilder(MentionRules, ClauseRules):
    """Accumulates one prompt's scene graph from its parsed segments (one instance per prompt).

    This class keeps the entity store and runs the rules in order; the rules themselves live in
    :mod:`t2v.eval.graph_mentions` (noun phrases) and :mod:`t2v.eval.graph_clauses` (clauses).
    """

    def __init__(self, prompt: str, quotes: list[str] | None = None) -> None:
        self.graph = SceneGraph(prompt=prompt)
        self._quotes = list(quotes or [])
        self._by_id: dict[str, Entity] = {}
        self._keys: dict[str, str] = {}  # entity id → lemma key, for coreference
        self._relation_keys: set[tuple[str, str, str | None, str, tuple[float, float] | None]] = set()
        self._recent: list[str] = []  # object entity ids, most recent last
        self._last_subject: str | None = None

    # -- entities -----------------------------------------------------------------------
    def entity(self, eid: str) -> Entity:
        """The entity with id ``eid``."""
        return self._by_id[eid]

    def _new_entity(self, name: str, key: str, kind: str = "object", *, plural: bool = False,
                    count: int | None = None) -> Entity:
        """A new entity with an id made from ``key`` (made unique), registered for coreference."""
        base = re.sub(r"[^a-z0-9]+", "_", key.lower()).strip("_") or "entity"
        eid, n = base, 2
        while eid in self._by_id:
            eid, n = f"{base}_{n}", n + 1
        ent = Entity(id=eid, name=name, kind=kind, plural=plural, count=count)
        self.graph.entities.append(ent)
        self._by_id[eid] = ent
        self._keys[eid] = key
        return ent

    def pseudo(self, kind: str) -> Entity:
        """The background or camera pseudo-entity, created on first use."""
        for ent in self.graph.entities:
            if ent.kind == kind:
                return ent
        return self._new_entity(kind, kind, kind=kind)

    def _find(self, key: str) -> Entity | None:
        """The latest object entity whose lemma key is ``key`` ("the dog" after "a dog")."""
        for ent in reversed(self.graph.entities):
            if ent.kind == "object" and self._keys.get(ent.id) == key:
                return ent
        return None

    def add_attribute(self, ent: Entity, category: str, value: str,
                      frames: tuple[float, float] | None = None) -> None:
        """Record an attribute (once); with ``frames`` it holds only then."""
        value = value.strip()
        if not value or ent.kind == "camera":
            return
        if frames is None:
            values = ent.attributes.setdefault(category, [])
            if value not in values:
                values.append(value)
            return
        timed = TimedAttribute(category=category, value=value, frames=frames)
        if timed not in ent.timed_attributes:
            ent.timed_attributes.append(timed)

    def add_relation(self, subject: str, predicate: str, obj: str | None, kind: str,
                     frames: tuple[float, float] | None = None) -> None:
        """Record a relation once; self-relations, camera subjects and "on the background" are dropped."""
        if subject == obj or self.entity(subject).kind == "camera":
            return
        if obj is not None and self.entity(obj).kind == "background" and predicate in lx.BACKGROUND_TRIVIAL:
            return
        if self.entity(subject).kind == "background" and obj is None:
            return
        key = (subject, predicate, obj, kind, frames)
        if key in self._relation_keys:
            return
        self._relation_keys.add(key)
        self.graph.relations.append(Relation(subject=subject, predicate=predicate, object=obj, kind=kind,
                                             frames=frames))

    def add_camera(self, segment: Segment) -> None:
        """The camera movements and views read from a segment's raw text."""
        if not segment.camera:
            return
        cam = self.pseudo("camera")
        for category, value in segment.camera:
            if segment.frames is None:
                values = cam.attributes.setdefault(category, [])
                if value not in values:
                    values.append(value)
            else:
                cam.timed_attributes.append(TimedAttribute(category, value, segment.frames))

    # -- one segment ------------------------------------------------------------------------
    def add_segment(self, parse: Parse, frames: tuple[float, float] | None) -> None:
        """Run every rule over one parsed segment, sentence by sentence."""
        st = State(parse=parse, frames=frames)
        self._mark_phrases(st)
        self._mark_changes(st)
        self._mark_directions(st)
        for sentence in sentences(parse):
            for i in sentence:
                self._maybe_mention(st, st.toks[i])
            for i in sentence:
                if i in st.mentions:
                    self._modifiers(st, st.toks[i])
            for i in sentence:
                if i in st.mentions:
                    self._parts(st, st.toks[i])
            for i in sentence:
                tok = st.toks[i]
                if i not in st.consumed and (tok.pos in ("VERB", "AUX") or (
                        tok.pos == "ADJ" and tok.dep in ("advcl", "conj", "xcomp", "ccomp", "acl", "relcl")
                        and st.toks[tok.head].pos not in NOUN_POS)):
                    self._predicate(st, tok)
            for i in sentence:
                tok = st.toks[i]
                if tok.dep == "prep" and tok.head in st.mentions and i not in st.consumed:
                    self._noun_prep(st, tok)
            for i in sentence:
                if i in st.used_preps or (i in st.consumed and i not in st.phrase_end):
                    continue
                tok = st.toks[i]
                if i in st.phrase_end or (tok.lower in lx.LOCATING_WORDS and (
                        tok.dep in ("prep", "prt") or tok.pos in ("ADP", "ADV"))):
                    self._loose_relation(st, i)
            for i in st.at_rest:
                if i in sentence:
                    self._at_rest(st, i)
        self._listed_adjectives(st)
        self._trailing_sets(st)
        main = next((e for e in self.graph.entities if e.kind == "object" and e.part_of is None), None)
        for style in st.pending_styles if main is not None else []:
            self.add_attribute(main, "style", style)


def close_world(graph: SceneGraph) -> None:
    """Read ``graph`` as a complete description (a closed world), adding what its silence implies.

    A prompt that states everything about a clip (as a shapes-world caption does) implies facts an
    open-ended prompt does not: a singular object is exactly one, an object given no motion stays
    still, a camera given no movement is static, and a placement holds from the first frame on.
    """
    actions = {r.subject for r in graph.relations if r.object is None and r.kind == "action"}
    for ent in graph.entities:
        if ent.kind != "object" or ent.part_of is not None:
            continue
        if ent.count is None and not ent.plural:
            ent.count = 1
        if ent.id not in actions:
            graph.relations.append(Relation(subject=ent.id, predicate="stay still", object=None, kind="action"))
    kinds = {e.id: e.kind for e in graph.entities}
    for rel in list(graph.relations):
        if rel.kind == "spatial" and rel.frames is None and rel.object is not None \
                and kinds.get(rel.object) == "object" and kinds.get(rel.subject) == "object":
            graph.relations.append(Relation(subject=rel.subject, predicate=rel.predicate, object=rel.object,
                                            kind="spatial", frames=(0.0, 0.0)))
    camera = next((e for e in graph.entities if e.kind == "camera"), None)
    moves = camera is not None and (camera.attributes.get("movement")
                                    or any(t.category == "movement" for t in camera.timed_attributes))
    if not moves:
        if camera is None:
            taken = {e.id for e in graph.entities}
            cid = next(c for c in ("camera", *(f"camera_{n}" for n in range(2, len(taken) + 3))) if c not in taken)
            camera = Entity(id=cid, name="camera", kind="camera")
            graph.entities.append(camera)
        camera.attributes.setdefault("movement", []).append("static")


def build_scene_graph(prompt: str, segments: list[Segment], parses: list[Parse], *,
                      closed_world: bool = False, quotes: list[str] | None = None) -> SceneGraph:
    """The scene graph of ``prompt`` from its segments and their parses (same order).

    ``closed_world`` reads the prompt as a complete description (see :func:`close_world`); ``quotes``
    are the quoted texts that :func:`~t2v.eval.segments.extract_quotes` replaced, in order.
    """
    builder = SceneGraphBuilder(prompt, quotes)
    for segment, parse in zip(segments, parses, strict=True):
        builder.add_camera(segment)
        builder.add_segment(parse, segment.frames)
    if closed_world:
        close_world(builder.graph)
    return builder.graph
