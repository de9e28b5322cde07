"""Read a shapes-world caption back into a :class:`WorldSpec`.

The parser knows the whole lexicon (train and held-out words), so it reads the model's training
captions, their held-out paraphrases and plain user prompts alike. Grammar, in the order words
may come: ``[count] [size] [colour] shape [motion] [relation] [count] [size] [colour] shape [motion]``,
with the background and the camera anywhere. A motion belongs to the shape before it (or, before
any shape, to the first one); ``both`` gives it to every shape so far. Start positions come from
:func:`t2v.world.sampling.canonical_layout`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .lexicon import FILLERS, LEXICON, MAX_PHRASE_WORDS, LexiconEntry
from .sampling import canonical_layout
from .spec import BACKGROUNDS, COLORS, MAX_OBJECTS, MOTIONS, RELATIONS, SHAPES, SIZES, ShapeObject, WorldSpec

_WORD = re.compile(r"[a-z0-9]+")
_DIGIT_COUNTS = {str(n): n for n in range(0, 100)}


@dataclass
class _Token:
    """One lexicon match (or marker) in the caption, with the text that produced it."""

    category: str
    value: str | int | None
    text: str
    plural: bool = False


@dataclass
class _Group:
    """The object(s) one noun phrase introduces ("two red balls" is one group of two)."""

    shape: str
    color: str
    size: str
    count: int
    text: str
    motion: str | None = None
    motion_text: str = ""


@dataclass
class _State:
    groups: list[_Group] = field(default_factory=list)
    modifiers: dict[str, _Token] = field(default_factory=dict)
    pending_motion: _Token | None = None
    relation: _Token | None = None
    relation_after: int = 0  # number of groups before the relation
    background: _Token | None = None
    camera: _Token | None = None
    both: bool = False


def _known_words_hint() -> str:
    return (f"known colours: {', '.join(COLORS)}; shapes: {', '.join(SHAPES)}; sizes: {', '.join(SIZES)}; "
            f"motions: {', '.join(MOTIONS)}; backgrounds: {', '.join(BACKGROUNDS)}")


def _lex(text: str) -> list[_Token]:
    """Longest-match the caption's words against the lexicon; unknown words raise ``ValueError``."""
    words = _WORD.findall(text.lower())
    tokens: list[_Token] = []
    i = 0
    while i < len(words):
        for length in range(min(MAX_PHRASE_WORDS, len(words) - i), 0, -1):
            phrase = " ".join(words[i:i + length])
            entry: LexiconEntry | None = LEXICON.get(phrase)
            if entry is not None:
                tokens.append(_Token(entry.category, entry.value, phrase, entry.plural))
                i += length
                break
        else:
            word = words[i]
            if word in _DIGIT_COUNTS:
                tokens.append(_Token("count", _DIGIT_COUNTS[word], word))
            elif word == "both":
                tokens.append(_Token("both", None, word))
            elif word in FILLERS:
                tokens.append(_Token("filler", None, word))
            else:
                raise ValueError(f"unknown word {word!r} in caption; {_known_words_hint()}")
            i += 1
    return tokens


def lexicon_phrases(text: str) -> list[str]:
    """The lexicon words and phrases a caption uses, in order (fillers and digits left out).

    Raises ``ValueError`` for a word outside the world's vocabulary, as :func:`parse_caption` does.
    """
    return [tok.text for tok in _lex(text) if tok.text in LEXICON]


def _combine(tokens: list[_Token]) -> list[_Token]:
    """Join verbs with their directions: a move verb makes a motion, a pan verb a camera pan."""
    out: list[_Token] = []
    meaningful = [t for t in tokens if t.category != "filler"]
    i = 0
    while i < len(meaningful):
        tok = meaningful[i]
        nxt = meaningful[i + 1] if i + 1 < len(meaningful) else None
        if tok.category in ("move_verb", "pan_verb"):
            if nxt is None or nxt.category != "direction":
                if tok.category == "pan_verb":
                    raise ValueError(f"camera {tok.text!r} needs a direction: left or right")
                raise ValueError(f"{tok.text!r} needs a direction: left, right, up or down "
                                 "(for a relation write e.g. 'moving left, to the left of')")
            text = f"{tok.text} {nxt.text}"
            if tok.category == "pan_verb":
                if nxt.value not in ("left", "right"):
                    raise ValueError(f"the camera can pan left or right, got {text!r}")
                out.append(_Token("camera", f"pan {nxt.value}", text))
            else:
                out.append(_Token("motion", nxt.value, text))
            i += 2
            continue
        if tok.category == "direction":
            out.append(_Token("motion", tok.value, tok.text))
        else:
            out.append(tok)
        i += 1
    return out


def _set_once(current: _Token | None, new: _Token, what: str) -> _Token:
    if current is not None and current.value != new.value:
        raise ValueError(f"caption gives two {what}s: {current.text!r} and {new.text!r}")
    return new


