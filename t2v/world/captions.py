"""Captions of shapes-world scenes: one plain canonical caption, and many paraphrases.

Paraphrases vary synonyms (ball/circle/disc, crimson/red), verb forms ("bouncing", "bounces"),
and word order (background or camera first or last), so the embedded model learns the words
rather than a template. ``vocabulary="train"`` draws only from the lexicon's train words and
states everything in the spec (a "still" motion may go unsaid); ``"heldout"`` puts at least one
held-out synonym in every caption, for testing generalisation. Every phrasing made here is one
that :func:`parse_caption` reads back to the same scene.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Collection, Sequence

from .lexicon import (
    BACKGROUND_WORDS,
    COLOR_WORDS,
    DIRECTION_WORDS,
    HELDOUT,
    LEXICON,
    MOTION_VERBS,
    MOVE_VERBS,
    PAN_VERBS,
    RELATION_WORDS,
    SHAPE_WORDS,
    SIZE_WORDS,
    SPLITS,
    STATIC_CAMERA_WORDS,
    STILL_ADJECTIVES,
    TRAIN,
    lexicon,
)
from .parser import lexicon_phrases, parse_caption
from .spec import NOUN_ATTRIBUTES, TRANSLATIONS, ShapeObject, WorldSpec

__all__ = ["LEXICON", "canonical_caption", "captions", "lexicon", "parse_caption"]

MAX_CAPTIONS = 1000
_ATTEMPTS_PER_CAPTION = 40
_CANONICAL_MOTION = {
    "left": "moving left", "right": "moving right", "up": "moving up", "down": "moving down",
    "bounce": "bouncing", "grow": "growing", "shrink": "shrinking", "still": "",
}
_CANONICAL_RELATION = {"left of": "to the left of", "right of": "to the right of", "above": "above", "below": "below"}
# Verbs of staying, by form (participle, singular, plural), joined with an adjective of stillness.
_STAY_VERBS = (("staying", "sitting", "standing", "remaining"), ("stays", "sits", "stands", "remains", "is"),
               ("stay", "sit", "stand", "remain", "are"))
_FORMS = {"part": 0, "sing": 1, "plur": 2}
_GENERIC_NOUNS = (("shape", "object"), ("shapes", "objects"))  # the noun when the shape is unsaid
_Choices = tuple[Sequence[str], Sequence[str]]  # (train options, held-out options)


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def _with_article(phrase: str) -> str:
    return f"{_article(phrase)} {phrase}"


def _join(*parts: str) -> str:
    """Join non-empty parts with spaces and tidy the commas that empty parts leave."""
    text = " ".join(p.strip() for p in parts if p and p.strip())
    while " ," in text:
        text = text.replace(" ,", ",")
    text = text.replace(",,", ",").strip(" ,")
    return text


# -- canonical ---------------------------------------------------------------------------

def _canonical_noun(obj: ShapeObject) -> str:
    return f"{obj.size} {obj.color} {obj.shape}"


def _canonical_setting(spec: WorldSpec) -> str:
    text = f"on {_with_article(spec.background)} background"
    if spec.camera != "static":
        text += f" as the camera pans {spec.camera.split()[1]}"
    return text


def _is_pair(spec: WorldSpec) -> bool:
    """Two objects alike in everything the caption says, with no relation: "two red balls"."""
    if len(spec.objects) != 2 or spec.relation is not None:
        return False
    a, b = spec.objects
    return (a.shape, a.color, a.size, a.motion) == (b.shape, b.color, b.size, b.motion)


def canonical_caption(spec: WorldSpec) -> str:
    """One plain, deterministic caption: "a big red circle bouncing on a gray background"."""
    if not isinstance(spec, WorldSpec):
        raise ValueError(f"spec must be a WorldSpec, got {type(spec).__name__}")
    setting = _canonical_setting(spec)
    if _is_pair(spec):
        obj = spec.objects[0]
        return _join(f"two {_canonical_noun(obj)}s", _CANONICAL_MOTION[obj.motion], setting)
    described = [_join(_with_article(_canonical_noun(o)), _CANONICAL_MOTION[o.motion]) for o in spec.objects]
    if len(described) == 1:
        return _join(described[0], setting)
    link = _CANONICAL_RELATION[spec.relation] if spec.relation is not None else "and"
    return _join(described[0], link, described[1], setting)


# -- paraphrases -------------------------------------------------------------------------

class _Chooser:
    """Picks words for one caption: train words only, or a mix of train and held-out words."""

    def __init__(self, rng: random.Random, vocabulary: str, omit: frozenset[str] = frozenset()) -> None:
        self.rng = rng
        self.heldout = vocabulary == HELDOUT
        self.omit = omit  # object attributes left unsaid

    def pick(self, choices: _Choices) -> str:
        train, heldout = choices
        if self.heldout and heldout and (not train or self.rng.random() < 0.5):
            return self.rng.choice(list(heldout))
        return self.rng.choice(list(train))

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def one_of(self, options: Sequence[str]) -> str:
        return self.rng.choice(list(options))


def _forms(verbs: Sequence[tuple[str, str, str]], form: str) -> list[str]:
    return [v[_FORMS[form]] for v in verbs]


def _direction_options(direction: str) -> list[str]:
    options = list(DIRECTION_WORDS[direction][0])
    if direction in ("left", "right"):
        options.append(f"to the {direction}")
    return options


def _motion(ch: _Chooser, motion: str, form: str) -> str:
    """A motion phrase in ``form`` ("part" bouncing, "sing" bounces, "plur" bounce)."""
    if motion in TRANSLATIONS:
        train = [f"{v} {ch.one_of(_direction_options(motion))}" for v in _forms(MOVE_VERBS[0], form)]
        heldout = [f"{v} {ch.one_of(_direction_options(motion))}" for v in _forms(MOVE_VERBS[1], form)]
        if motion in MOTION_VERBS:  # rising, falling...
            train += _forms(MOTION_VERBS[motion][0], form)
            heldout += _forms(MOTION_VERBS[motion][1], form)
        return ch.pick((train, heldout))
    if motion == "still":
        stay = _STAY_VERBS[_FORMS[form]]
        train = [f"{s} {a}" for s in stay for a in STILL_ADJECTIVES[0]] + _forms(MOTION_VERBS["still"][0], form)
        train.append({"part": "at rest", "sing": "is at rest", "plur": "are at rest"}[form])
        heldout = [f"{s} {a}" for s in stay for a in STILL_ADJECTIVES[1]]
        return ch.pick((train, heldout))
    return ch.pick((_forms(MOTION_VERBS[motion][0], form), _forms(MOTION_VERBS[motion][1], form)))


def _maybe_motion(ch: _Chooser, obj: ShapeObject, form: str) -> str:
    """The motion phrase, or nothing for a still object now and then (no motion word means still)."""
    if obj.motion == "still" and ch.chance(0.4):
        return ""
    return _motion(ch, obj.motion, form)


def _split_pairs(pairs: tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]], index: int) -> _Choices:
    return [p[index] for p in pairs[0]], [p[index] for p in pairs[1]]


def _noun(ch: _Chooser, obj: ShapeObject, *, plural: bool = False) -> str:
    words = []
    if "size" not in ch.omit:
        words.append(ch.pick(SIZE_WORDS[obj.size]))
    if "color" not in ch.omit:
        words.append(ch.pick(COLOR_WORDS[obj.color]))
    if "shape" in ch.omit:
        words.append(ch.one_of(_GENERIC_NOUNS[1 if plural else 0]))
    else:
        words.append(ch.pick(_split_pairs(SHAPE_WORDS[obj.shape], 1 if plural else 0)))
    return " ".join(words)


def _determined(ch: _Chooser, noun: str, *, short: bool = False, another: bool = False) -> str:
    """A singular noun phrase with its determiner: "a big red ball", "one...", "a single...", "another...".

    ``short`` keeps to "a"/"another": two-object captions are long enough already.
    """
    options = [_with_article(noun)] * 4
    if not short:
        options += [f"one {noun}", f"a single {noun}"]
    if another:
        options += [f"another {noun}"] * 3
    return ch.one_of(options)


def _pair_count(ch: _Chooser) -> str:
    return ch.pick((["two", "two", "a pair of"], ["a couple of"]))


def _background(ch: _Chooser, spec: WorldSpec, *, leading: bool) -> str:
    word = ch.pick(BACKGROUND_WORDS[spec.background])
    options = [f"on {_with_article(word)} background", f"against {_with_article(word)} backdrop",
               f"on {_with_article(word)} backdrop"]
    if not leading:
        options.append(f"with {_with_article(word)} background")
    return ch.one_of(options)


def _camera(ch: _Chooser, spec: WorldSpec, *, leading: bool) -> str:
    if spec.camera == "static":
        if not leading and len(spec.objects) == 1 and ch.chance(0.15):  # two-object captions are long
            return f"with {_with_article(ch.pick(STATIC_CAMERA_WORDS))} camera"
        return ""
    direction = spec.camera.split()[1]
    if len(spec.objects) == 1:  # two-object captions keep the short form
        direction = ch.one_of(_direction_options(direction))
    frames = ["as the camera {} {}", "while the camera {} {}", "as the view {} {}"]
    if not leading:
        frames.append("with the camera {} {}")
    frame = ch.one_of(frames)
    form = "part" if frame.startswith("with") else "sing"
    verb = ch.pick((_forms(PAN_VERBS[0], form), _forms(PAN_VERBS[1], form)))
    return frame.format(verb, direction)


def _relation(ch: _Chooser, relation: str) -> str:
    return ch.pick(RELATION_WORDS[relation])


def _single(ch: _Chooser, spec: WorldSpec) -> str:
    obj = spec.objects[0]
    noun = _determined(ch, _noun(ch, obj))
    layout = ch.rng.randrange(7)
    if layout == 0:
        return _join(noun, _maybe_motion(ch, obj, "part"), _background(ch, spec, leading=False),
                     _camera(ch, spec, leading=False))
    if layout == 1:
        return _join(noun, _maybe_motion(ch, obj, "sing"), _background(ch, spec, leading=False),
                     _camera(ch, spec, leading=False))
    if layout == 2:
        return _join(_background(ch, spec, leading=True) + ",", noun, _maybe_motion(ch, obj, "sing"),
                     _camera(ch, spec, leading=False))
    if layout == 3 and spec.camera != "static":
        return _join(_camera(ch, spec, leading=True) + ",", noun, _maybe_motion(ch, obj, "sing"),
                     _background(ch, spec, leading=False))
    if layout == 4:
        return _join(noun, _background(ch, spec, leading=False) + ",", _maybe_motion(ch, obj, "part"),
                     _camera(ch, spec, leading=False))
    if layout == 5:
        word = ch.pick(BACKGROUND_WORDS[spec.background])
        return _join(f"{_with_article(word)} background with", noun, _maybe_motion(ch, obj, "part"),
                     _camera(ch, spec, leading=False))
    return _join("there is", noun, _maybe_motion(ch, obj, "part"), _background(ch, spec, leading=False),
                 _camera(ch, spec, leading=False))


def _two(ch: _Chooser, spec: WorldSpec) -> str:
    a, b = spec.objects
    identical = (a.shape, a.color, a.size) == (b.shape, b.color, b.size)
    noun_a = _determined(ch, _noun(ch, a), short=True)
    noun_b = _determined(ch, _noun(ch, b), short=True, another=identical)
    link = _relation(ch, spec.relation) if spec.relation is not None else "and"
    layout = ch.rng.randrange(4)
    if layout == 0:
        return _join(noun_a, _maybe_motion(ch, a, "part"), link, noun_b, _maybe_motion(ch, b, "part"),
                     _background(ch, spec, leading=False), _camera(ch, spec, leading=False))
    if layout == 1:
        return _join(_background(ch, spec, leading=True) + ",", noun_a, _maybe_motion(ch, a, "sing"), link,
                     noun_b, _maybe_motion(ch, b, "part"), _camera(ch, spec, leading=False))
    if layout == 2 and spec.camera != "static":
        return _join(_camera(ch, spec, leading=True) + ",", noun_a, _maybe_motion(ch, a, "part"), link,
                     noun_b, _maybe_motion(ch, b, "part"), _background(ch, spec, leading=False))
    opening = "there is" if spec.camera == "static" else ""  # pans make the caption long already
    return _join(opening, noun_a, _maybe_motion(ch, a, "part"), link, noun_b, _maybe_motion(ch, b, "part"),
                 _background(ch, spec, leading=False), _camera(ch, spec, leading=False))


def _pair(ch: _Chooser, spec: WorldSpec) -> str:
    obj = spec.objects[0]
    nouns = f"{_pair_count(ch)} {_noun(ch, obj, plural=True)}"
    layout = ch.rng.randrange(4)
    if layout == 0:
        return _join(nouns, _maybe_motion(ch, obj, "part"), _background(ch, spec, leading=False),
                     _camera(ch, spec, leading=False))
    if layout == 1:
        return _join(nouns, _maybe_motion(ch, obj, "plur"), _background(ch, spec, leading=False),
                     _camera(ch, spec, leading=False))
    if layout == 2:
        return _join(_background(ch, spec, leading=True) + ",", nouns, _maybe_motion(ch, obj, "plur"),
                     _camera(ch, spec, leading=False))
    return _join("there are", nouns, _maybe_motion(ch, obj, "part"), _background(ch, spec, leading=False),
                 _camera(ch, spec, leading=False))


def _paraphrase(ch: _Chooser, spec: WorldSpec) -> str:
    make: Callable[[_Chooser, WorldSpec], str]
    if len(spec.objects) == 1:
        make = _single
    elif _is_pair(spec) and not ch.chance(0.2):
        make = _pair
    else:
        make = _two
    return make(ch, spec)


def _uses_heldout(text: str) -> bool:
    return any(LEXICON[phrase].heldout for phrase in lexicon_phrases(text))


def captions(
    spec: WorldSpec,
    rng: random.Random,
    *,
    n: int = 8,
    vocabulary: str = TRAIN,
    keep: Callable[[str], bool] | None = None,
    omit: Collection[str] = (),
) -> list[str]:
    """Up to ``n`` different paraphrases of ``spec`` (fewer only if the scene has fewer phrasings).

    ``vocabulary="train"`` uses train words only; ``"heldout"`` makes every caption use at least one
    held-out word. Word choices come from ``rng``, so a seeded ``random.Random`` repeats them.
    ``keep`` filters candidates, e.g. ``lambda t: len(tokenizer(t).input_ids) <= 32`` so that no
    caption is cut by the text encoder's maximum length. ``omit`` leaves some of ``NOUN_ATTRIBUTES``
    unsaid for every object ("a big shape moving left"): training on such captions makes each word
    count on its own, not through the words it usually comes with. A caption with omissions fits
    many scenes, so :func:`parse_caption` does not read it back to this one.
    """
    if not isinstance(spec, WorldSpec):
        raise ValueError(f"spec must be a WorldSpec, got {type(spec).__name__}")
    if not isinstance(rng, random.Random):
        raise ValueError(f"rng must be a random.Random, got {type(rng).__name__}")
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_CAPTIONS:
        raise ValueError(f"n must be an integer in [1, {MAX_CAPTIONS}], got {n!r}")
    if vocabulary not in SPLITS:
        raise ValueError(f"vocabulary must be one of {list(SPLITS)}, got {vocabulary!r}")
    if isinstance(omit, str) or not set(omit) <= set(NOUN_ATTRIBUTES):
        raise ValueError(f"omit must be a collection of {list(NOUN_ATTRIBUTES)}, got {omit!r}")
    left_out = frozenset(omit)
    found: list[str] = []
    seen: set[str] = set()
    for _ in range(n * _ATTEMPTS_PER_CAPTION):
        ch = _Chooser(rng, vocabulary, left_out)
        text = _paraphrase(ch, spec)
        if vocabulary == HELDOUT and not _uses_heldout(text):
            continue
        if text in seen:
            continue
        seen.add(text)
        if keep is None or keep(text):
            found.append(text)
            if len(found) == n:
                break
    return found
