"""Prompt sources for reward fine-tuning: a text file (one prompt a line) for any model, or the shapes
world's own training and validation prompts for tiny-shapes.

``shapes-train`` draws canonical captions of random training-split scenes (no held-out attribute
combination). ``shapes-dev`` is the quality benchmark's dev split: the validation set, held-out
combinations like the benchmark's test split but from another seed, so validation measures what the
benchmark measures without ever looking at it.
"""

from __future__ import annotations

import random
from pathlib import Path

SHAPES_TRAIN, SHAPES_DEV = "shapes-train", "shapes-dev"
TRAIN_PROMPT_SEED = 5151  # not a seed of any prompt split (t2v.world.splits)


def _read_prompt_file(path: str, what: str) -> list[str]:
    file = Path(path)
    if not file.is_file():
        raise ValueError(f"{what} must be {SHAPES_TRAIN!r}, {SHAPES_DEV!r} or a text file of prompts; "
                         f"{path!r} is neither")
    prompts = [line.strip() for line in file.read_text().splitlines() if line.strip()]
    if not prompts:
        raise ValueError(f"{what}: {path} holds no prompts")
    return prompts


def training_specs(n: int, *, frames: int = 8, size: int = 32) -> list:
    """The first ``n`` scenes of ``shapes-train``: the fine-tune's prompts, and the clips it edits come from
    the same scenes."""
    from t2v.world.holdout import sample_training_spec

    rng = random.Random(TRAIN_PROMPT_SEED)
    return [sample_training_spec(rng, frames=frames, size=size, two_objects=0.3) for _ in range(n)]


def load_prompts(source: str, n: int, *, what: str, frames: int = 8, size: int = 32) -> list[str]:
    """``n`` prompts from ``source`` (the whole file when it holds fewer)."""
    if n < 1:
        raise ValueError(f"{what}: the number of prompts must be >= 1, got {n}")
    if source == SHAPES_TRAIN:
        from t2v.world.captions import canonical_caption

        return [canonical_caption(s) for s in training_specs(n, frames=frames, size=size)]
    if source == SHAPES_DEV:
        from t2v.world.captions import canonical_caption
        from t2v.world.splits import split_specs

        return [canonical_caption(s) for s in split_specs("dev", n, frames=frames, size=size)]
    return _read_prompt_file(source, what)[:n]
