"""How both planners write prompts: canonical motion phrases, background and camera values and phrases.

Planners differ in how they read a story (rules or an LLM) but must write the same plain prompt
language, the one text-to-video models are trained on: "a big red ball moving right on a black
background as the camera pans left". Keeping that language here means a scene planned by either
planner reads the same to the model.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TypeVar

from .vocabulary import (
    BACKGROUND_NOUNS,
    BACKGROUND_WORDS,
    CAMERA_MOVES,
    CANONICAL_MOTION,
    COLORS,
    COMPARATIVE_DIRECTIONS,
    COMPARATIVE_MOTION,
    COPULAS,
    DIRECTION_PLACES,
    DIRECTION_SIDES,
    DIRECTIONS,
    FRAME_NOUNS,
    MOTION_BLOCKERS,
    MOTION_VERBS,
    MOVE_VERBS,
    STATIC_CAMERA_WORDS,
    STAY_VERBS,
    STILL_ADJECTIVES,
    base_of,
)

T = TypeVar("T")

_AN_EXCEPTIONS = ("one", "uni", "use", "usu", "eu")
_OPPOSITE = {"left": "right", "right": "left", "up": "down", "down": "up"}
# Words after a motion verb that belong to it ("jumps up and down", "swells up"): no second motion.
_TAILS = {
    "bounce": (["up", "and", "down"], ["around"], ["in", "place"], ["back", "up"], ["back"], ["up"]),
    "grow": (["back", "up"], ["up", "in", "size"], ["in", "size"], ["itself", "up"], ["up"], ["back"], ["out"]),
    "shrink": (["back", "down"], ["down"], ["back"], ["away"]),
}
_CAMERA_DIRECTIONS = ("left", "right", "up", "down", "in", "out")
_CAMERA_THIRD = {"pan": "pans", "tilt": "tilts", "zoom": "zooms", "track": "tracks", "dolly": "dollies"}


def article(word: str) -> str:
    """"a" or "an" before ``word``."""
    word = word.lower()
    return "an" if word[:1] in "aeiou" and not word.startswith(_AN_EXCEPTIONS) else "a"


def with_article(phrase: str) -> str:
    return f"{article(phrase)} {phrase}"


# -- motions -----------------------------------------------------------------------------------

def _words_from(items: Sequence[object], start: int) -> list[str]:
    """The run of plain words from ``start`` (an entity reference ends it)."""
    run = []
    for item in items[start:]:
        if not isinstance(item, str):
            break
        run.append(item)
    return run


def direction_after(words: list[str], k: int) -> tuple[str, int] | None:
    """A direction at ``words[k:]`` ("left", "to the left", "towards the right", "from left to right").

    A place that names a direction is one too: "to the left side", "toward the bottom" (only after "the", so that
    "on top of" stays a relation).
    """
    if words[k:k + 1] == ["from"] and len(words) >= k + 4 and words[k + 2] == "to" and words[k + 3] in DIRECTIONS:
        return DIRECTIONS[words[k + 3]], k + 4
    if words[k:k + 1] and words[k] in COMPARATIVE_DIRECTIONS:  # "drifts higher (and higher)"
        same = words[k + 1:k + 3] == ["and", words[k]]
        return COMPARATIVE_DIRECTIONS[words[k]], k + 1 + 2 * same
    j = k + (words[k:k + 1] in (["back"], ["away"], ["in"]))  # "sinks back down", "rolls away to the left"
    if words[j:j + 1] == ["from"]:  # "slides in from the left": moving right
        f = j + 1 + (words[j + 1:j + 2] == ["the"])
        if words[f:f + 1] and words[f] in DIRECTIONS and words[f + 1:f + 2] != ["to"]:
            return _OPPOSITE[DIRECTIONS[words[f]]], f + 1
        return None
    if words[j:j + 1] and words[j] in ("to", "toward", "towards"):
        j += 1
    if words[j:j + 1] == ["the"]:
        j += 1
        end = _frame_place_end(words, j + 1)
        if words[j:j + 1] and words[j] in DIRECTION_PLACES and end is not None:
            return DIRECTION_PLACES[words[j]], end
    if words[j:j + 1] and words[j] in DIRECTIONS:
        end = _frame_place_end(words, j + 2)
        if words[j + 1:j + 2] and words[j + 1] in DIRECTION_SIDES and end is not None:
            return DIRECTIONS[words[j]], end
        return DIRECTIONS[words[j]], j + 1
    return None


def _frame_place_end(words: list[str], k: int) -> int | None:
    """After "the top" / "the left side" (ending at ``k``): where the direction ends, past "of the screen"; None if
    another place follows ("the top of the hill" is somewhere, not a direction)."""
    if words[k:k + 1] != ["of"]:
        return k
    if words[k + 1:k + 2] == ["the"] and words[k + 2:k + 3] and words[k + 2] in FRAME_NOUNS:
        return k + 3
    return None


def _motion_at(words: list[str]) -> tuple[str, int] | None:
    """The motion a phrase at the start of ``words`` names, and how many words it takes; None if none."""
    if not words:
        return None
    first, rest = words[0], words[1:]
    base = base_of(first)
    if first in ("does", "do", "did") and rest[:1] == ["not"] and base_of(rest[1] if len(rest) > 1 else "") == "move":
        return "still", 3
    if first in ("doesn't", "don't", "didn't", "not", "never") and rest[:1] and base_of(rest[0]) == "move":
        return "still", 2
    if rest[:1] and rest[0] in COMPARATIVE_MOTION and (base in ("get", "become", "grow", "pulse", "swell", "puff", "go")
                                                      or first in COPULAS):
        return COMPARATIVE_MOTION[rest[0]], 2
    if first in COPULAS and rest[:1] == ["made"] and rest[1:2] and rest[1] in COMPARATIVE_MOTION:
        return COMPARATIVE_MOTION[rest[1]], 3  # "is made bigger"
    if (first in COPULAS or base in STAY_VERBS) and rest[:1] and rest[0] in STILL_ADJECTIVES:
        return "still", 2
    if first in COPULAS and rest[:2] == ["at", "rest"]:
        return "still", 3
    if first in ("balloons", "ballooned", "ballooning") and rest[:2] in (["in", "size"], ["up"]):
        return "grow", 1 + len(rest[:2] if rest[:1] == ["in"] else rest[:1])  # the verb, never the noun "balloon"
    if base in MOVE_VERBS:
        if rest[:3] == ["up", "and", "down"]:
            return "bounce", 4
        found = direction_after(words, 1)
        return found if found is not None else None
    if base in MOTION_VERBS and not (rest[:1] and rest[0] in MOTION_BLOCKERS and rest[:2] not in (["in", "place"],
                                                                                             ["in", "size"])):
        motion, used = MOTION_VERBS[base], 1
        if motion in _TAILS:  # "jumps up and down", "swells up", "shrinks back down"
            for tail in _TAILS[motion]:
                if rest[:len(tail)] == tail:
                    used += len(tail)
                    break
        elif motion in ("up", "down"):
            found = direction_after(words, 1)
            if found is not None and found[0] == motion:
                used = found[1]
            elif rest[:1] == ["back"]:  # "falls back"
                used = 2
        elif motion == "still" and rest[:1] and base_of(rest[0]) == "move":
            used += 1
        elif motion == "still" and rest[:1] and rest[0] in ("dead", "still", "completely", "short"):
            used += 1 + (rest[:2] in (["dead", "still"], ["completely", "still"]))  # "stops dead (still)"
        return motion, used
    return None


def canonical_motions(items: Sequence[T]) -> tuple[list[str | T], list[str]]:
    """``items`` with every motion phrase replaced by its canonical text ("rolls to the right" ->
    "moving right", "jumps up and down" -> "bouncing"), and the motions found in order.

    Items that are not strings (entity references) pass through untouched.
    """
    out: list[str | T] = []
    motions: list[str] = []
    i = 0
    while i < len(items):
        item = items[i]
        if isinstance(item, str):
            found = _motion_at(_words_from(items, i))
            if found is not None:
                motion, used = found
                out.extend(CANONICAL_MOTION[motion].split())
                motions.append(motion)
                i += used
                continue
        out.append(item)
        i += 1
    return out, motions


# -- backgrounds and cameras ---------------------------------------------------------------------

def background_value(text: str | None) -> str | None:
    """The background a phrase names: a known colour or texture in canonical form ("grey backdrop" ->
    "gray", "checkered floor" -> "checkered"), else the phrase without articles ("wooden floor")."""
    if text is None:
        return None
    words = re.findall(r"[a-z0-9'-]+", text.lower())
    while words and words[0] in ("a", "an", "the", "on", "against", "in", "with", "plain", "solid", "bare"):
        words = words[1:]  # "a plain white background" is the white one
    if words and words[-1] in ("background", "backdrop") and len(words) > 1:
        words = words[:-1]
    if len(words) == 1 and words[0] in BACKGROUND_WORDS:
        return BACKGROUND_WORDS[words[0]]
    if len(words) == 2 and words[0] in BACKGROUND_WORDS and words[1] in BACKGROUND_NOUNS:
        return BACKGROUND_WORDS[words[0]]
    named = [w for w in words if w in BACKGROUND_WORDS]
    if len(named) == 1 and words[-1] in BACKGROUND_NOUNS | set(named) and not any(
            w in COLORS and w not in BACKGROUND_WORDS for w in words):
        return BACKGROUND_WORDS[named[0]]  # "a freshly white background", "a sudden white background"
    return " ".join(words) or None


def background_phrase(value: str) -> str:
    """"on a black background", "on a wooden floor"."""
    if value.split()[-1] in BACKGROUND_NOUNS:
        return f"on {with_article(value)}"
    return f"on {with_article(value)} background"


def camera_value(text: str | None) -> str | None:
    """The camera a phrase names: "static", "pan left", "tilt up", "zoom in"...; other text as written."""
    if text is None:
        return None
    words = re.findall(r"[a-z0-9'-]+", text.lower())
    moves = [CAMERA_MOVES[base_of(w) or w] for w in words if (base_of(w) or w) in CAMERA_MOVES]
    directions = [DIRECTIONS.get(w, w) for w in words if DIRECTIONS.get(w, w) in _CAMERA_DIRECTIONS]
    if moves and directions:
        move = "zoom" if directions[0] in ("in", "out") else moves[0]
        return f"{move} {directions[0]}"
    if any(w in STATIC_CAMERA_WORDS for w in words):
        return "static"
    return " ".join(words) or None


def camera_phrase(value: str) -> str:
    """"as the camera pans left", "with a static camera"."""
    if value == "static":
        return "with a static camera"
    move, _, rest = value.partition(" ")
    if move in _CAMERA_THIRD and rest:
        return f"as the camera {_CAMERA_THIRD[move]} {rest}"
    return f"with {with_article(value)} camera" if "camera" not in value else f"with {with_article(value)}"


def setting_phrase(background: str | None, camera: str | None) -> str:
    """The words a prompt ends with for its background and camera ("" when neither is known)."""
    parts = []
    if background:
        parts.append(background_phrase(background))
    if camera:
        parts.append(camera_phrase(camera))
    return " ".join(parts)


def join_prompt(*parts: str) -> str:
    """Join prompt parts with single spaces, dropping empty ones."""
    return " ".join(" ".join(p.split()) for p in parts if p and p.strip())
