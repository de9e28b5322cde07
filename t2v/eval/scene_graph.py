"""Rule-based scene graphs: a dependency parse of each timed segment of a prompt → entities, attributes
and relations.

Why rules over a parse: the evaluator's default must run offline and fast with no language model,
yet work on general English, not only on the shapes world. A dependency parse says which word
modifies which ("two red apples on a wooden table": *red* and *two* hang off *apples*, *on* links
*apples* to *table*); the word lists in :mod:`t2v.eval.lexicon` say what kind of fact each link is.

Which parser: spaCy's small English pipeline (the ``[nlp]`` extra) or the model-free
:mod:`t2v.eval.lexicon_parser`, both feeding these same rules. On DSG-1k the spaCy parse gives
clearly better tuples (``benchmarks/question_generation.py --parser spacy|lexicon`` prints both;
figures in that script's output and the project's report), because a statistical tagger and parser
get open-class words and long sentences right where hand-written word lists and attachment
heuristics cannot, so spaCy is the default and the lexicon parser the fallback.

Video-specific facts come on top: camera movements and views (read from the raw text, see
:mod:`t2v.eval.segments`), motions with directions ("moving left"), growth ("grows": small at
the start, big at the end), changes of state ("turns from red to blue") and sequences ("X, then
Y"), which get clip-time ``frames``. Background and camera are pseudo-entities: they always exist,
so they get no existence question of their own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import lexicon as lx
from .parsing import Parse, Tok
from .segments import QUOTE_PLACEHOLDER, Segment
from .types import Entity, Relation, SceneGraph, TimedAttribute

NOUN_POS = ("NOUN", "PROPN")
SUBJECT_DEPS = ("nsubj", "nsubjpass", "csubj", "expl")
RELATIVE_PRONOUNS = frozenset({"that", "which", "who", "whom", "whose", "where"})
SKIP_MODIFIERS = frozenset(
    """other another same such many several few some various multiple each every all any more most
    first second third last next own whole entire certain numerous additional""".split()
)
NAME_ADJECTIVES = frozenset({"left", "right", "upper", "lower", "front", "back", "rear", "inner", "outer"})
VALUE_STOPWORDS = frozenset({"the", "a", "an", ",", ".", "and", "also", "then", "now", "-", ";", ":"})
FILLER_ADVERBS = frozenset({"then", "also", "now", "there", "here", "just", "still", "too", "again", "not",
                            "n't", "so", "as", "even", "only"})
SEE_VERBS = frozenset({"see", "find", "notice", "observe", "view", "spot", "show", "depict", "feature",
                       "contain", "include", "have"})
# Words around colour names that are not themselves colours ("white color", "in red and blue tones").
COLOR_FILLERS = frozenset({"and", ",", "color", "colour", "colors", "colours", "colored", "coloured", "combination",
                           "tone", "tones", "shade", "shades"})
MADE_VERBS = frozenset({"make", "build", "carve", "craft", "form", "construct", "create", "mold", "mould",
                        "sculpt", "weave", "knit"})


def start_of(frames: tuple[float, float] | None) -> tuple[float, float]:
    lo = 0.0 if frames is None else frames[0]
    return (lo, lo)


def end_of(frames: tuple[float, float] | None) -> tuple[float, float]:
    hi = 1.0 if frames is None else frames[1]
    return (hi, hi)


@dataclass
class _State:
    """Per-segment bookkeeping: which tokens are spoken for and what they mean."""

    parse: Parse
    frames: tuple[float, float] | None
    consumed: set[int] = field(default_factory=set)
    phrase_end: dict[int, tuple[str, int]] = field(default_factory=dict)  # last token → (predicate, first token)
    marks: dict[int, str] = field(default_factory=dict)  # verb token → direction, or "change:<from>|<to>"
    mentions: dict[int, str] = field(default_factory=dict)  # token → entity id
    used_preps: set[int] = field(default_factory=set)  # prepositions already turned into relations
    at_rest: list[int] = field(default_factory=list)  # "at" tokens of "at rest"
    labels: dict[int, int] = field(default_factory=dict)  # quoted-text token → the mention it labels
    pending_styles: list[str] = field(default_factory=list)  # styles named before any object

    @property
    def toks(self) -> list[Tok]:
        return self.parse.tokens


class SceneGraphBuilder:
    """Accumulates one prompt's scene graph from its parsed segments (one instance per prompt)."""

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
        return self._by_id[eid]

    def _new_entity(self, name: str, key: str, kind: str = "object", *, plural: bool = False,
                    count: int | None = None) -> Entity:
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
        for ent in reversed(self.graph.entities):
            if ent.kind == "object" and self._keys.get(ent.id) == key:
                return ent
        return None

    def add_attribute(self, ent: Entity, category: str, value: str,
                      frames: tuple[float, float] | None = None) -> None:
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
        st = _State(parse=parse, frames=frames)
        self._mark_phrases(st)
        self._mark_changes(st)
        self._mark_directions(st)
        for sentence in _sentences(parse):
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
                        tok.dep in ("prep", "prt") or tok.pos == "ADP")):
                    self._loose_relation(st, i)
            for i in st.at_rest:
                if i in sentence:
                    self._at_rest(st, i)
        self._listed_adjectives(st)
        self._trailing_sets(st)
        main = next((e for e in self.graph.entities if e.kind == "object" and e.part_of is None), None)
        for style in st.pending_styles if main is not None else []:
            self.add_attribute(main, "style", style)

    def _trailing_sets(self, st: _State) -> None:
        """ "peacock birds, set of two": a count given after the noun."""
        toks = st.toks
        for t in toks:
            if t.lower not in ("set", "pack", "collection", "lot", "group") or t.i + 2 >= len(toks):
                continue
            if toks[t.i + 1].lower != "of" or _number(toks[t.i + 2]) is None:
                continue
            if t.i + 3 < len(toks) and toks[t.i + 3].pos in NOUN_POS:
                continue  # "a set of six plates": counted with the plates
            prev = self._preceding_object(st, t.i)
            if prev is not None:
                ent = self.entity(st.mentions[prev])
                if ent.count is None:
                    ent.count = _number(toks[t.i + 2])
                    ent.plural = False

    def _listed_adjectives(self, st: _State) -> None:
        """ "a monster in a cave, furry, colorful": adjectives standing alone between commas describe the
        prompt's main (first) object."""
        main = next((e for e in self.graph.entities if e.kind == "object" and e.part_of is None), None)
        if main is None:
            return
        pieces: list[list[Tok]] = [[]]
        for t in st.toks:
            if t.pos == "PUNCT" and t.text in (",", ";", ".", "!", "?"):
                pieces.append([])
            else:
                pieces[-1].append(t)
        for piece in pieces:
            words = [t for t in piece if t.pos not in ("CCONJ", "PUNCT")]
            if not words or any(t.i in st.mentions or t.i in st.consumed for t in words):
                continue
            if all(t.pos == "ADJ" or (t.pos == "ADV" and t.head in {w.i for w in words}) for t in words):
                for t in words:
                    if t.pos == "ADJ":
                        self._adjective(st, t, main)

    def _at_rest(self, st: _State, at: int) -> None:
        governor = st.toks[at].head
        if at - 1 in st.mentions and self.entity(st.mentions[at - 1]).kind == "object":
            subjects = [st.mentions[at - 1]]  # "a wedge at rest": like a motion, it follows its noun
        elif governor in st.mentions:
            subjects = [st.mentions[governor]]
        else:
            subjects = self._subjects(st, st.toks[governor])
        for eid in subjects:
            self.add_relation(eid, "stay still", None, "action", st.frames)

    # -- marking multi-word expressions ---------------------------------------------------------
    def _mark_phrases(self, st: _State) -> None:
        words = [t.lower for t in st.toks]
        i = 0
        while i < len(words):
            for n in range(min(lx.MAX_PHRASE, len(words) - i), 1, -1):
                pred = lx.SPATIAL_PHRASES.get(tuple(words[i:i + n]))
                if pred is not None:
                    st.phrase_end[i + n - 1] = (pred, i)
                    st.consumed.update(range(i, i + n - 1))
                    i += n - 1
                    break
            i += 1

    def _mark_changes(self, st: _State) -> None:
        """ "turns from red to blue", "becomes blue": the values become timed attributes later."""
        toks = st.toks
        for v in toks:
            if v.lemma not in lx.CHANGE_VERBS or v.pos not in ("VERB", "AUX", "NOUN"):
                continue
            j = v.i + 1
            if j < len(toks) and toks[j].lower in ("its", "their", "his", "her"):
                j += 1
            if j < len(toks) and toks[j].lemma in ("color", "colour", "size", "shape"):
                j += 1
            start: list[str] | None = None
            if j < len(toks) and toks[j].lower == "from":
                start, k = _value_run(toks, j + 1)
                if not start or k >= len(toks) or toks[k].lower not in ("to", "into"):
                    continue
                end, stop = _value_run(toks, k + 1)
            elif j < len(toks) and toks[j].lower in ("to", "into"):
                end, stop = _value_run(toks, j + 1)
            else:
                end, stop = _value_run(toks, j)
            if end:
                st.consumed.update(range(v.i + 1, stop))
                st.marks[v.i] = "change:" + " ".join(start or []) + "|" + " ".join(end)

    def _mark_directions(self, st: _State) -> None:
        """Directions after verbs of travel: "moving left", "slides to the right", "floats up"."""
        toks = st.toks
        for v in toks:
            if v.lemma not in lx.TRAVEL_VERBS or v.i in st.marks:
                continue
            j = v.i + 1
            if j < len(toks) and toks[j].lower in ("slowly", "quickly", "steadily", "smoothly", "gently", "fast"):
                j += 1
            first = j
            if j < len(toks) and toks[j].lower in ("to", "toward", "towards"):
                j += 1
                if j < len(toks) and toks[j].lower == "the":
                    j += 1
            if j >= len(toks) or toks[j].lower not in lx.DIRECTIONS:
                continue
            nxt = toks[j + 1] if j + 1 < len(toks) else None
            if nxt is not None and (nxt.lower == "of" or (nxt.pos in NOUN_POS and toks[j].lower in NAME_ADJECTIVES
                                                           and nxt.lower not in lx.PLACE_WORDS)):
                continue
            st.marks[v.i] = lx.DIRECTIONS[toks[j].lower]
            st.consumed.update(range(first, j + 1))
            st.phrase_end.pop(j, None)

    # -- mentions ---------------------------------------------------------------------------------
    def _is_nounlike(self, st: _State, tok: Tok) -> bool:
        if tok.i in st.consumed:
            return False
        if tok.pos in NOUN_POS or tok.lower in lx.PERSON_PRONOUNS:
            return True
        if tok.pos != "ADJ" or tok.dep not in ("pobj", "nsubj", "dobj", "ROOT", "attr", "conj", "appos"):
            return False
        # Taggers sometimes call a noun an adjective when it heads a phrase ("a flock of geese",
        # "a small purple square bouncing"): a determiner or adjectives of its own give it away.
        dets = {self_child.lower for self_child in (st.toks[c] for c in tok.children) if self_child.dep == "det"}
        own_adjectives = any(st.toks[c].dep == "amod" for c in tok.children)
        return tok.lower in lx.IRREGULAR_PLURALS or bool(dets & {"a", "an", "the"}) or (
            own_adjectives and tok.lower in lx.SHAPE_NOUNS)

    def _maybe_mention(self, st: _State, tok: Tok) -> None:
        toks = st.toks
        if tok.pos == "PRON" and tok.lower in lx.ANAPHORS and tok.dep != "expl":
            target = self._resolve(st, tok)
            if target is not None:
                st.mentions[tok.i] = target
            return
        if tok.text == QUOTE_PLACEHOLDER:
            self._quoted(st, tok)
            return
        if not self._is_nounlike(st, tok):
            return
        if tok.lemma in ("shape", "form") and self._shaped_like(st, tok):
            return
        if tok.dep in ("compound", "nmod") and toks[tok.head].pos in NOUN_POS and tok.head not in st.consumed \
                and tok.head > tok.i:
            return
        if tok.dep == "amod" and toks[tok.head].pos in NOUN_POS and tok.head > tok.i \
                and (tok.lower in lx.SIZES or tok.lower in lx.COLORS or tok.pos == "ADJ"):
            return  # "a big emerald box" with *big* tagged a proper noun: still a modifier
        lemma = tok.text.lower() if tok.pos == "PROPN" else tok.lemma
        has_of = any(toks[c].lower == "of" and toks[c].dep == "prep" for c in tok.children)
        if lemma in lx.BACKGROUND_NOUNS:
            st.mentions[tok.i] = self.pseudo("background").id
            return
        if tok.pos == "PROPN" and tok.dep == "pobj" and self._style_source(st, tok):
            return
        if lemma in lx.QUANTITY_NOUNS and has_of:
            return
        if lemma in lx.META_NOUNS and (has_of or tok.dep in ("pobj", "ROOT", "appos", "nsubj", "npadvmod")
                                       or lemma in lx.META_ALWAYS):
            return
        if lemma in lx.PLACE_WORDS or lemma in lx.SCENE_NOUNS:
            return
        if lemma in lx.COLORS and (tok.dep in ("amod", "compound", "nmod") or not (
                lemma in lx.COLOR_NOUNS and any(toks[c].dep == "det" for c in tok.children))):
            return
        if lemma == "rest" and tok.dep == "pobj" and toks[tok.head].lower == "at":  # "at rest": not moving
            st.at_rest.append(tok.head)
            st.consumed.update((tok.i, tok.head))
            return
        if tok.dep == "pobj" and _made_of(toks, tok.head) and (lemma in lx.MATERIALS or not any(
                toks[c].dep == "det" for c in tok.children)):
            return  # "made of wood", "made from desserts": what it is made of, not a thing beside it
        if lemma in COLOR_FILLERS and (tok.dep == "pobj" or any(
                toks[c].lower in lx.COLORS for c in st.parse.subtree(tok.i))):
            return  # "in red color", "of red and silver color": a colour, not a thing
        name_tokens = self._name_tokens(st, tok)
        st.consumed.update(t.i for t in name_tokens if t.i != tok.i)
        name = " ".join(t.text if t.pos == "PROPN" else t.lower for t in name_tokens)
        key = " ".join([t.lower for t in name_tokens[:-1]] + [lemma])
        plural = (tok.tag in ("NNS", "NNPS") or tok.lower in lx.IRREGULAR_PLURALS
                  or (tok.pos == "NOUN" and tok.lemma != tok.lower and tok.lower.endswith("s")))
        determiners = {toks[c].lower for c in tok.children if toks[c].dep in ("det", "poss")}
        count = self._count(st, tok)
        amount = None if count is not None else self._amount(st, tok)
        existing = self._find(key)
        if existing is not None and not (determiners & {"a", "an", "another", "one"}) and count is None:
            ent = existing
        else:
            ent = self._new_entity(name, key, plural=plural and count is None, count=count)
            if lemma in lx.SHAPE_NOUNS:
                self.add_attribute(ent, "shape", lemma)
            if amount is not None:
                self.add_attribute(ent, "count", amount)
            kinds = [t.lower for t in name_tokens[:-1] if t.pos == "NOUN" and t.lower not in NAME_ADJECTIVES]
            if kinds:  # DSG asks a compound's modifier on its own: "Is the hat a cowboy hat?"
                self.add_attribute(ent, "type", " ".join(kinds))
        st.mentions[tok.i] = ent.id
        if ent.id in self._recent:
            self._recent.remove(ent.id)
        self._recent.append(ent.id)

    def _quoted(self, st: _State, tok: Tok) -> None:
        """Words to be written ("the word 'jazz'"): a text attribute of the noun they label, not a thing."""
        text = self._quotes.pop(0) if self._quotes else ""
        st.consumed.add(tok.i)
        target = tok.head if tok.head in st.mentions else self._preceding_object(st, tok.i)
        if target is None or not text:
            return
        st.labels[tok.i] = target
        self.add_attribute(self.entity(st.mentions[target]), "text", text)

    def _shaped_like(self, st: _State, tok: Tok) -> bool:
        """ "a sign in the shape of a pineapple": a shape attribute of the sign, no shape or pineapple entity."""
        toks = st.toks
        of = next((c for c in tok.children if toks[c].lower == "of"), None)
        obj = next((c for c in toks[of].children if toks[c].dep == "pobj"), None) if of is not None else None
        if obj is None or toks[tok.head].lower not in ("in", "into", "like"):
            return False
        owner = toks[tok.head].head
        target = owner if owner in st.mentions else self._preceding_object(st, tok.i)
        words = [toks[k].lower for k in st.parse.subtree(obj) if toks[k].pos not in ("DET", "PUNCT")]
        if target is None or not words:
            return False
        st.consumed.update(st.parse.subtree(tok.i))
        st.consumed.discard(of)
        if toks[obj].text == QUOTE_PLACEHOLDER:
            self._quoted(st, toks[obj])
        self.add_attribute(self.entity(st.mentions[target]), "shape", " ".join(
            w for w in words if w != QUOTE_PLACEHOLDER.lower()) or "text")
        st.used_preps.add(tok.head)
        return True

    def _style_source(self, st: _State, tok: Tok) -> bool:
        """ "by Greg Rutkowski", "in the style of van Gogh": a name that gives the style, not a thing in
        the scene. Recorded as a style attribute of the phrase it hangs off (or of the main object)."""
        toks = st.toks
        prep = toks[tok.head]
        owner = toks[prep.head] if prep.head != prep.i else None
        styled = prep.lower == "of" and owner is not None and owner.lemma == "style"
        by_name = prep.lower == "by" and prep.dep == "prep" and owner is not None and owner.pos in NOUN_POS
        if not (styled or by_name):
            return False
        name = " ".join(toks[t].text for t in st.parse.subtree(tok.i) if toks[t].dep in ("compound", "flat")
                        or t == tok.i)
        target = None
        if by_name and owner is not None and owner.i in st.mentions:
            target = self.entity(st.mentions[owner.i])
        if target is None or target.kind != "object":
            target = next((e for e in self.graph.entities if e.kind == "object" and e.part_of is None), None)
        if target is not None:
            self.add_attribute(target, "style", name)
        else:
            st.pending_styles.append(name)
        st.consumed.update(t for t in st.parse.subtree(tok.i))
        return True

    def _name_tokens(self, st: _State, head: Tok) -> list[Tok]:
        """The head noun with the compound nouns (and left/right) right before it: "dining table", "left arm"."""
        toks = st.toks
        names = [head]
        j = head.i - 1
        while j >= 0:
            t = toks[j]
            linked = t.head in {n.i for n in names}
            if j in st.consumed or not linked:
                break
            if t.dep in ("compound", "nmod") and t.lower not in lx.MATERIALS and t.lower not in lx.COLORS \
                    and t.lower not in lx.SIZES and t.lower not in COLOR_FILLERS and t.pos in ("NOUN", "PROPN", "NUM"):
                names.insert(0, t)
            elif t.lower in NAME_ADJECTIVES and t.dep in ("amod", "compound", "advmod", "nmod"):
                names.insert(0, t)
            else:
                break
            j -= 1
        return names

    def _amount(self, st: _State, tok: Tok) -> str | None:
        """A vague quantity: "several people", "many birds", "a lot of clouds", "a bunch of flowers"."""
        toks = st.toks
        for c in tok.children:
            if toks[c].lower in lx.VAGUE_AMOUNTS and toks[c].dep in ("amod", "det", "nummod", "quantmod"):
                return toks[c].lower
        if tok.dep == "pobj" and toks[tok.head].lower == "of" and toks[tok.head].head != tok.head:
            owner = toks[toks[tok.head].head]
            if owner.lower in lx.VAGUE_AMOUNT_NOUNS or owner.lemma in lx.COLLECTIVE_NOUNS:
                single = owner.lower in ("lot", "bunch", "number") or owner.lemma in lx.COLLECTIVE_NOUNS
                return ("a " if single and owner.lower == owner.lemma else "") + owner.lower
        return None

    def _count(self, st: _State, tok: Tok) -> int | None:
        toks = st.toks
        for c in tok.children:
            t = toks[c]
            if t.dep == "nummod" or (t.dep in ("det", "amod", "quantmod") and t.lower in lx.NUMBERS):
                value = _number(t)
                if value is not None and value > 0:
                    return value
        # "a pair of shoes" (however the parser hung it): the words before the noun phrase
        start = tok.i
        while start > 0 and toks[start - 1].head == tok.i and toks[start - 1].dep in ("amod", "compound", "det"):
            start -= 1
        if start >= 2 and toks[start - 1].lower == "of" and toks[start - 2].lower in ("pair", "couple", "dozen"):
            return lx.NUMBERS[toks[start - 2].lower]
        # "a set of six plates"
        if tok.dep == "pobj" and toks[tok.head].lower == "of":
            owner = toks[toks[tok.head].head]
            if owner.lower in ("pair", "couple", "dozen"):
                return lx.NUMBERS[owner.lower]
            if owner.lemma in lx.QUANTITY_NOUNS:
                for c in owner.children:
                    if toks[c].dep == "nummod":
                        return _number(toks[c])
        return None

    def _resolve(self, st: _State, tok: Tok) -> str | None:
        """The entity an anaphor stands for: the last subject if its number fits, else the latest that fits,
        never one whose own phrase holds the pronoun ("a square left of it" is not left of itself)."""
        plural = tok.lower in ("they", "them", "their", "themselves", "these", "those", "theirs")
        candidates = ([self._last_subject] if self._last_subject else []) + list(reversed(self._recent))
        if tok.lower in lx.PERSONAL_PRONOUNS:  # "he", "she", "they": people first, when there are any
            people = [e for e in candidates if self._keys.get(e, "").split()[-1:] and
                      self._keys[e].split()[-1] in lx.PERSON_NOUNS]
            candidates = people + [e for e in candidates if e not in people]
        enclosing, j = set(), tok.i
        while st.toks[j].head != j:
            j = st.toks[j].head
            if j in st.mentions:
                enclosing.add(st.mentions[j])
                break
        for eid in candidates:
            ent = self.entity(eid)
            if ent.kind != "object" or eid in enclosing or (ent.part_of is not None and eid != self._last_subject):
                continue
            if (ent.plural or (ent.count or 1) > 1) == plural:
                return eid
        return self._recent[-1] if self._recent else None

    def _group(self, st: _State, i: int) -> list[str]:
        """The entity at token ``i`` and those joined to it by "and": "a dog and a cat" → [dog, cat]."""
        out, stack = [], [i]
        while stack:
            j = stack.pop()
            if j in st.mentions and st.mentions[j] not in out:
                out.append(st.mentions[j])
            stack.extend(c for c in st.toks[j].children if st.toks[c].dep == "conj" and c in st.mentions)
        return out

    # -- noun modifiers ---------------------------------------------------------------------------
    def _modifiers(self, st: _State, head: Tok) -> None:
        if head.pos == "PRON":
            return
        ent = self.entity(st.mentions[head.i])
        toks = st.toks
        for c in head.children:
            t = toks[c]
            if t.lower in COLOR_FILLERS and t.i < head.i:  # "a white color surface": the colour is the surface's
                for d in t.children:
                    if toks[d].dep in ("amod", "compound", "conj", "nmod") and d not in st.mentions:
                        self._adjective(st, toks[d], ent)
                continue
            if c in st.consumed or c in st.mentions:
                continue
            post = c > head.i and t.pos in ("ADJ", "ADV") and t.dep in ("amod", "advmod", "npadvmod", "acomp", "oprd")
            if post and not self._simple(st, t) and t.lower not in FILLER_ADVERBS:
                # "left arm straight in front": a predicate after its noun, kept whole
                self._complement(st, t, ent, None)
            elif post and t.dep in ("oprd", "acomp") and t.lower not in FILLER_ADVERBS:  # "left leg straight"
                self.add_attribute(ent, lx.attribute_category(t.lower), t.lower)
            elif t.dep in ("amod", "compound", "nmod", "npadvmod") or (t.dep == "advmod" and t.pos == "ADJ"):
                self._adjective(st, t, ent)
                # "a small yellow dot" parsed with *small* hanging off *yellow*
                for d in t.children:
                    if d < t.i and toks[d].dep in ("amod", "compound", "advmod") and toks[d].lower \
                            not in lx.COLOR_SHADES and (lx.attribute_category(toks[d].lower) != "state"
                                                        or toks[d].dep == "amod" and toks[d].pos == "ADJ"):
                        self._adjective(st, toks[d], ent)
            elif t.dep == "advmod" and t.pos == "ADV" and c > head.i and t.lower not in FILLER_ADVERBS:
                words = [toks[k].lower for k in st.parse.subtree(c) if toks[k].lower not in VALUE_STOPWORDS]
                if words:
                    self.add_attribute(ent, "state", " ".join(words))
            elif t.dep in ("acl", "relcl") and t.pos == "ADJ":
                self._adjective(st, t, ent)

    def _adjective(self, st: _State, t: Tok, ent: Entity, frames: tuple[float, float] | None = None) -> None:
        """One adjectival modifier (with its "and"-joined siblings and degree words) → attribute(s)."""
        toks = st.toks
        word = t.lower
        for c in t.children:
            if toks[c].dep == "conj" and toks[c].pos in ("ADJ", "VERB") and c not in st.consumed:
                self._adjective(st, toks[c], ent, frames)
        if word in SKIP_MODIFIERS or word in lx.NUMBERS or t.pos in ("DET", "PRON", "NUM", "PUNCT", "CCONJ",
                                                                     "ADP", "PART", "SYM", "X"):
            return
        if t.pos == "ADV" and word not in lx.TEXTURES and word not in lx.COLORS:
            return
        color = _color_word(word)
        if color:
            shades = [toks[c].lower for c in t.children if toks[c].dep in ("advmod", "amod", "compound", "npadvmod")
                      and toks[c].lower in lx.COLOR_SHADES and c < t.i]
            self.add_attribute(ent, "color", " ".join(shades + [color]), frames)
            return
        if word in lx.COLOR_SHADES and toks[t.head].lower in lx.COLORS:
            return
        if word in lx.MATERIALS:
            self.add_attribute(ent, "material", lx.MATERIALS[word], frames)
            return
        if word in lx.STILL_ADJECTIVES:
            self.add_relation(ent.id, "stay still", None, "action", frames)
            return
        if t.pos in NOUN_POS and t.dep == "compound" and ent.kind != "background" \
                and lx.attribute_category(word) == "state":
            return  # a compound noun not in the name (coordinated modifiers): not an attribute
        if not re.fullmatch(r"[a-z][a-z'-]*", word):
            return
        degree = [toks[c].lower for c in t.children if toks[c].dep in ("advmod", "npadvmod") and c < t.i
                  and toks[c].lower not in FILLER_ADVERBS]
        self.add_attribute(ent, lx.attribute_category(word), " ".join(degree + [word]), frames)

    # -- parts ------------------------------------------------------------------------------------
    def _parts(self, st: _State, head: Tok) -> None:
        """Possession: "the woman's hat", "their arms", "a knife with a handle", "a boy in a red jacket"."""
        toks = st.toks
        owner_id = st.mentions[head.i]
        owner = self.entity(owner_id)
        if owner.kind != "object":
            return
        if head.dep == "appos" and head.head in st.mentions and head.pos == "NOUN":
            # "a lone person - perhaps a lifeguard -": what the person is
            described = self.entity(st.mentions[head.head])
            if described.kind == "object" and described.id != owner_id:
                self.add_attribute(described, "type", owner.name)
        if head.dep == "poss":
            part_tok = toks[head.head]
            if part_tok.i in st.mentions:
                self._attach(st.mentions[part_tok.i], owner_id)
        if head.pos == "PRON":
            return
        for c in head.children:
            p = toks[c]
            if p.dep != "prep" or p.lower not in ("with", "in", "wearing"):
                continue
            for obj in (d for d in p.children if d in st.mentions):
                for part_id in self._group(st, obj):
                    part = self.entity(part_id)
                    if p.lower == "with" or part.name.split()[-1] in lx.CLOTHING:
                        self._attach(part_id, owner_id)
                        st.consumed.add(c)

    def _attach(self, part_id: str, owner_id: str) -> None:
        part = self.entity(part_id)
        if part_id != owner_id and part.kind == "object" and part.part_of is None \
                and self.entity(owner_id).part_of != part_id:
            part.part_of = owner_id

    # -- clauses ------------------------------------------------------------------------------------
    def _subject_token(self, st: _State, v: Tok, depth: int = 0) -> int | None:
        """The mention token that is the subject of verb (or predicative adjective) ``v``."""
        toks = st.toks
        for c in v.children:
            t = toks[c]
            if t.dep not in SUBJECT_DEPS:
                continue
            if t.dep == "expl":  # "there is a dog on the sofa": the dog
                return next((d for d in v.children if toks[d].dep in ("attr", "dobj") and d in st.mentions), None)
            if t.lower in RELATIVE_PRONOUNS and v.dep == "relcl" and v.head in st.mentions:
                return v.head
            if c in st.mentions:
                return c
            if c in st.labels:  # "the word 'jazz' written in cursive": the word is written
                return st.labels[c]
            return next((d for d in st.parse.subtree(c) if d in st.mentions), None)
        if v.dep in ("acl", "relcl", "amod", "appos") and v.head in st.mentions:
            return v.head
        # "a sphere on a backdrop, going right" with the noun hung under the verb
        nominal = next((c for c in v.children if c < v.i and toks[c].dep in ("npadvmod", "nmod", "dep")
                        and c in st.mentions), None)
        if nominal is not None:
            return nominal
        if depth < 4 and v.dep in ("conj", "advcl", "xcomp", "ccomp", "pcomp", "dep", "acl", "relcl") \
                and v.head != v.i:
            head = toks[v.head]
            if head.i in st.mentions and v.dep in ("conj", "dep", "acl", "advcl"):
                return head.i
            if head.pos in ("VERB", "AUX", "ADJ"):
                return self._subject_token(st, head, depth + 1)
            if head.pos == "ADP" or head.dep == "pobj":  # "with their torso bent": the noun before
                return next((d for d in (v.i - 1, v.i - 2) if d in st.mentions), None)
        if v.dep == "ROOT" and v.tag in ("VBG", "VBN"):
            return next((d for d in range(v.i - 1, -1, -1) if d in st.mentions), None)
        return self._adjacent_noun(st, v)  # a participle right after its noun, whatever the tree says

    def _is_motion_verb(self, st: _State, v: Tok) -> bool:
        words = {st.toks[c].lower for c in v.children}
        return (v.i in st.marks or v.lemma in lx.GROW_VERBS | lx.SHRINK_VERBS | lx.BOUNCE_VERBS | lx.STILL_VERBS
                or (v.lemma in lx.TRAVEL_VERBS and not any(st.toks[c].dep == "dobj" for c in v.children))
                or (v.lemma in lx.STAY_VERBS and bool(words & lx.STILL_ADJECTIVES)))

    def _preceding_object(self, st: _State, i: int) -> int | None:
        """The nearest mention of a real object before token ``i`` (not the background)."""
        return next((d for d in range(i - 1, -1, -1) if d in st.mentions
                     and self.entity(st.mentions[d]).kind == "object"), None)

    def _adjacent_noun(self, st: _State, v: Tok) -> int | None:
        """The mention right before ``v`` (adverbs skipped) when ``v`` is a participle or present verb."""
        j = v.i - 1
        while j >= 0 and (st.toks[j].pos == "ADV" or st.toks[j].lower in ("not", "n't")):
            j -= 1
        if j >= 0 and j in st.mentions and v.tag in ("VBG", "VBZ", "VBP", "VBN", "VB"):
            return j
        return None

    def _subjects(self, st: _State, v: Tok) -> list[str]:
        # A motion word belongs to the noun it follows ("a square growing left of a circle bouncing"),
        # which is where a small parser most often hangs it elsewhere.
        motion = self._is_motion_verb(st, v)
        adjacent = self._adjacent_noun(st, v) if motion else None
        i = adjacent if adjacent is not None else self._subject_token(st, v)
        if i is None and motion:  # "a wedge on a grey background, heading left"
            i = self._preceding_object(st, v.i)
        if i is None:
            return []
        # a relative clause or participle belongs to its noun alone, not to nouns joined to it by "and"
        alone = adjacent is not None or (v.dep in ("acl", "relcl", "amod") and v.head == i)
        first = i
        if not motion and v.dep == "acl" and v.head == i and st.toks[i].dep == "conj":
            # "a man and a woman posing": the participle after the last of joined nouns is all of theirs
            while st.toks[first].dep == "conj" and st.toks[first].head in st.mentions:
                first = st.toks[first].head
            alone = False
        group = [st.mentions[i]] if alone else self._group(st, first)
        owner_part = self.entity(st.mentions[i]).part_of is not None
        group = [e for e in group if (self.entity(e).part_of is not None) == owner_part] or group
        # "a boy in a red jacket standing": the clause belongs to the wearer, not the jacket
        out = []
        wearer = st.toks[st.toks[i].head]
        for eid in group:
            ent = self.entity(eid)
            if st.toks[i].dep != "nsubj" and ent.part_of is not None and ent.name.split()[-1] in lx.CLOTHING:
                eid = ent.part_of
            elif st.toks[i].dep == "dobj" and wearer.lemma == "wear" and ent.name.split()[-1] in lx.CLOTHING:
                # "humans wearing clothing interacting with ...": the wearers interact
                wearers = self._subjects(st, wearer)
                eid = wearers[0] if wearers else eid
            if eid not in out:
                out.append(eid)
        if out and self.entity(out[0]).kind == "object":
            self._last_subject = out[0]
        return out

    def _predicate(self, st: _State, v: Tok) -> None:
        if v.dep in ("aux", "auxpass"):
            return
        subjects = self._subjects(st, v)
        if v.lemma in ("wear", "dress") and subjects and not self._is_person(subjects[0]):
            # "women standing in a kitchen wearing white": people wear things, kitchens do not
            person = next((st.mentions[d] for d in range(v.i - 1, -1, -1) if d in st.mentions
                           and self._is_person(st.mentions[d])), None)
            subjects = [person] if person is not None else subjects
        if not subjects:
            if v.lemma in SEE_VERBS:
                self._seen_things(st, v)
            return
        for subject in subjects:
            self._predicate_for(st, v, self.entity(subject))

    def _seen_things(self, st: _State, v: Tok) -> None:
        """ "In the background we can see trees": the things seen take the verb's place phrases."""
        toks = st.toks
        objects = [eid for c in v.children if toks[c].dep == "dobj" and c in st.mentions for eid in self._group(st, c)]
        for c in v.children:
            if toks[c].dep == "prep" or c in st.phrase_end:
                pred, targets = self._prep_target(st, toks[c])
                if pred in lx.LOCATING:
                    for eid in objects:
                        for obj in targets:
                            self.add_relation(eid, pred, obj, "spatial", st.frames)

    def _predicate_for(self, st: _State, v: Tok, ent: Entity) -> None:
        toks = st.toks
        frames = st.frames
        mark = st.marks.get(v.i, "")
        if mark.startswith("change:"):
            before, after = mark[len("change:"):].split("|")
            self._change(ent, before, after, frames)
            self._locate(st, v, ent, frames)
            return
        if v.pos == "ADJ":
            self._complement(st, v, ent, frames)
            return
        lemma = v.lemma
        objects = [c for c in v.children if toks[c].dep in ("dobj", "attr", "oprd") and c in st.mentions]
        preps = [c for c in v.children if toks[c].dep in ("prep", "agent", "dative") or c in st.phrase_end]
        linking = lemma in lx.LINKING_VERBS and any(toks[c].dep in ("acomp", "oprd") for c in v.children)
        if lemma == "be" or (v.pos == "AUX" and not objects) or linking:  # "looks sad" reads as "is sad"
            self._copula(st, v, ent, frames)
            return
        if lemma in SEE_VERBS and lemma not in lx.POSSESSION_VERBS:
            return
        if lemma in ("look", "seem", "appear"):  # "it looks like a race car": what it resembles
            for c in preps:
                pred, targets = self._prep_target(st, toks[c])
                if pred == "like":
                    for t in targets:
                        if self.entity(t).kind == "object":
                            self.add_attribute(ent, "type", self.entity(t).name)
            return
        # "apples growing on a tree" is where they grow, not a change of size
        grows_somewhere = any(
            toks[c].lower in ("on", "in", "from", "inside", "out", "into")
            and any(self.entity(e).kind == "object" for e in self._prep_target(st, toks[c])[1]) for c in preps)
        words = {toks[c].lower for c in v.children}
        motion = None
        if (lemma in lx.GROW_VERBS and not grows_somewhere) or (lemma == "get" and words & lx.BIGGER):
            self._grow(ent, "grow", frames)
            motion = "grow"
        elif (lemma in lx.SHRINK_VERBS and not grows_somewhere) or (lemma == "get" and words & lx.SMALLER):
            self._grow(ent, "shrink", frames)
            motion = "shrink"
        elif self._is_still(st, v):
            motion = lemma if lemma in lx.STILL_VERBS else "stay still"
        elif mark:
            motion = f"{lemma} {mark}"
        if motion is not None:
            self.add_relation(ent.id, motion, None, "action", frames)
            self._locate(st, v, ent, frames)
            return
        if lemma in ("wear", "dress") and self._wears_color(st, v, ent, frames):
            return
        if lemma in ("call", "name", "title", "label") and v.tag == "VBN":  # "a bakery called Sweet Rolls"
            words = [toks[k].text for c in v.children if toks[c].dep in ("oprd", "xcomp", "dobj", "attr", "npadvmod")
                     for k in st.parse.subtree(c)]
            if words:
                self.add_attribute(ent, "name", " ".join(words))
                st.consumed.update(k for c in v.children for k in st.parse.subtree(c))
            return
        if lemma in lx.POSSESSION_VERBS:
            for c in objects:
                for part in self._group(st, c):
                    self._attach(part, ent.id)
            return
        if lemma in MADE_VERBS and (v.tag == "VBN" or v.dep in ("acl", "relcl")):
            self._made_of_material(st, v, ent)
            return
        particle = " ".join(toks[c].lower for c in v.children if toks[c].dep == "prt")
        verb = f"{lemma} {particle}".strip()
        # "leaning forward", "reaching straight up": the adverbs after the verb say how
        manner = [toks[c].lower for c in v.children if toks[c].dep == "advmod" and c > v.i and c not in st.consumed
                  and toks[c].pos == "ADV" and toks[c].lower not in FILLER_ADVERBS
                  and toks[c].lower not in lx.STILL_ADJECTIVES]
        for c in v.children:  # "leaning toward the right", "turned to their left"
            p = toks[c]
            objs = [toks[d] for d in p.children if toks[d].dep == "pobj"]
            if p.dep == "prep" and c > v.i and c not in st.consumed and len(objs) == 1 \
                    and (objs[0].lower in lx.DIRECTIONS or objs[0].lower in ("side", "sides")) \
                    and not any(toks[d].lower == "of" for d in objs[0].children):
                manner += [p.lower, objs[0].lower]
        light = lemma in lx.LIGHT_VERBS
        acted = False
        for c in objects:
            if toks[c].dep == "dobj" and not light:
                for obj in self._group(st, c):
                    self.add_relation(ent.id, verb, obj, "action", frames)
                acted = True
        for c in preps:
            pred, targets = self._prep_target(st, toks[c])
            # "bouncing with a black background": the setting, not something the verb acts on
            targets = [t for t in targets if pred in lx.LOCATING or self.entity(t).kind == "object"]
            if pred is None or not targets:
                continue
            for obj in targets:
                if pred in lx.LOCATING:
                    self.add_relation(ent.id, pred, obj, "spatial", frames)
                elif not light and pred not in ("of", "for", "like", "as", "than"):
                    self.add_relation(ent.id, f"{verb} {pred}", obj, "action", frames)
                    acted = True
                    self.add_relation(ent.id, verb, None, "action", frames)
        motion_verb = self._is_motion_verb(st, v)
        if v.tag == "VBN" and not acted and not objects and v.dep not in ("ROOT", "conj", "advcl") and not motion_verb:
            self._complement(st, v, ent, frames)
            return
        if v.tag == "VBN" and any(toks[c].dep == "auxpass" for c in v.children) and not motion_verb:
            self._complement(st, v, ent, frames)
            return
        if not acted and not light and re.fullmatch(r"[a-z][a-z-]*", lemma):
            self.add_relation(ent.id, " ".join([verb] + manner), None, "action", frames)

    def _locate(self, st: _State, v: Tok, ent: Entity, frames: tuple[float, float] | None) -> None:
        """The place phrases of a verb already read as a motion: "shrinking to the right of a triangle"."""
        toks = st.toks
        preps = [c for c in v.children if toks[c].dep == "prep" or c in st.phrase_end]
        for c in v.children:  # "getting smaller over a box": the place hangs off "smaller"
            if toks[c].lower in lx.BIGGER | lx.SMALLER or toks[c].lower in lx.STILL_ADJECTIVES:
                preps += [d for d in toks[c].children if toks[d].dep == "prep" or d in st.phrase_end]
        for c in preps:
            pred, targets = self._prep_target(st, toks[c])
            if pred in lx.LOCATING:
                for obj in targets:
                    self.add_relation(ent.id, pred, obj, "spatial", frames)

    def _prep_target(self, st: _State, p: Tok) -> tuple[str | None, list[str]]:
        """The predicate a preposition token stands for and the entities it points at."""
        toks = st.toks
        if p.i in st.phrase_end:
            pred = st.phrase_end[p.i][0]
        elif p.i in st.consumed:
            return None, []
        else:
            pred = lx.SPATIAL_PHRASES.get((p.lower,), p.lower)
        for c in p.children:
            if c in st.mentions:
                st.used_preps.add(p.i)
                return pred, self._group(st, c)
        for c in p.children:
            # "beneath a wedge hopping" parsed as "beneath [hopping]" with the wedge its subject
            if toks[c].pos == "VERB":
                subject = next((d for d in toks[c].children if toks[d].dep == "nsubj" and d in st.mentions), None)
                if subject is not None:
                    st.used_preps.add(p.i)
                    return pred, self._group(st, subject)
            # spaCy hangs "of X" under "front" in "in front of X": follow the consumed chain
            if c in st.consumed:
                for d in toks[c].children:
                    if d in st.phrase_end:
                        pred = st.phrase_end[d][0]
                        for e in toks[d].children:
                            if e in st.mentions:
                                st.used_preps.update((p.i, d))
                                return pred, self._group(st, e)
        return pred, []

    def _is_still(self, st: _State, v: Tok) -> bool:
        words = {st.toks[c].lower for c in v.children}
        nxt = st.toks[v.i + 1].lower if v.i + 1 < len(st.toks) else ""
        if v.lemma in lx.STAY_VERBS and (words | {nxt}) & (lx.STILL_ADJECTIVES | {"put"}):
            return True
        if v.lemma in lx.STILL_VERBS and not any(st.toks[c].dep == "dobj" for c in v.children):
            return True
        return v.lemma == "move" and any(st.toks[c].dep == "neg" for c in v.children)

    def _copula(self, st: _State, v: Tok, ent: Entity, frames: tuple[float, float] | None) -> None:
        toks = st.toks
        state_words: list[int] = []
        complements: list[Tok] = []
        for c in v.children:
            t = toks[c]
            if t.dep in ("acomp", "oprd") and t.pos in ("ADJ", "VERB", "NOUN"):
                complements.append(t)
            elif t.dep == "attr" and c in st.mentions and st.mentions[c] != ent.id \
                    and not any(toks[d].dep == "expl" for d in v.children):
                other = self.entity(st.mentions[c])
                if other.kind == "object" and ent.kind == "object" and toks[c].lower not in lx.ANAPHORS:
                    self.add_attribute(ent, "type", other.name)
            elif t.dep == "prep" or c in st.phrase_end:
                pred, targets = self._prep_target(st, t)
                if targets and pred in lx.LOCATING:
                    for obj in targets:
                        self.add_relation(ent.id, pred, obj, "spatial", frames)
                elif not targets and pred in ("in", "of") and self._in_color(st, t, ent, frames):
                    continue
                elif not targets and t.lower not in ("of", "for", "like", "than") and not self._about_entity(st, c):
                    state_words.extend(st.parse.subtree(c))
            elif t.dep in ("advmod", "npadvmod") and t.lower not in FILLER_ADVERBS and t.lower != "there":
                state_words.extend(st.parse.subtree(c))
        for t in complements:
            # "is bent" + "forward": one state, "bent forward"
            extra = state_words if len(complements) == 1 and not self._simple(st, t) else []
            self._complement(st, t, ent, frames, extra=extra)
            if extra:
                state_words = []
        if state_words:
            words = [toks[i].lower for i in sorted(set(state_words)) if toks[i].lower not in VALUE_STOPWORDS]
            if words and not set(words) <= lx.STILL_ADJECTIVES:
                self.add_attribute(ent, "state", " ".join(words), frames)
            elif words:
                self.add_relation(ent.id, "stay still", None, "action", frames)

    def _is_person(self, eid: str) -> bool:
        return self._keys.get(eid, "").split()[-1:] != [] and self._keys[eid].split()[-1] in lx.PERSON_NOUNS

    def _wears_color(self, st: _State, v: Tok, ent: Entity, frames: tuple[float, float] | None) -> bool:
        """ "wearing white", "dressed in red": the colour of the clothes, which become a part of the wearer."""
        toks = st.toks
        words: list[str] = []
        for c in v.children:
            if toks[c].dep in ("dobj", "oprd", "acomp") and c not in st.mentions or (
                    toks[c].dep == "prep" and toks[c].lower == "in"):
                words += [toks[k].lower for k in st.parse.subtree(c) if k != c or toks[c].dep != "prep"]
        colors = [_color_word(w) for w in words if w not in COLOR_FILLERS]
        if not colors or not all(colors) or ent.kind != "object":
            return False
        key = f"{ent.id} clothes"
        clothes = self._find(key) or self._new_entity("clothes", key, plural=True)
        clothes.part_of = ent.id
        for color in colors:
            self.add_attribute(clothes, "color", color or "", frames)
        return True

    def _in_color(self, st: _State, p: Tok, ent: Entity, frames: tuple[float, float] | None) -> bool:
        """ "in red", "in black and white": colours given with "in"."""
        words = [st.toks[k].lower for k in st.parse.subtree(p.i)][1:]
        content = [w for w in words if w not in COLOR_FILLERS]
        if content and all(_color_word(w) or w in lx.COLOR_SHADES for w in content):
            for w in content:
                if _color_word(w):
                    self.add_attribute(ent, "color", _color_word(w) or w, frames)
            return True
        return False

    def _about_entity(self, st: _State, c: int) -> bool:
        """Whether the phrase under token ``c`` names an entity (then it is a relation, not part of a state)
        or the picture itself ("in this image")."""
        for d in st.parse.subtree(c):
            if d != c and (d in st.mentions or st.toks[d].lemma in lx.META_NOUNS):
                return True
        return False

    def _complement(self, st: _State, v: Tok, ent: Entity, frames: tuple[float, float] | None,
                    extra: list[int] | None = None) -> None:
        """A predicative adjective or participle, with its "and"-joined siblings: "white and narrow",
        "bent forward off the ground", "brown in color"."""
        toks = st.toks
        if (_color_word(v.lower) or (self._simple(st, v) and v.pos == "ADJ")) and not extra:
            self._adjective(st, v, ent, frames)
            for c in v.children:
                if toks[c].dep == "prep" and toks[c].lower == "in":
                    self._in_color(st, toks[c], ent, frames)
            return
        keep: list[int] = [v.i] + list(extra or [])
        for c in v.children:
            t = toks[c]
            if t.dep in SUBJECT_DEPS or t.dep in ("aux", "auxpass", "punct", "cc", "conj", "mark", "neg",
                                                  "advcl", "relcl", "ccomp", "xcomp", "acl", "dobj"):
                continue
            if t.dep == "prep" and t.lower == "in" and self._in_color(st, t, ent, frames):
                continue
            if self._about_entity(st, c):
                continue  # "unhappy at Disneyland": the place becomes a relation of its own
            keep.extend(st.parse.subtree(c))
        words = [toks[i].lower for i in sorted(set(keep)) if toks[i].lower not in VALUE_STOPWORDS
                 and toks[i].pos != "PUNCT"]
        for c in v.children:
            if toks[c].dep == "conj" and toks[c].pos in ("ADJ", "VERB") and c not in st.consumed:
                self._complement(st, toks[c], ent, frames)
        if not words:
            return
        if set(words) <= lx.STILL_ADJECTIVES:
            self.add_relation(ent.id, "stay still", None, "action", frames)
            return
        value = " ".join(words)
        category = lx.attribute_category(value) if len(words) == 1 else "state"
        if category == "material":
            value = lx.MATERIALS[value]
        self.add_attribute(ent, category, value, frames)

    def _simple(self, st: _State, t: Tok) -> bool:
        """An adjective with nothing but degree words, "and"-siblings or place phrases of its own."""
        toks = st.toks
        return all(toks[c].dep in ("advmod", "npadvmod") and not toks[c].children and c < t.i
                   or toks[c].dep in ("conj", "cc", "punct") or (toks[c].dep == "prep" and toks[c].lower == "in")
                   or (toks[c].dep == "prep" and self._about_entity(st, c))
                   for c in t.children)

    def _made_of_material(self, st: _State, v: Tok, ent: Entity) -> None:
        for i in st.parse.subtree(v.i):
            t = st.toks[i]
            if t.pos in NOUN_POS and i > v.i:
                self.add_attribute(ent, "material", lx.MATERIALS.get(t.lower, t.lemma))
                return

    def _change(self, ent: Entity, before: str, after: str, frames: tuple[float, float] | None) -> None:
        for value, when in ((before, start_of(frames)), (after, end_of(frames))):
            if not value:
                continue
            if value in lx.BIGGER or value in lx.SMALLER:
                self._grow(ent, "grow" if value in lx.BIGGER else "shrink", frames)
                continue
            words = value.split()
            if lx.is_color_phrase(words):
                for color in (w for w in words if w in lx.COLORS):
                    shade = [words[k - 1] for k, w in enumerate(words) if w == color and k and words[k - 1]
                             in lx.COLOR_SHADES]
                    self.add_attribute(ent, "color", " ".join(shade + [color]), when)
            else:
                self.add_attribute(ent, lx.attribute_category(value), value, when)

    def _grow(self, ent: Entity, how: str, frames: tuple[float, float] | None) -> None:
        """Growth is a size change: small at the start of its span and big at the end (reversed to shrink)."""
        self.add_relation(ent.id, how, None, "action", frames)
        first, last = ("small", "big") if how == "grow" else ("big", "small")
        self.add_attribute(ent, "size", first, start_of(frames))
        self.add_attribute(ent, "size", last, end_of(frames))

    # -- prepositions on nouns ----------------------------------------------------------------------
    def _noun_prep(self, st: _State, p: Tok) -> None:
        if self.entity(st.mentions[p.head]).kind != "object":
            return  # "against a backdrop, a ball over a circle": the backdrop locates nothing
        ent = self.entity(st.mentions[p.head])
        if p.lower == "in" and self._in_color(st, p, ent, st.frames):
            return  # "the text in red"
        if p.lower == "as":  # "a cat as a gangster": what it is shown as
            for c in p.children:
                if c in st.mentions and self.entity(st.mentions[c]).kind == "object":
                    self.add_attribute(ent, "type", self.entity(st.mentions[c]).name)
            return
        pred, targets = self._prep_target(st, p)
        if not targets or pred not in lx.LOCATING:
            return
        for subject in self._group(st, p.head):
            for obj in targets:
                self.add_relation(subject, pred, obj, "spatial", st.frames)

    def _loose_relation(self, st: _State, end: int) -> None:
        """A spatial preposition or phrase ("beneath", "left of") no rule used yet: find its two sides by
        walking up the tree from it, or else take the nearest mentions around it."""
        toks = st.toks
        pred, first = st.phrase_end.get(end, (lx.SPATIAL_PHRASES.get((toks[end].lower,), ""), end))
        if pred not in lx.LOCATING:
            return
        targets: list[str] = []
        for c in toks[end].children:
            if c in st.mentions:
                targets = self._group(st, c)
        if not targets:
            nxt = next((j for j in range(end + 1, min(end + 5, len(toks))) if j in st.mentions), None)
            if nxt is None:
                return
            targets = self._group(st, nxt)
        subjects: list[str] = []
        j = first
        for _ in range(8):
            head = toks[j].head
            if head == j:
                break
            j = head
            if j in st.consumed:
                continue
            if j in st.mentions and self.entity(st.mentions[j]).kind == "object":
                subjects = self._group(st, j)
                break
            if toks[j].pos in ("VERB", "AUX", "ADJ"):
                subjects = [e for e in self._subjects(st, toks[j]) if e not in targets]
                if subjects:
                    break
        if not subjects:
            prev = self._preceding_object(st, first)
            subjects = [st.mentions[prev]] if prev is not None else []
        for subject in subjects:
            for obj in targets:
                self.add_relation(subject, pred, obj, "spatial", st.frames)


