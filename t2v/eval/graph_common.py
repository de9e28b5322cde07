"""What the scene-graph rules share: word sets, the per-segment state, and small token helpers."""

from __future__ import annotations

from dataclasses import dataclass, field

from . import lexicon as lx
from .parsing import Parse, Tok

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
    """The first instant of a clip-time range (the whole clip when None)."""
    lo = 0.0 if frames is None else frames[0]
    return (lo, lo)


def end_of(frames: tuple[float, float] | None) -> tuple[float, float]:
    """The last instant of a clip-time range (the whole clip when None)."""
    hi = 1.0 if frames is None else frames[1]
    return (hi, hi)


@dataclass
class State:
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


def sentences(parse: Parse) -> list[list[int]]:
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


def value_run(toks: list[Tok], j: int) -> tuple[list[str] | None, int]:
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


def is_made_of(toks: list[Tok], of_index: int) -> bool:
    """Whether the preposition at ``of_index`` is the "of"/"from" of "made of", "carved out of"."""
    if toks[of_index].lower not in ("of", "from"):
        return False
    prev = toks[of_index - 1].lemma if of_index > 0 else ""
    return prev in MADE_VERBS or prev == "out"


def number_value(t: Tok) -> int | None:
    """The number a token spells ("two", "12"), or None."""
    if t.lower in lx.NUMBERS:
        return lx.NUMBERS[t.lower]
    if t.text.isdigit() and len(t.text) <= 3:
        return int(t.text)
    return None


def color_word(word: str) -> str | None:
    """The colour a word names: "red", "reddish" → None, "green-colored" → "green", "grey" → "grey"."""
    w = word.lower()
    if w in lx.COLORS:
        return w
    for suffix in ("-colored", "-coloured", "-colour", "-color"):
        if w.endswith(suffix) and w[: -len(suffix)] in lx.COLORS:
            return w[: -len(suffix)]
    return None
