"""The rule-based planner's entities: one per thing the story tells of, with a description that can change.

A thing keeps the words the story first described it with ("a big red ball"); a change of look ("it turns
blue") replaces the colour or size word, and each look becomes its own :class:`t2v.story.Entity`, so
every scene prompt repeats one description word for word.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .phrasing import with_article
from .reading import NounPhrase
from .vocabulary import COLOR_FAMILY, COLORS, PERSON_NOUNS, SIZE_FAMILY, SIZES, UNIQUE_NOUNS, singular

__all__ = ["Thing", "compatible"]


@dataclass(eq=False)
class Thing:
    """One entity as the story tells it. Its look may change; each look is registered as one Entity."""

    head: str
    modifiers: list[str]
    count: str | None
    base_name: str
    tail: list[str] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)  # description -> Entity name
    change: list[str] = field(default_factory=list)  # the words of the last change, to name the new look
    motion: str | None = None  # the last motion the story gave it, for "keeps sliding"

    @property
    def plural(self) -> bool:
        return self.count is not None or singular(self.head) != self.head

    @property
    def person(self) -> bool:
        return singular(self.head) in PERSON_NOUNS

    def description(self) -> str:
        words = " ".join([*self.modifiers, self.head, *self.tail])
        if self.count:
            return f"{self.count} {words}"
        if self.plural or self.head in UNIQUE_NOUNS:
            return f"the {words}"
        return with_article(words)

    def change_look(self, colour: str | None, size: str | None, noun: str | None) -> None:
        """The story changed how it looks: "turns blue" (colour), "becomes huge" (size), "turns into a cube"."""
        if colour is not None:
            self.modifiers = replace_modifier(self.modifiers, COLORS, colour, front=False)
        if size is not None:
            self.modifiers = replace_modifier(self.modifiers, SIZES, size, front=True)
        if noun is not None:
            self.head = noun
        self.change = [w for w in (size, colour, noun) if w is not None]

    def attribute(self, words: frozenset[str], family: dict[str, str]) -> str | None:
        found = [family.get(m, m) for m in self.modifiers if m in words]
        return found[-1] if found else None


def compatible(np: NounPhrase, thing: Thing) -> bool:
    """The phrase's colour and size words do not contradict the entity's ("the red ball" vs a blue one)."""
    for words, family in ((COLORS, COLOR_FAMILY), (SIZES, SIZE_FAMILY)):
        said = [family.get(m, m) for m in np.modifiers if m in words]
        have = thing.attribute(words, family)
        if said and have is not None and said[-1] != have:
            return False
    return True


def replace_modifier(modifiers: list[str], words: frozenset[str], new: str, *, front: bool) -> list[str]:
    """``modifiers`` with the colour (or size) word replaced by ``new``, or ``new`` added."""
    if any(m in words for m in modifiers):
        out: list[str] = []
        for m in modifiers:
            if m in words:
                if new not in out:
                    out.append(new)
            else:
                out.append(m)
        return out
    return [new, *modifiers] if front else [*modifiers, new]