def _sentences(parse: Parse) -> list[list[int]]:
    """Token indices grouped by sentence (by root), in text order."""
    toks = parse.tokens
    roots: list[int] = []
    for tok in toks:
        j, steps = tok.i, 0
        while toks[j].head != j and steps < len(toks):
            j, steps = toks[j].head, steps + 1
        roots.append(j)
    groups: dict[int, list[int]] = {}
    for i, r in enumerate(roots):
        groups.setdefault(r, []).append(i)
    return sorted(groups.values(), key=lambda g: g[0])


def _value_run(toks: list[Tok], j: int) -> tuple[list[str] | None, int]:
    """Attribute words from ``j`` on ("dark red", "bigger"), and the index after them."""
    words: list[str] = []
    k = j
    while k < len(toks):
        w = toks[k].lower
        if w in lx.COLORS or w in lx.COLOR_SHADES or w in lx.SIZES or w in lx.BIGGER or w in lx.SMALLER \
                or w in lx.TEXTURES:
            words.append(w)
        elif w == "and" and words and k + 1 < len(toks) and toks[k + 1].lower in lx.COLORS:
            words.append(w)
        else:
            break
        k += 1
    if not words or words[-1] in lx.COLOR_SHADES:
        return None, j
    return words, k


def _made_of(toks: list[Tok], of_index: int) -> bool:
    """Whether the preposition at ``of_index`` is the "of"/"from" of "made of", "carved out of"."""
    if toks[of_index].lower not in ("of", "from"):
        return False
    prev = toks[of_index - 1].lemma if of_index > 0 else ""
    return prev in MADE_VERBS or prev == "out"


def _number(t: Tok) -> int | None:
    if t.lower in lx.NUMBERS:
        return lx.NUMBERS[t.lower]
    if t.text.isdigit() and len(t.text) <= 3:
        return int(t.text)
    return None


def _color_word(word: str) -> str | None:
    """The colour a word names: "red", "reddish" → None, "green-colored" → "green", "grey" → "grey"."""
    w = word.lower()
    if w in lx.COLORS:
        return w
    for suffix in ("-colored", "-coloured", "-colour", "-color"):
        if w.endswith(suffix) and w[: -len(suffix)] in lx.COLORS:
            return w[: -len(suffix)]
    return None


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
