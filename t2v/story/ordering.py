"""Events put back in the order they happen, when a clause tells them out of order or packs two in one.

"After the box slides up, it drops", "the box slides up before it drops", "they rest until they begin to rise"
and "once the cube has grown, it slides right" are two scenes each, in time order. A subordinate clause needs a
subject and a verb of its own ("before long" is no event), and an "until" that only says where an event ends
("grows until it is huge") stays one scene.
"""

from __future__ import annotations

import re

from .reading import has_event, noun_phrase, participle_at, tokenize
from .vocabulary import KNOWN_NOUNS, base_of, participle_of_base, singular

__all__ = ["in_time_order"]

# Not "once" or "when": "once it stops hopping, it turns blue" says when the main event starts, no event of its own.
_LEADING_TIME = re.compile(r"^(after|before)\s+(.+?)\s*,\s*(.+)$")
_TRAILING_TIME = re.compile(r"^(.+?)\s*,?\s+(before|until|till)\s+(.+)$")


# "Once the cube has grown, ...", "As soon as the ball has finished bouncing, ...": an event done before the main one.
_PERFECT_LEAD = re.compile(r"^(?:once|when|as\s+soon\s+as)\s+(.+?)\s+(?:has|have|had)\s+"
                           r"(?:(?:finished|stopped|completed|done)\s+)?([a-z]+)(.*?)\s*,\s*(.+)$")
_ONCE_LOOK = re.compile(r"^(?:once|when|as\s+soon\s+as)\s+(?:it|they)\s+(?:is|are|has\s+become|becomes|gets)\s+"
                        r"([a-z]+(?:\s+(?:and\s+)?[a-z]+)?)\s*,\s*(.+)$")
_PAST_PARTICIPLES = {"grown": "grow", "shrunk": "shrink", "risen": "rise", "fallen": "fall", "sunk": "sink",
                     "gone": "go", "come": "come", "swollen": "swell", "slid": "slide", "flown": "fly"}


def _perfect_lead(piece: str) -> list[str] | None:
    """The finished event of a "once ... has <done>" opening and the main clause, in time order; None if the
    piece has no such opening."""
    match = _PERFECT_LEAD.match(piece)
    if match is None or not has_event(match.group(4)):
        return None
    subject, verb, rest, main = match.groups()
    base = _PAST_PARTICIPLES.get(verb) or base_of(verb)
    if verb.endswith("ing"):
        form = verb
    elif base is not None:
        form = participle_of_base(base)
    else:
        return None
    tokens = tokenize(subject)
    np = noun_phrase(tokens, 0)
    if np is None or np.end != len(tokens) or not (np.pronoun in ("it", "they") or singular(np.head) in KNOWN_NOUNS):
        return None  # "once the rain has stopped, ..." says when, and shows no rain
    return [f"{subject} {form}{rest}", main]


def in_time_order(piece: str, world: bool = False) -> list[str]:
    """A clause's events in the order they happen (the clause itself when it holds one). ``world``: a shapes
    story, where "once it is big, it bounces" tells the bouncing thing's new size."""
    if (done := _perfect_lead(piece)) is not None:
        return done
    if world and (reached := _ONCE_LOOK.match(piece)) is not None:  # "once it is big, it bounces": big from here on
        return [f"now {reached.group(1)}, {reached.group(2)}"]
    lead = _LEADING_TIME.match(piece)
    if lead and has_event(lead.group(3)) and _participle_first(lead.group(2)):
        # "After gliding right, the square turns green": the gliding is the square's, first
        tokens = tokenize(lead.group(3))
        subject = noun_phrase(tokens, 0)
        if subject is not None:  # the thing is named in the first event and is "it" in the second
            named, pronoun = " ".join(tokens[:subject.end]), "they" if subject.plural else "it"
            main = " ".join(tokens[subject.end:])
            if lead.group(1) == "before":
                return [f"{named} {main}", f"{pronoun} {lead.group(2)}"]
            return [f"{named} {lead.group(2)}", f"{pronoun} {main}"]
    if lead and has_event(lead.group(2)) and has_event(lead.group(3)):
        first, then = lead.group(2), lead.group(3)
        return _subject_first(then, first) if lead.group(1) == "before" else [first, then]
    trail = _TRAILING_TIME.match(piece)
    if trail and trail.group(2) == "before" and _participle_first(trail.group(3)) and has_event(
            trail.group(1), anywhere=True):
        return [trail.group(1), trail.group(3)]  # "rests before floating upward": then it floats
    if trail and has_event(trail.group(3)) and has_event(trail.group(1), anywhere=True):
        if trail.group(2) == "before" or _starts_event(trail.group(3)):
            return [trail.group(1), trail.group(3)]
    return [piece]


def _subject_first(earlier: str, later: str) -> list[str]:
    """Two events put back in time order; the pronoun that pointed ahead ("Before the ball falls, it bounces")
    swaps with the subject it pointed to, so that the first event names the thing."""
    first, second = tokenize(earlier), tokenize(later)
    np_first, np_second = noun_phrase(first, 0), noun_phrase(second, 0)
    if np_first is not None and np_second is not None and np_first.pronoun and not np_second.pronoun:
        first, second = (second[:np_second.end] + first[np_first.end:],
                         first[:np_first.end] + second[np_second.end:])
        return [" ".join(first), " ".join(second)]
    return [earlier, later]


def _participle_first(text: str) -> bool:
    """Whether ``text`` starts with a verb's -ing form ("gliding to the right")."""
    return participle_at(tokenize(text), 0)


def _starts_event(text: str) -> bool:
    """A subject that starts to do something: "they begin to rise", "it starts moving"."""
    tokens = tokenize(text)
    np = noun_phrase(tokens, 0)
    return np is not None and np.end < len(tokens) and base_of(tokens[np.end]) in ("start", "begin")