def _attach_motion(state: _State, tok: _Token) -> None:
    targets = state.groups if state.both else state.groups[-1:]
    state.both = False
    if not targets:
        state.pending_motion = _set_once(state.pending_motion, tok, "motion before the first shape")
        return
    for group in targets:
        if group.motion is not None and group.motion != tok.value:
            raise ValueError(f"caption gives the {group.text!r} two motions: {group.motion_text!r} and {tok.text!r}")
        group.motion, group.motion_text = tok.value, tok.text


def _close_noun(state: _State, tok: _Token) -> None:
    mods = state.modifiers
    if "color" not in mods:
        raise ValueError(f"shape {tok.text!r} needs a colour: one of {', '.join(COLORS)}")
    count_tok = mods.get("count")
    count = int(count_tok.value) if count_tok is not None else (2 if tok.plural else 1)
    if count < 1:
        raise ValueError(f"count {count_tok.text!r} must be at least 1")
    size = str(mods["size"].value) if "size" in mods else "big"
    text = " ".join(m.text for m in mods.values() if m.category != "count") + " " + tok.text
    group = _Group(str(tok.value), str(mods["color"].value), size, count, text.strip())
    state.groups.append(group)
    state.modifiers = {}
    total = sum(g.count for g in state.groups)
    if total > MAX_OBJECTS:
        raise ValueError(f"caption describes {total} objects; a scene holds at most {MAX_OBJECTS}")
    if state.pending_motion is not None:
        _attach_motion(state, state.pending_motion)
        state.pending_motion = None


def _read(tokens: list[_Token]) -> _State:
    state = _State()
    for tok in tokens:
        if tok.category in ("count", "size", "color"):
            if tok.category in state.modifiers and state.modifiers[tok.category].value != tok.value:
                raise ValueError(f"caption gives one shape two {tok.category}s: "
                                 f"{state.modifiers[tok.category].text!r} and {tok.text!r}")
            if tok.category == "count" and int(tok.value) > MAX_OBJECTS:
                raise ValueError(f"caption asks for {tok.text!r} shapes; a scene holds at most {MAX_OBJECTS}")
            state.modifiers[tok.category] = tok
        elif tok.category == "shape":
            _close_noun(state, tok)
        elif tok.category == "motion":
            _attach_motion(state, tok)
        elif tok.category == "both":
            state.both = True
        elif tok.category == "relation":
            if state.relation is not None:
                raise ValueError(f"caption gives two relations: {state.relation.text!r} and {tok.text!r}")
            if len(state.groups) != 1 or state.groups[0].count != 1 or state.modifiers:
                raise ValueError(f"relation {tok.text!r} must stand between two single shapes, as in "
                                 "'a red ball to the left of a blue box'")
            state.relation, state.relation_after = tok, len(state.groups)
        elif tok.category == "background":
            state.background = _set_once(state.background, tok, "background")
        elif tok.category == "camera":
            state.camera = _set_once(state.camera, tok, "camera")
        else:  # pragma: no cover - every lexicon category is handled above
            raise ValueError(f"cannot place {tok.text!r} in a caption")
    if state.modifiers:
        words = " ".join(m.text for m in state.modifiers.values())
        raise ValueError(f"{words!r} is not followed by a shape; shapes: {', '.join(SHAPES)}")
    if state.pending_motion is not None or not state.groups:
        raise ValueError(f"caption names no shape; {_known_words_hint()}")
    if state.relation is not None and len(state.groups) != 2:
        raise ValueError(f"relation {state.relation.text!r} needs a second shape after it")
    return state


def _check_adjectives(tokens: list[_Token]) -> None:
    """A background colour right before a shape ("a white ball") is a wrong object colour, not a background."""
    for tok, nxt in zip(tokens, tokens[1:], strict=False):
        if tok.category == "background" and nxt.category in ("shape", "size", "color"):
            raise ValueError(f"{tok.text!r} is a background colour, not an object colour; "
                             f"object colours: {', '.join(COLORS)}")


def parse_caption(text: str, *, frames: int = 16, size: int = 64, fps: int = 8) -> WorldSpec:
    """The scene a caption describes; ``ValueError`` naming the word or part it cannot read.

    Defaults for what a caption leaves out: size ``big``, motion ``still``, background ``black``
    (``checkered`` when the camera pans), camera ``static``.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError("caption must be a non-empty string")
    tokens = _lex(text)
    _check_adjectives(tokens)
    state = _read(_combine(tokens))
    objects: list[ShapeObject] = []
    for group in state.groups:
        obj = ShapeObject(group.shape, group.color, group.size, group.motion or "still")
        objects.extend([obj] * group.count)
    camera = str(state.camera.value) if state.camera is not None else "static"
    if state.background is not None:
        background = str(state.background.value)
    else:
        background = "black" if camera == "static" else "checkered"
    relation = str(state.relation.value) if state.relation is not None else None
    if relation is not None and relation not in RELATIONS:  # pragma: no cover - lexicon guarantees it
        raise ValueError(f"relation must be one of {list(RELATIONS)}, got {relation!r}")
    placed = canonical_layout(tuple(objects), relation)
    return WorldSpec(objects=placed, background=background, relation=relation, camera=camera,
                     frames=frames, size=size, fps=fps)
