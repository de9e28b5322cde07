"""What an evaluation returns: one video's questions, answers and scores; a batch of them with its errors.

These records sit between the evaluator, which fills them, and the reports, which only read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .scoring import BatchScores, VideoScores
from .types import EvalAnswer, EvalQuestion, SceneGraph


def question_record(question: EvalQuestion, answer: EvalAnswer, score: float | None) -> dict[str, Any]:
    """One question with its answer and DSG score, flat, as reports show it.

    An unanswerable question reads ``"answer": "unanswerable"`` with no confidence and no score.
    """
    data = question.to_dict()
    data["tuple_text"] = question.tuple_text()
    data["answer"] = answer.label
    data["answered"] = answer.answered
    data["confidence"] = float(answer.confidence) if answer.answered else None
    data["rationale"] = answer.rationale
    data["score"] = score
    return data


@dataclass
class VideoResult:
    """The evaluation of one video against one prompt.

    ``thumbnails`` are small uint8 ``(H, W, 3)`` frames sampled from the video (at
    ``thumbnail_indices``) for reports; they are left out of :meth:`to_dict`.
    """

    prompt: str
    graph: SceneGraph
    questions: list[EvalQuestion]
    answers: list[EvalAnswer]
    scores: VideoScores
    num_frames: int
    thumbnails: list[np.ndarray] = field(default_factory=list)
    thumbnail_indices: list[int] = field(default_factory=list)
    video: str | None = None
    id: str | None = None
    knowledge: str | None = None

    def records(self) -> list[dict[str, Any]]:
        return [question_record(q, a, s) for q, a, s in
                zip(self.questions, self.answers, self.scores.question_scores, strict=True)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "video": self.video,
            "prompt": self.prompt,
            "num_frames": self.num_frames,
            "thumbnail_frames": list(self.thumbnail_indices),
            "knowledge": self.knowledge,
            "scene_graph": self.graph.to_dict(),
            "questions": self.records(),
            "scores": self.scores.to_dict(),
        }


@dataclass
class BatchError:
    """An item of a batch that could not be scored, and why. ``line`` is 1-based in the prompts file."""

    line: int
    error: str
    id: str | None = None
    video: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "id": self.id, "video": self.video, "error": self.error}


@dataclass
class BatchResult:
    """A scored batch: the videos that were evaluated, the items that failed, and the aggregate scores."""

    results: list[VideoResult]
    errors: list[BatchError]
    scores: BatchScores
    num_processes: int = 1  # how many processes shared the work

    def to_dict(self) -> dict[str, Any]:
        return {
            "scores": self.scores.to_dict(),
            "num_processes": self.num_processes,
            "num_errors": len(self.errors),
            "errors": [e.to_dict() for e in self.errors],
            "results": [r.to_dict() for r in self.results],
        }
