"""Which text tokens are which words, and how the target prompt's tokens read the source prompt's maps.

Prompt-to-Prompt copies the source branch's cross-attention maps into the edited branch token by token, so
it needs a map from target tokens to source tokens. Words are aligned (``difflib`` on whole words), then
their word pieces: BERT splits "checkered" into ``check ##ered``, so a swapped word may span a different
number of tokens than the word it replaces, and its pieces read the old pieces in proportion (P2P's
replacement mapper). Special tokens and padding map to themselves, counted from the end of the text.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

import torch

MODES = ("auto", "replace", "refine")


@dataclass(frozen=True)
class WordSpan:
    """One whitespace-separated word of a prompt and its tokens ``[start, end)`` in the padded sequence."""

    word: str
    start: int
    end: int


def sequence_length(tokenizer) -> int:
    """Tokens per prompt as the pipelines encode them (padded to ``model_max_length``)."""
    return int(tokenizer.model_max_length)


def word_spans(tokenizer, text: str) -> list[WordSpan]:
    """The words of ``text`` with their token positions, as ``tokenizer(text)`` lays them out.

    Words are tokenised one by one; the sum is checked against the whole prompt's tokens, so a tokenizer
    that splits differently in context fails loudly instead of misaligning maps.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"prompt must be a non-empty string, got {text!r}")
    ids = tokenizer(text, truncation=True, max_length=sequence_length(tokenizer)).input_ids
    leading = 1 if tokenizer("").input_ids else 0  # one begin token (CLS / BOS); the others trail
    spans, position = [], leading
    for word in text.split():
        pieces = tokenizer(word, add_special_tokens=False).input_ids
        if position + len(pieces) > len(ids) - (1 if leading else 0):
            break  # truncated away
        if ids[position:position + len(pieces)] != pieces:
            raise ValueError(f"tokenizer splits {word!r} differently inside {text!r}; cannot align its tokens")
        spans.append(WordSpan(word, position, position + len(pieces)))
        position += len(pieces)
    return spans


def token_indices(spans: list[WordSpan], words: list[str]) -> list[int]:
    """Token positions of every occurrence of ``words`` (case-insensitive) among ``spans``."""
    wanted = {w.lower() for w in words}
    return [i for s in spans if s.word.lower() in wanted for i in range(s.start, s.end)]


def changed_words(source: str, target: str) -> tuple[list[str], list[str]]:
    """The words the edit changes: source words removed or replaced, target words added or replacing."""
    a, b = source.split(), target.split()
    matcher = difflib.SequenceMatcher(a=[w.lower() for w in a], b=[w.lower() for w in b], autojunk=False)
    removed, added = [], []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            removed += a[i1:i2]
            added += b[j1:j2]
    return removed, added


def _spread(matrix: torch.Tensor, source: WordSpan, target: WordSpan) -> None:
    """Target pieces read the source pieces that overlap their share of the word (P2P's word-swap mapper)."""
    ns, nt = source.end - source.start, target.end - target.start
    for q in range(nt):
        low, high = q * ns / nt, (q + 1) * ns / nt
        weights = [max(0.0, min(high, p + 1) - max(low, p)) for p in range(ns)]
        total = sum(weights)
        for p, w in enumerate(weights):
            if w > 0:
                matrix[source.start + p, target.start + q] = w / total


@dataclass(frozen=True)
class TokenMap:
    """How each target token reads the source maps: ``matrix[s, t]`` is the weight of source token ``s`` in
    target token ``t``'s map; a zero column (an added word under refine) keeps the target's own map."""

    matrix: torch.Tensor
    mode: str
    source_spans: tuple[WordSpan, ...]
    target_spans: tuple[WordSpan, ...]

    @property
    def mapped(self) -> torch.Tensor:
        """1 for target tokens that read the source, 0 for those that keep their own map."""
        return self.matrix.sum(0).clamp(max=1.0)

    def unchanged_tokens(self) -> list[tuple[int, int]]:
        """(source, target) positions of the tokens of words both prompts share (for measurements)."""
        pairs = []
        for s, t in zip(*torch.nonzero(self.matrix == 1.0, as_tuple=True), strict=True):
            if any(w.start <= int(t) < w.end for w in self.target_spans):
                src_word = next((w.word for w in self.source_spans if w.start <= int(s) < w.end), None)
                tgt_word = next(w.word for w in self.target_spans if w.start <= int(t) < w.end)
                if src_word is not None and src_word.lower() == tgt_word.lower():
                    pairs.append((int(s), int(t)))
        return pairs


def token_map(tokenizer, source: str, target: str, mode: str = "auto") -> TokenMap:
    """Align ``target``'s tokens to ``source``'s.

    ``mode``: ``"replace"`` (word swap: a replaced word reads the words it replaces), ``"refine"`` (added or
    replaced words keep their own maps, the rest read the source), or ``"auto"``: replace when the prompts
    differ only by swapping words one for one, refine otherwise.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    src, tgt = word_spans(tokenizer, source), word_spans(tokenizer, target)
    length = sequence_length(tokenizer)
    matcher = difflib.SequenceMatcher(a=[w.word.lower() for w in src], b=[w.word.lower() for w in tgt],
                                      autojunk=False)
    opcodes = matcher.get_opcodes()
    if mode == "auto":
        swaps_only = all(tag in ("equal", "replace") and i2 - i1 == j2 - j1 for tag, i1, i2, j1, j2 in opcodes)
        mode = "replace" if swaps_only else "refine"
    matrix = torch.zeros(length, length)
    first = src[0].start if src else 1
    for p in range(first):  # begin tokens
        matrix[p, p] = 1.0
    src_end = src[-1].end if src else first
    tgt_end = tgt[-1].end if tgt else first
    for k in range(length - tgt_end):  # end token and padding, counted from the end of the text
        matrix[min(src_end + k, length - 1), tgt_end + k] = 1.0
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal" or (tag == "replace" and mode == "replace" and i2 - i1 == j2 - j1):
            for s, t in zip(src[i1:i2], tgt[j1:j2], strict=True):
                _spread(matrix, s, t)
    return TokenMap(matrix=matrix, mode=mode, source_spans=tuple(src), target_spans=tuple(tgt))


def word_weights(spans: list[WordSpan] | tuple[WordSpan, ...], weights: dict[str, float] | None,
                 length: int) -> torch.Tensor:
    """Per-token multipliers of the target's cross-attention maps (P2P reweighting); unnamed words keep 1."""
    out = torch.ones(length)
    for word, weight in (weights or {}).items():
        if not isinstance(weight, (int, float)) or isinstance(weight, bool) or not weight >= 0:
            raise ValueError(f"word_weights[{word!r}] must be a non-negative number, got {weight!r}")
        positions = token_indices(list(spans), [word])
        if not positions:
            raise ValueError(f"word_weights names {word!r}, which the target prompt does not contain")
        out[positions] = float(weight)
    return out
