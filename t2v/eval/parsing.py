"""Dependency parses of prompts, from spaCy or from the model-free lexicon parser, in one small form.

The scene-graph rules read only ``Tok`` lists, so either parser can feed them:
:class:`~t2v.eval.spacy_parser.SpacyParser` (the default, installed with the ``[nlp]`` extra) or
:class:`~t2v.eval.lexicon_parser.LexiconParser` (no model at all; lower quality, see
``benchmarks/question_generation.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol


@dataclass
class Tok:
    """One token of a parse: its words, tags and its place in the dependency tree."""

    i: int
    text: str
    lemma: str
    pos: str  # universal part of speech: NOUN, VERB, ADJ, ADP, ...
    tag: str  # Penn Treebank tag: NNS, VBG, ...
    dep: str  # dependency label towards ``head``
    head: int  # index of the head token; a root points at itself
    children: list[int] = field(default_factory=list)

    @property
    def lower(self) -> str:
        return self.text.lower()


@dataclass
class Parse:
    """A parsed text: tokens in order, children filled in."""

    text: str
    tokens: list[Tok]

    def __post_init__(self) -> None:
        self._break_cycles()
        for tok in self.tokens:
            tok.children = []
        for tok in self.tokens:
            if tok.head != tok.i:
                self.tokens[tok.head].children.append(tok.i)

    def _break_cycles(self) -> None:
        """Keep the heads a forest: a loop (left by a repair or a heuristic parser) is cut at its verb, or
        else at its last token (a noun phrase's head), which then hangs off the nearest root before it
        (or becomes a root)."""
        toks = self.tokens
        for tok in toks:
            seen: list[int] = []
            j = tok.i
            while toks[j].head != j and j not in seen:
                seen.append(j)
                j = toks[j].head
            if toks[j].head == j:
                continue
            loop = seen[seen.index(j):]
            verbs = [k for k in loop if toks[k].pos in ("VERB", "AUX")]
            cut = toks[min(verbs) if verbs else max(loop)]
            root = next((k for k in range(cut.i - 1, -1, -1) if toks[k].head == k), None)
            cut.head, cut.dep = (root, "dep") if root is not None else (cut.i, "ROOT")

    def subtree(self, i: int) -> list[int]:
        """Indices of token ``i`` and all its descendants, in text order."""
        out, stack = [], [i]
        while stack:
            j = stack.pop()
            out.append(j)
            stack.extend(self.tokens[j].children)
        return sorted(out)


class Parser(Protocol):
    """Turns texts into :class:`Parse` objects, many at a time."""

    name: str

    def parse(self, texts: Sequence[str]) -> list[Parse]: ...
