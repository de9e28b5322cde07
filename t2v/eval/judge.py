"""The evaluator as a judge: ``judge(frames, prompt) -> score``, the one signature the pipelines take.

Pipelines never build a judge (the layout test enforces it); callers do. On the shapes world the default
judge is the evaluator with the oracle answerer; elsewhere any configured answerer.
"""

from __future__ import annotations

import numpy as np

from .evaluator import Evaluator


class EvaluatorJudge:
    """Scores frames by the DSG score of the prompt's atomic questions (0 when nothing could be answered)."""

    def __init__(self, evaluator: Evaluator | None = None) -> None:
        self.evaluator = evaluator or Evaluator()
        self._questions: dict[str, tuple] = {}

    def __call__(self, frames: np.ndarray, prompt: str) -> float:
        if prompt not in self._questions:  # a scene is judged once per try: ask the parser once
            self._questions[prompt] = self.evaluator.questions(prompt)
        result = self.evaluator.evaluate(frames, prompt, generated=self._questions[prompt])
        return float(result.scores.dsg or 0.0)
