"""CLIP score: how well each frame matches its prompt, as the cosine of their CLIP embeddings.

The score is the raw cosine in [-1, 1] times ``scale`` (1 by default). CLIPScore (Hessel et al., 2021) reports
``2.5 * max(cos, 0)`` and torchmetrics ``100 * max(cos, 0)``; pass ``scale=2.5`` or ``scale=100`` for those
scales. The ``max(·, 0)`` clamp is left out on purpose: it zeroes the gradient of every frame that scores
below 0, which is exactly where a reward fine-tune needs one.
"""

from __future__ import annotations

from typing import Any

import torch

from .clip_common import CLIPSimilarityReward, PathLike

HOW_TO_GET = ("Save any transformers CLIPModel (e.g. openai/clip-vit-large-patch14) with its tokenizer into one "
              "folder with save_pretrained (safetensors), and pass that folder as path.")


class ClipScoreReward(CLIPSimilarityReward):
    """Per-frame CLIP score: ``scale * cosine(image embedding, text embedding)``; differentiable in the frames."""

    name = "clip-score"
    per_frame = True
    differentiable = True

    def __init__(self, model: torch.nn.Module, tokenizer: Any, *, scale: float = 1.0, **kwargs: Any) -> None:
        if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not scale > 0:
            raise ValueError(f"scale must be a number > 0, got {scale!r}")
        super().__init__(model, tokenizer, **kwargs)
        self.scale = float(scale)

    @classmethod
    def from_pretrained(cls, path: PathLike | None = None, *, scale: float = 1.0,
                        tokenizer_path: PathLike | None = None, dtype: Any = None,
                        device: str | torch.device | None = None) -> ClipScoreReward:
        """Load from a local transformers CLIP folder (``tokenizer_path``: tokenizer files kept elsewhere)."""
        return cls._load(path, HOW_TO_GET, tokenizer_path=tokenizer_path, dtype=dtype, device=device, scale=scale)

    def from_cosine(self, cosine: torch.Tensor) -> torch.Tensor:
        return self.scale * cosine
