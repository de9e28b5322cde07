"""PickScore (Kirstain et al., 2023): a CLIP ViT-H/14 fine-tuned on Pick-a-Pic human preferences.

PickScore_v1 is a plain transformers ``CLIPModel`` checkpoint, so it loads like any CLIP. Its score is the
reference code's ``logit_scale.exp() * cosine(image, text)`` (about 100 × the cosine for the released model),
not a probability; the softmax over candidate images that the paper also shows needs several images per prompt.
"""

from __future__ import annotations

from typing import Any

import torch

from .clip_common import CLIPSimilarityReward, PathLike

HOW_TO_GET = ("Put the PickScore_v1 checkpoint (yuvalkirstain/PickScore_v1: config.json, model.safetensors) in a "
              "folder together with the tokenizer files of laion/CLIP-ViT-H-14-laion2B-s32B-b79K (the processor "
              "PickScore uses), or pass those as tokenizer_path. A checkpoint with only pytorch_model.bin must first "
              "be re-saved as safetensors (CLIPModel.from_pretrained(folder).save_pretrained(out)) where you trust it.")


class PickScoreReward(CLIPSimilarityReward):
    """Per-frame PickScore: ``exp(logit_scale) * cosine(image embedding, text embedding)``; differentiable."""

    name = "pickscore"
    per_frame = True
    differentiable = True

    @classmethod
    def from_pretrained(cls, path: PathLike | None = None, *, tokenizer_path: PathLike | None = None,
                        dtype: Any = None, device: str | torch.device | None = None) -> PickScoreReward:
        """Load PickScore_v1 from a local transformers folder (``tokenizer_path``: tokenizer files kept elsewhere)."""
        return cls._load(path, HOW_TO_GET, tokenizer_path=tokenizer_path, dtype=dtype, device=device)

    def from_cosine(self, cosine: torch.Tensor) -> torch.Tensor:
        return self.model.logit_scale.detach().exp().float().to(cosine.device) * cosine
