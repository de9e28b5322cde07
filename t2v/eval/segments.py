"""Splitting a prompt into timed segments ("X, then Y") and lifting camera phrases out of it.

Both work on raw text, before parsing: a sequence marker decides *when* a clause holds, and
camera phrases ("the camera pans left") are the parts a small parser tags worst ("pans" as a
plural noun), so they are read with patterns and removed before the parser sees the clause.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .lexicon import CAMERA_MOVES, CAMERA_PHRASES, CAMERA_SUBJECT, CAMERA_VIEWS

# Markers that start a later event. "next to" is a place, not a time.
_SEQUENCE = re.compile(
    r"(?:\s*[,;.:]\s*|\s+)(?:and\s+|but\s+)?"
    r"(?:then|after\s+that|afterwards?|after\s+which|later(?:\s+on)?|next(?!\s+to\b)|finally|eventually|"
    r"subsequently|followed\s+by|(?:in|at|by)\s+the\s+end(?!\s+of))\b\s*,?\s*",
    re.IGNORECASE,
)
# Words that only say "this is the first event".
_FIRST = re.compile(r"^\s*(?:at\s+first|first(?:ly)?|initially|in\s+the\s+beginning|at\s+the\s+start)\b\s*,?\s*",
                    re.IGNORECASE)
_CLAUSE = re.compile(r"[^,;.!?]+")
# Quoted text to be shown in the video ('jazz', "OXYDE NOIR"): an opening quote after a space or the start,
# a closing one before a space, punctuation or the end (so "don't" is no quote).
_QUOTE = re.compile(
    r"""(?:(?<=\s)|^)(['"\u2018\u201c])"""  # opening quote
    r"""([^'"\u2018\u2019\u201c\u201d]{1,80}?)"""  # the text
    r"""(['"\u2019\u201d])(?=[\s,.;:!?)]|$)"""  # closing quote
)
QUOTE_PLACEHOLDER = "QTEXT"


@dataclass
class Segment:
    """A stretch of the prompt and the clip-time range it describes (None: the whole clip)."""

    text: str
    frames: tuple[float, float] | None = None
    camera: list[tuple[str, str]] = field(default_factory=list)  # (category, value), e.g. ("movement", "pan left")


def extract_quotes(prompt: str) -> tuple[str, list[str]]:
    """Quoted texts of ``prompt`` in order, and the prompt with each replaced by one placeholder word,
    so the parser sees a single noun where the words to be written stand."""
    quotes: list[str] = []

    def keep(match: re.Match[str]) -> str:
        quotes.append(match.group(2).strip())
        return QUOTE_PLACEHOLDER

    return _QUOTE.sub(keep, prompt), quotes


def split_segments(prompt: str) -> list[Segment]:
    """Cut ``prompt`` at sequence markers; segment k of n covers clip time [k/n, (k+1)/n]."""
    pieces = [p.strip(" ,;.") for p in _SEQUENCE.split(prompt)]
    pieces = [_FIRST.sub("", p) for p in pieces]
    pieces = [p for p in pieces if p.strip(" ,;.")]
    if not pieces:
        return [Segment(text=prompt.strip())]
    if len(pieces) == 1:
        return [Segment(text=pieces[0])]
    n = len(pieces)
    return [Segment(text=p, frames=(round(k / n, 4), round((k + 1) / n, 4))) for k, p in enumerate(pieces)]


def _values(match: re.Match[str], template: str) -> str:
    """A template filled with a match's groups, lower-cased."""
    return template.format(*(g.lower() for g in match.groups() if g))


def extract_camera(text: str) -> tuple[str, list[tuple[str, str]]]:
    """Camera movements and views of ``text``, and the text with those phrases blanked out."""
    found: list[tuple[str, str]] = []
    spans: list[tuple[int, int]] = []

    def take(category: str, match: re.Match[str], template: str, start: int | None = None) -> None:
        lo = match.start() if start is None else start
        if any(lo < b and a < match.end() for a, b in spans):
            return
        value = _values(match, template)
        if (category, value) not in found:
            found.append((category, value))
        spans.append((lo, match.end()))

    for clause in _CLAUSE.finditer(text):
        subject = re.search(CAMERA_SUBJECT, clause.group(0), re.IGNORECASE)
        if subject is None:
            continue
        rest_start = clause.start() + subject.end()
        rest = text[rest_start:clause.end()]
        # "the camera slowly pans left" may have words between; "the view pans left" must not
        # ("a view of a ball moving left" is about the ball)
        reach = 40 if subject.group(0).lower().endswith("camera") else 1
        for pattern, template in CAMERA_MOVES:
            match = re.compile(pattern, re.IGNORECASE).search(rest)
            if match and match.start() <= reach:
                shifted = re.compile(pattern, re.IGNORECASE).search(text, rest_start)
                if shifted is not None:
                    take("movement", shifted, template, start=clause.start() + subject.start())
                break
    for patterns, category in ((CAMERA_PHRASES, "movement"), (CAMERA_VIEWS, "view")):
        for pattern, template in patterns:
            for match in re.finditer(pattern, text, re.IGNORECASE):
                take(category, match, template)
    if not spans:
        return text, found
    out, last = [], 0
    for a, b in sorted(spans):
        out.append(text[last:a])
        out.append(" , ")
        last = b
    out.append(text[last:])
    cleaned = re.sub(r"\s+", " ", "".join(out))
    cleaned = re.sub(r"\b(?:of|with|in|from|the|a|an|as|while|whilst|when|and)\s*,", ",", cleaned)
    cleaned = re.sub(r"(^|,)\s*(?:of|from)\b", r"\1", cleaned)
    cleaned = re.sub(r"(?:\s*,\s*)+", ", ", cleaned).strip(" ,")
    return cleaned, found
