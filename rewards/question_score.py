"""``question-score``: the evaluator's atomic-question score of each video as a reward.

Not differentiable (answers are yes/no), so the trainer refuses it; it serves best-of-N selection and
reward-weighted filtering (:mod:`t2v.rewards.selection`). The answerer is the evaluator's: the shapes-world
oracle by default, any configured video LLM or vision API elsewhere.
"""

from __future__ import annotations

from typing import Any

import torch

from .base import Reward, frames_to_uint8


class QuestionScoreReward(Reward):
    name = "question-score"
    per_frame = False
    differentiable = False

    def __init__(self, evaluator: Any | None = None) -> None:
        from t2v.eval.judge import EvaluatorJudge

        self.judge = EvaluatorJudge(evaluator)

    def score(self, frames: torch.Tensor, prompts: list[str]) -> torch.Tensor:
        videos = frames_to_uint8(frames)
        return torch.tensor([self.judge(video, prompt) for video, prompt in zip(videos, prompts, strict=True)],
                            dtype=torch.float32)
