"""Word-level steps of turning a predicate into an event: relations, changes of look, aspect, participles.

The rule-based planner reads "it then turns blue and starts rolling to the left of the box" with these:
what is a spatial relation, what changes an entity's look, which verbs show nothing themselves, and how a
verb becomes the participle a caption uses. Items that are not strings (entity references) pass through.
"""

from __future__ import annotations

from typing import TypeVar

from .reading import verb_like
from .vocabulary import (
    ASPECT_VERBS,
    CANONICAL_MOTION,
    CHANGE_VERBS,
    COLORS,
    CONJUNCTIONS,
    COPULAS,
    KNOWN_NOUNS,
    MOTION_VERBS,
    RELATIONS,
    SIZES,
    base_of,
    participle,
)

__all__ = ["change_at", "drop_aspect", "drop_repeats", "participles", "relation_at", "size_reached_at", "tidy"]

# Verbs of growing and shrinking, whose end size may follow them ("shrinks to a small triangle").
CANONICAL_GROWTH = {verb: motion for verb, motion in MOTION_VERBS.items() if motion in ("grow", "shrink")}

T = TypeVar("T")


def relation_at(tokens: list[str], j: int) -> tuple[str, int] | None:
    """A spatial relation at ``tokens[j]`` ("to the left of", "on the left of" -> "to the left of") and where
    the phrase ends, or None."""
    for phrase, canonical in RELATIONS:
        words = phrase.split()
        if tokens[j:j + len(words)] == words:
            return canonical, j + len(words)
    return None


# Participles of a change said in the passive: "the ball is made small", "the box gets painted blue".
_PASSIVE_CHANGES = frozenset({"made", "turned", "painted", "colored", "coloured", "recolored", "recoloured", "dyed",
                              "changed", "switched"})


def change_at(tokens: list[str], j: int) -> tuple[str | None, str | None, str | None, int] | None:
    """A change of look at ``tokens[j]``: "turns blue", "is now huge", "turns into a purple triangle".

    Returns (colour, size, noun, words used) or None. "gets bigger" is a motion (growing), not a change.
    """
    word = tokens[j]
    if word not in COPULAS and base_of(word) not in CHANGE_VERBS:
        return None
    k = j + 1
    if (word in COPULAS or base_of(word) == "get") and tokens[k:k + 1] and tokens[k] in _PASSIVE_CHANGES:
        k += 1  # "is made small", "gets painted blue"
    if tokens[k:k + 1] and tokens[k] in ("color", "colour", "shape", "size"):
        k += 1
    into = bool(tokens[k:k + 1]) and tokens[k] in ("to", "into")
    k += into
    determiner = bool(tokens[k:k + 1]) and tokens[k] in ("a", "an")
    k += determiner
    colour = size = noun = None
    look = COLORS | SIZES
    while k < len(tokens) and (tokens[k] in look or (  # "becomes small and purple", "turns big, blue"
            tokens[k] in ("and", ",") and k > j + 1 and tokens[k - 1] in look and tokens[k + 1:k + 2]
            and tokens[k + 1] in look)):
        if tokens[k] in COLORS:
            colour = tokens[k]
        elif tokens[k] in SIZES:
            size = tokens[k]
        k += 1
    renames = into or (determiner and (word in COPULAS or base_of(word) == "become"))  # not "turns a corner"
    if renames and k < len(tokens) and (tokens[k] in KNOWN_NOUNS or determiner):
        noun = tokens[k]
        k += 1
    if colour is None and size is None and noun is None:
        return None
    return colour, size, noun, k - j


def size_reached_at(tokens: list[str], j: int) -> tuple[str | None, str, int] | None:
    """The look a growing or shrinking verb at ``tokens[j]`` ends at, and how many words after the verb say it:
    "shrinks (down) to a small triangle" -> (None, "small", 5), "grows into a big blue ball" -> ("blue", "big", 5),
    "grows large" -> (None, "large", 1). None when the verb names no end size."""
    if CANONICAL_GROWTH.get(base_of(tokens[j]) or "") is None:
        return None
    k = j + 1 + (tokens[j + 1:j + 2] in (["down"], ["up"], ["back"]))
    if tokens[k:k + 1] in (["to"], ["into"]):
        k += 1 + (tokens[k + 1:k + 2] in (["a"], ["an"]))
    elif k != j + 1:  # "grows large", not "grows up large"
        return None
    if not (tokens[k:k + 1] and tokens[k] in SIZES):
        return None
    size, colour = tokens[k], None
    k += 1
    while k < len(tokens) and tokens[k] in COLORS:
        colour = tokens[k]
        k += 1
    k += tokens[k:k + 1] != [] and tokens[k] in KNOWN_NOUNS
    return colour, size, k - j - 1


def drop_aspect(tokens: list[str]) -> list[str]:
    """Without verbs of aspect: "starts bouncing" -> "bouncing", "begins to grow" -> "grow"."""
    out: list[str] = []
    k = 0
    while k < len(tokens):
        nxt = tokens[k + 1:k + 2]
        if base_of(tokens[k]) in ASPECT_VERBS and nxt and (nxt[0] == "to" or base_of(nxt[0]) is not None):
            k += 1 + (nxt[0] == "to")
            continue
        out.append(tokens[k])
        k += 1
    return out


def tidy(items: list[str | T]) -> list[str | T]:
    """Drop copulas and the conjunctions and commas left dangling at the edges or doubled."""
    items = [item for item in items if not (isinstance(item, str) and item in COPULAS)]
    out: list[str | T] = []
    for item in items:
        if isinstance(item, str) and (item in CONJUNCTIONS or item == ","):
            if not out or (isinstance(out[-1], str) and (out[-1] in CONJUNCTIONS or out[-1] == ",")):
                continue
        out.append(item)
    while out and isinstance(out[-1], str) and (out[-1] in CONJUNCTIONS or out[-1] == ","):
        out.pop()
    return out


def participles(items: list[str | T]) -> list[str | T]:
    """Verbs that start an event, or follow "and", as participles: "runs across" -> "running across"."""
    words = [item if isinstance(item, str) else "" for item in items]
    out = list(items)
    for k, word in enumerate(words):
        if word and (k == 0 or words[k - 1] in ("and", ",")) and verb_like(words, k):
            out[k] = participle(word)
    return out


_MOTION_TEXTS: list[list[str]] = sorted((text.split() for text in CANONICAL_MOTION.values()), key=len, reverse=True)


def drop_repeats(items: list[str | T]) -> list[str | T]:
    """Without a canonical motion that repeats the one just before it: "it stops and stays still" reads
    "staying still and staying still" -> "staying still"."""
    out = list(items)
    k = 0
    while k < len(out):
        for words in _MOTION_TEXTS:
            n = len(words)
            if (out[k:k + n] == words and out[k + n:k + n + 1] in (["and"], [","])
                    and out[k + n + 1:k + 2 * n + 1] == words):
                del out[k + n:k + 2 * n + 1]
                break
        else:
            k += 1
    return out
