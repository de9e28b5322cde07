"""Scores from answered questions: ETVA's yes-rate, a confidence-weighted variant, and DSG scores.

ETVA pools the yes/no verdicts of a video's atomic questions into the fraction answered yes.
DSG (Davidsonian scene graphs) adds dependency skipping: a question about an entity's colour
makes no sense once the entity itself was judged absent, so a question whose parent (or any
ancestor) was answered no scores 0 whatever its own answer. Both are reported per video and
per question category, and aggregated over a batch of videos.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .types import CATEGORIES, EvalAnswer, EvalQuestion


def p_yes(answer: EvalAnswer) -> float:
    """Probability of "yes" implied by an answer: its confidence when it says yes, the complement if no.

    ``EvalAnswer.confidence`` is the answerer's confidence in the verdict it gives.
    """
    confidence = min(1.0, max(0.0, float(answer.confidence)))
    return confidence if answer.yes else 1.0 - confidence


def yes_rate(answers: Sequence[EvalAnswer]) -> float:
    """ETVA's pooled score: the fraction of questions answered yes."""
    if not answers:
        raise ValueError("answers must not be empty: a score needs at least one answered question")
    return sum(1.0 for a in answers if a.yes) / len(answers)


def weighted_yes_rate(answers: Sequence[EvalAnswer]) -> float:
    """The mean probability of yes: like :func:`yes_rate`, but an unsure yes counts less than a sure one."""
    if not answers:
        raise ValueError("answers must not be empty: a score needs at least one answered question")
    return sum(p_yes(a) for a in answers) / len(answers)


def _check_pairs(questions: Sequence[EvalQuestion], answers: Sequence[EvalAnswer]) -> None:
    if len(questions) != len(answers):
        raise ValueError(f"answers must hold one answer per question: got {len(answers)} answers "
                         f"for {len(questions)} questions")
    ids = [q.id for q in questions]
    if len(set(ids)) != len(ids):
        raise ValueError("questions must have distinct ids")
    known = set(ids)
    for q in questions:
        missing = [p for p in q.parents if p not in known]
        if missing:
            raise ValueError(f"questions: question {q.id} names unknown parent id(s) {missing}")


def dsg_scores(questions: Sequence[EvalQuestion], answers: Sequence[EvalAnswer]) -> list[float]:
    """Per-question DSG scores: 1 if a question and all its ancestors were answered yes, else 0."""
    _check_pairs(questions, answers)
    by_id = {q.id: (q, a) for q, a in zip(questions, answers, strict=True)}
    valid: dict[int, bool] = {}

    def holds(qid: int, path: tuple[int, ...]) -> bool:
        if qid in valid:
            return valid[qid]
        if qid in path:
            raise ValueError(f"questions: parent links form a cycle through question {qid}")
        question, answer = by_id[qid]
        result = answer.yes and all(holds(p, path + (qid,)) for p in question.parents)
        valid[qid] = result
        return result

    return [1.0 if holds(q.id, ()) else 0.0 for q in questions]


@dataclass
class VideoScores:
    """The scores of one video. ``per_category`` holds DSG means of the categories asked about."""

    yes_rate: float
    weighted_yes_rate: float
    dsg: float
    per_category: dict[str, float]
    category_counts: dict[str, int]
    question_scores: list[float] = field(default_factory=list)

    @property
    def num_questions(self) -> int:
        return len(self.question_scores)

    def to_dict(self) -> dict[str, Any]:
        return {
            "yes_rate": self.yes_rate,
            "weighted_yes_rate": self.weighted_yes_rate,
            "dsg": self.dsg,
            "num_questions": self.num_questions,
            "per_category": dict(self.per_category),
            "category_counts": dict(self.category_counts),
            "question_scores": list(self.question_scores),
        }


def score_video(questions: Sequence[EvalQuestion], answers: Sequence[EvalAnswer]) -> VideoScores:
    """All scores of one video from its questions and their answers (same order)."""
    if not questions:
        raise ValueError("questions must not be empty: a score needs at least one question")
    scores = dsg_scores(questions, answers)
    sums: dict[str, float] = {}
    counts: dict[str, int] = {}
    for q, s in zip(questions, scores, strict=True):
        sums[q.category] = sums.get(q.category, 0.0) + s
        counts[q.category] = counts.get(q.category, 0) + 1
    ordered = [c for c in CATEGORIES if c in counts]
    return VideoScores(
        yes_rate=yes_rate(answers),
        weighted_yes_rate=weighted_yes_rate(answers),
        dsg=sum(scores) / len(scores),
        per_category={c: sums[c] / counts[c] for c in ordered},
        category_counts={c: counts[c] for c in ordered},
        question_scores=scores,
    )


@dataclass
class BatchScores:
    """Scores over a batch: per-video means, and per-category DSG pooled over all questions of a category."""

    num_videos: int
    yes_rate: float
    weighted_yes_rate: float
    dsg: float
    per_category: dict[str, float]
    category_counts: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {
            "num_videos": self.num_videos,
            "yes_rate": self.yes_rate,
            "weighted_yes_rate": self.weighted_yes_rate,
            "dsg": self.dsg,
            "per_category": dict(self.per_category),
            "category_counts": dict(self.category_counts),
        }


def aggregate(videos: Sequence[VideoScores]) -> BatchScores:
    """Aggregate per-video scores; an empty batch gives zeros and no categories."""
    n = len(videos)
    if n == 0:
        return BatchScores(0, 0.0, 0.0, 0.0, {}, {})
    sums: dict[str, float] = {}
    counts: dict[str, int] = {}
    for v in videos:
        for category, mean in v.per_category.items():
            count = v.category_counts[category]
            sums[category] = sums.get(category, 0.0) + mean * count
            counts[category] = counts.get(category, 0) + count
    ordered = [c for c in CATEGORIES if c in counts]
    return BatchScores(
        num_videos=n,
        yes_rate=sum(v.yes_rate for v in videos) / n,
        weighted_yes_rate=sum(v.weighted_yes_rate for v in videos) / n,
        dsg=sum(v.dsg for v in videos) / n,
        per_category={c: sums[c] / counts[c] for c in ordered},
        category_counts={c: counts[c] for c in ordered},
    )
