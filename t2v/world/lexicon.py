"""The shapes world's words: every word or phrase that captions use or the parser reads, mapped to a
category and a canonical value of :mod:`t2v.world.spec`, and split into ``train`` and ``heldout``.

Training captions of the embedded model use only ``train`` words. ``heldout`` words are synonyms
the model never saw in training but the parser understands, so an evaluation can ask whether the
model generalises through its text encoder rather than memorising caption strings.

Categories whose values are spec values: ``color``, ``shape``, ``size``, ``motion``, ``relation``,
``background``, ``camera`` (``"static"`` only; pans are built from a pan verb and a direction) and
``count`` (an int). Grammar categories, combined by the parser: ``direction`` (left/right/up/down,
completed by a preceding ``move_verb`` into a motion or a ``pan_verb`` into a camera pan). Words in
:data:`FILLERS` carry no meaning of their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from .spec import BACKGROUNDS, COLORS, MOTIONS, RELATIONS, SHAPES, SIZES

TRAIN, HELDOUT = "train", "heldout"
SPLITS: tuple[str, ...] = (TRAIN, HELDOUT)


@dataclass(frozen=True)
class LexiconEntry:
    """What one word or phrase means: its category, the canonical value, and whether it is held out."""

    category: str
    value: str | int
    heldout: bool = False
    plural: bool = False  # plural nouns ("balls") imply two objects


# -- the words, as (train, heldout) per canonical value ------------------------------------

COLOR_WORDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "red": (("red", "crimson"), ("scarlet", "ruby")),
    "orange": (("orange", "amber"), ("tangerine",)),
    "yellow": (("yellow", "golden"), ("lemon",)),
    "green": (("green", "emerald"), ("lime",)),
    "blue": (("blue", "cobalt"), ("azure", "sapphire")),
    "purple": (("purple", "violet"), ("lilac", "lavender")),
}
# Each shape word with its plural.
SHAPE_WORDS: dict[str, tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]] = {
    "circle": ((("circle", "circles"), ("ball", "balls"), ("disc", "discs"), ("disk", "disks"), ("dot", "dots")),
               (("orb", "orbs"), ("sphere", "spheres"))),
    "square": ((("square", "squares"), ("box", "boxes"), ("block", "blocks")),
               (("cube", "cubes"), ("tile", "tiles"))),
    "triangle": ((("triangle", "triangles"), ("wedge", "wedges")),
                 (("pyramid", "pyramids"),)),
}
SIZE_WORDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "small": (("small", "little"), ("tiny", "miniature")),
    "big": (("big", "huge"), ("large", "giant")),
}
BACKGROUND_WORDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "black": (("black",), ("ebony",)),
    "gray": (("gray", "grey"), ("silver",)),
    "white": (("white",), ("ivory", "snowy")),
    "checkered": (("checkered", "checkerboard", "chequered"), ("checked",)),
}
DIRECTION_WORDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "left": (("left", "leftward", "leftwards"), ()),
    "right": (("right", "rightward", "rightwards"), ()),
    "up": (("up", "upward", "upwards"), ()),
    "down": (("down", "downward", "downwards"), ()),
}
# Verb forms (participle, singular, plural): a move verb needs a direction ("sliding left").
MOVE_VERBS: tuple[tuple[tuple[str, str, str], ...], tuple[tuple[str, str, str], ...]] = (
    (("moving", "moves", "move"), ("going", "goes", "go"), ("sliding", "slides", "slide"),
     ("drifting", "drifts", "drift"), ("heading", "heads", "head"), ("travelling", "travels", "travel")),
    (("gliding", "glides", "glide"), ("shifting", "shifts", "shift")),
)
PAN_VERBS: tuple[tuple[tuple[str, str, str], ...], tuple[tuple[str, str, str], ...]] = (
    (("panning", "pans", "pan"),),
    (("sweeping", "sweeps", "sweep"),),
)
# Complete motions, as (participle, singular, plural) verb phrases.
MOTION_VERBS: dict[str, tuple[tuple[tuple[str, str, str], ...], tuple[tuple[str, str, str], ...]]] = {
    "up": ((("rising", "rises", "rise"),),
           (("ascending", "ascends", "ascend"), ("climbing", "climbs", "climb"))),
    "down": ((("falling", "falls", "fall"), ("sinking", "sinks", "sink"), ("dropping", "drops", "drop")),
             (("descending", "descends", "descend"),)),
    "bounce": ((("bouncing", "bounces", "bounce"), ("hopping", "hops", "hop")),
               (("jumping", "jumps", "jump"), ("bobbing", "bobs", "bob"))),
    "grow": ((("growing", "grows", "grow"), ("getting bigger", "gets bigger", "get bigger"),
              ("expanding", "expands", "expand")),
             (("swelling", "swells", "swell"), ("enlarging", "enlarges", "enlarge"),
              ("getting larger", "gets larger", "get larger"))),
    "shrink": ((("shrinking", "shrinks", "shrink"), ("getting smaller", "gets smaller", "get smaller")),
               (("contracting", "contracts", "contract"), ("dwindling", "dwindles", "dwindle"))),
    "still": ((("resting", "rests", "rest"), ("not moving", "does not move", "do not move")),
              ()),
}
# Adjectives of stillness, used after a copula or a stay verb ("is motionless", "stays still").
STILL_ADJECTIVES: tuple[tuple[str, ...], tuple[str, ...]] = (("still", "motionless"), ("stationary", "immobile"))
RELATION_WORDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "left of": (("to the left of", "left of", "on the left of"), ()),
    "right of": (("to the right of", "right of", "on the right of"), ()),
    "above": (("above", "over"), ("on top of", "atop")),
    "below": (("below", "under", "beneath"), ("underneath",)),
}
STATIC_CAMERA_WORDS: tuple[tuple[str, ...], tuple[str, ...]] = (("static", "fixed"), ("steady",))
COUNT_WORDS: dict[int, tuple[tuple[str, ...], tuple[str, ...]]] = {
    1: (("one", "single"), ()),
    2: (("two", "pair"), ("couple",)),
    3: (("three",), ()),
    4: (("four",), ()),
    5: (("five",), ()),
    6: (("six",), ()),
    7: (("seven",), ()),
    8: (("eight",), ()),
    9: (("nine",), ()),
    10: (("ten", "several", "many", "multiple"), ()),
}

# Words with no meaning of their own: articles, copulas, stay verbs, prepositions, scene nouns.
FILLERS: frozenset[str] = frozenset({
    "a", "an", "the", "is", "are", "on", "in", "of", "and", "while", "with", "background", "backdrop",
    "scene", "camera", "video", "clip", "view", "as", "to", "that", "which", "there", "another", "against",
    "toward", "towards", "at", "its", "it", "showing", "shows", "stays", "staying", "stay", "remains",
    "remaining", "remain", "sits", "sitting", "sit", "stands", "standing", "stand", "both",
})


def _build() -> dict[str, LexiconEntry]:
    table: dict[str, LexiconEntry] = {}

    def add(phrase: str, category: str, value: str | int, heldout: bool, plural: bool = False) -> None:
        if phrase in table and table[phrase] != LexiconEntry(category, value, heldout, plural):
            raise RuntimeError(f"lexicon phrase {phrase!r} has two meanings")  # a bug in the tables above
        table[phrase] = LexiconEntry(category, value, heldout, plural)

    for split, heldout in ((0, False), (1, True)):
        for value, words in COLOR_WORDS.items():
            for word in words[split]:
                add(word, "color", value, heldout)
        for value, pairs in SHAPE_WORDS.items():
            for singular, plural in pairs[split]:
                add(singular, "shape", value, heldout)
                add(plural, "shape", value, heldout, plural=True)
        for value, words in SIZE_WORDS.items():
            for word in words[split]:
                add(word, "size", value, heldout)
        for value, words in BACKGROUND_WORDS.items():
            for word in words[split]:
                add(word, "background", value, heldout)
        for value, words in DIRECTION_WORDS.items():
            for word in words[split]:
                add(word, "direction", value, heldout)
        for forms in MOVE_VERBS[split]:
            for word in forms:
                add(word, "move_verb", "move", heldout)
        for forms in PAN_VERBS[split]:
            for word in forms:
                add(word, "pan_verb", "pan", heldout)
        for value, verbs in MOTION_VERBS.items():
            for forms in verbs[split]:
                for word in forms:
                    add(word, "motion", value, heldout)
        for word in STILL_ADJECTIVES[split]:
            add(word, "motion", "still", heldout)
        for value, words in RELATION_WORDS.items():
            for word in words[split]:
                add(word, "relation", value, heldout)
        for word in STATIC_CAMERA_WORDS[split]:
            add(word, "camera", "static", heldout)
        for value, words in COUNT_WORDS.items():
            for word in words[split]:
                add(word, "count", value, heldout)
    clash = FILLERS & set(table)
    if clash:
        raise RuntimeError(f"filler words also in the lexicon: {sorted(clash)}")
    return table


LEXICON: MappingProxyType[str, LexiconEntry] = MappingProxyType(_build())
"""Every word or phrase (lower case, words separated by one space) → its :class:`LexiconEntry`."""

MAX_PHRASE_WORDS = max(len(phrase.split()) for phrase in LEXICON)


def lexicon(split: str | None = None) -> dict[str, tuple[str, str | int]]:
    """Word or phrase → (category, canonical value); ``split`` "train" or "heldout" keeps only that split."""
    if split is not None and split not in SPLITS:
        raise ValueError(f"split must be one of {list(SPLITS)} or None, got {split!r}")
    return {
        phrase: (entry.category, entry.value)
        for phrase, entry in LEXICON.items()
        if split is None or entry.heldout == (split == HELDOUT)
    }


def _check_coverage() -> None:
    """Every spec value has train words and (colours, shapes, sizes) held-out words: a guard for edits."""
    for category, values, tables in (("color", COLORS, COLOR_WORDS), ("size", SIZES, SIZE_WORDS),
                                     ("background", BACKGROUNDS, BACKGROUND_WORDS),
                                     ("relation", RELATIONS, RELATION_WORDS)):
        if set(values) != set(tables):
            raise RuntimeError(f"lexicon {category} words do not match the spec's {category} values")
    if set(SHAPES) != set(SHAPE_WORDS) or not set(MOTION_VERBS) | set(DIRECTION_WORDS) >= set(MOTIONS):
        raise RuntimeError("lexicon shape or motion words do not match the spec")


_check_coverage()
