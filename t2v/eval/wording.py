"""English surface forms for generated questions: articles, "is/are", -ing forms, time phrases."""

from __future__ import annotations

from .lexicon import MASS_NOUNS, NUMBER_WORDS
from .types import Entity

_VOWEL_SOUND_EXCEPTIONS = ("uni", "use", "one", "eu", "ur")
_SILENT_H = ("hour", "honest", "honor", "honour", "heir")
# Short verbs that double their last consonant before -ing ("run" → "running").
_NO_DOUBLE_ENDINGS = ("w", "x", "y")


def article(phrase: str) -> str:
    """ "a" or "an" for ``phrase`` by its first sound (good enough for question text)."""
    word = phrase.lower()
    if word.startswith(_SILENT_H):
        return "an"
    if word.startswith(_VOWEL_SOUND_EXCEPTIONS):
        return "a"
    return "an" if word[:1] in "aeiou" else "a"


def is_proper(ent: Entity) -> bool:
    """A name ("Jude Law", "Times Square"), not a kind of thing ("Star Trek captain")."""
    words = ent.name.split()
    return bool(words) and words[-1][:1].isupper()


def is_plural(ent: Entity) -> bool:
    """Whether questions about the entity take "are" ("dogs", "two dogs")."""
    return ent.plural or (ent.count is not None and ent.count > 1)


def be(ent: Entity) -> str:
    """"Is" or "Are" for the entity."""
    return "Are" if is_plural(ent) else "Is"


def the(ent: Entity) -> str:
    """ "the dog", "the dogs", "Times Square", "the background"."""
    return ent.name if is_proper(ent) else f"the {ent.name}"


def some(ent: Entity) -> str:
    """Indefinite form: "a dog", "dogs", "water", "Times Square"."""
    if is_proper(ent) or is_plural(ent) or ent.name.split()[-1] in MASS_NOUNS:
        return ent.name
    return f"{article(ent.name)} {ent.name}"


def a_or_none(phrase: str) -> str:
    """ "a portal", "umbrellas", "water": the phrase with the article a singular count noun needs."""
    last = phrase.split()[-1] if phrase.split() else phrase
    if last in MASS_NOUNS or (last.endswith("s") and not last.endswith(("ss", "us", "is"))) or last[:1].isupper():
        return phrase
    return f"{article(phrase)} {phrase}"


def number_word(n: int) -> str:
    """A small number as a word ("two"), larger ones as digits."""
    return NUMBER_WORDS.get(n, str(n))


def gerund(verb: str) -> str:
    """The -ing form of a verb phrase's first word: "ride a" → "riding a", "run" → "running"."""
    head, _, rest = verb.partition(" ")
    w = head
    if w.endswith("ing") and len(w) > 4:
        ing = w
    elif w.endswith("ie"):
        ing = w[:-2] + "ying"
    elif w.endswith("e") and not w.endswith(("ee", "ye", "oe")) and len(w) > 2:
        ing = w[:-1] + "ing"
    elif _doubles(w):
        ing = w + w[-1] + "ing"
    else:
        ing = w + "ing"
    return f"{ing} {rest}".strip()


def _doubles(w: str) -> bool:
    """Whether a verb doubles its last consonant before -ing (one syllable, consonant-vowel-consonant)."""
    vowels = "aeiou"
    if len(w) < 3 or w[-1] in vowels or w[-1] in _NO_DOUBLE_ENDINGS:
        return False
    if not (w[-2] in vowels and w[-3] not in vowels):
        return False
    groups = sum(1 for i, ch in enumerate(w) if ch in vowels and (i == 0 or w[i - 1] not in vowels))
    return groups == 1


def when(frames: tuple[float, float] | None) -> str:
    """A time phrase for a clip-time range: "at the start of the video", "in the second half of the video"."""
    if frames is None:
        return ""
    lo, hi = frames
    if lo == hi:
        if lo <= 0.0:
            return " at the start of the video"
        if lo >= 1.0:
            return " at the end of the video"
        return f" at {round(lo * 100)}% of the video"
    halves = {(0.0, 0.5): "first half", (0.5, 1.0): "second half"}
    thirds = {(0.0, 0.3333): "first third", (0.3333, 0.6667): "middle third", (0.6667, 1.0): "last third"}
    key = (round(lo, 4), round(hi, 4))
    if key in halves:
        return f" in the {halves[key]} of the video"
    if key in thirds:
        return f" in the {thirds[key]} of the video"
    return f" from {round(lo * 100)}% to {round(hi * 100)}% of the video"
