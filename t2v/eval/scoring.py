"""Scores from answered questions: ETVA's yes-rate, a confidence-weighted variant, and DSG scores.

ETVA pools the yes/no verdicts of a video's atomic questions into the fraction answered yes.
DSG (Davidsonian scene graphs) adds dependency skipping: a question about an entity's colour
makes no sense once the entity itself was judged absent, so a question whose parent (or any
ancestor) was answered no scores 0 whatever its own answer. Both are reported per video and
per question category, and aggregated over a batch of videos.

A question the answerer could not judge (``EvalAnswer.answered`` false) is no "no": it is left
out of every score, and ``coverage`` (answered ÷ asked) says how much of the prompt the scores
speak for. A score over no answered question is None, never 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .types import CATEGORIES, EvalAnswer, EvalQuestion


def p_yes(answer: EvalAnswer) -> float:
    """Probability of "yes" implied by an answer: its confidence when it says yes, the complement if no.

    ``EvalAnswer.confidence`` is the answerer's confidence in the verdict it gives.
    """
    confidence = min(1.0, max(0.0, float(answer.confidence)))
    return confidence if answer.yes else 1.0 - confidence


def mean(values: Sequence[float | None]) -> float | None:
    """The mean of the values that are not None; None when there are none (no score, not 0)."""
    kept = [v for v in values if v is not None]
    return sum(kept) / len(kept) if kept else None


def yes_rate(answers: Sequence[EvalAnswer]) -> float | None:
    """ETVA's pooled score: the fraction of the answered questions answered yes (None if none was)."""
    return mean([float(a.yes) if a.answered else None for a in answers])


def weighted_yes_rate(answers: Sequence[EvalAnswer]) -> float | None:
    """The mean probability of yes over the answered questions: like :func:`yes_rate`, but an unsure
    yes counts less than a sure one."""
    return mean([p_yes(a) if a.answered else None for a in answers])


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


def dsg_scores(questions: Sequence[EvalQuestion], answers: Sequence[EvalAnswer]) -> list[float | None]:
    """Per-question DSG scores: 1 if a question and all its answered ancestors were answered yes, else 0;
    None for an unanswered question.

    An unanswered ancestor neither confirms nor refutes: the chain is read through it, so a "no"
    above it still skips its descendants.
    """
    _check_pairs(questions, answers)
    by_id = {q.id: (q, a) for q, a in zip(questions, answers, strict=True)}
    valid: dict[int, bool] = {}

    def holds(qid: int, path: tuple[int, ...]) -> bool:
        if qid in valid:
            return valid[qid]
        if qid in path:
            raise ValueError(f"questions: parent links form a cycle through question {qid}")
        question, answer = by_id[qid]
        own = answer.yes or not answer.answered
        result = own and all(holds(p, path + (qid,)) for p in question.parents)
        valid[qid] = result
        return result

    return [(1.0 if holds(q.id, ()) else 0.0) if a.answered else None
            for q, a in zip(questions, answers, strict=True)]


def coverage(answered: int, asked: int) -> float | None:
    """The fraction of the asked questions that were answered (None when none was asked)."""
    return answered / asked if asked else None


def score_text(value: float | None) -> str:
    """A score as reports print it; "n/a" when there is none (nothing answered), which is not a 0."""
    return "n/a" if value is None else f"{value:.3f}"


def coverage_text(answered: int, asked: int) -> str:
    """Coverage as reports print it: "0.750 (3/4 answered)"."""
    return f"{score_text(coverage(answered, asked))} ({answered}/{asked} answered)"


@dataclass
class VideoScores:
    """The scores of one video. ``per_category`` holds DSG means of the categories asked about (None for
    a category none of whose questions was answered); ``category_counts`` counts the questions asked,
    ``category_answered`` those answered; ``question_scores`` is None for an unanswered question."""

    yes_rate: float | None
    weighted_yes_rate: float | None
    dsg: float | None
    per_category: dict[str, float | None]
    category_counts: dict[str, int]
    category_answered: dict[str, int]
    question_scores: list[float | None] = field(default_factory=list)

    @property
    def num_questions(self) -> int:
        return len(self.question_scores)

    @property
    def num_answered(self) -> int:
        return sum(1 for s in self.question_scores if s is not None)

    @property
    def coverage(self) -> float | None:
        return coverage(self.num_answered, self.num_questions)

    def to_dict(self) -> dict[str, Any]:
        return {
            "yes_rate": self.yes_rate,
            "weighted_yes_rate": self.weighted_yes_rate,
            "dsg": self.dsg,
            "num_questions": self.num_questions,
            "num_answered": self.num_answered,
            "coverage": self.coverage,
            "per_category": dict(self.per_category),
            "category_counts": dict(self.category_counts),
            "category_answered": dict(self.category_answered),
            "question_scores": list(self.question_scores),
        }


_Pooled = tuple[dict[str, float | None], dict[str, int], dict[str, int]]


def _pool(entries: Iterable[tuple[str, float | None, int, int]]) -> _Pooled:
    """Per category, in ETVA's order: the mean score, the questions asked and those answered.

    Each entry is ``(category, mean score or None, answered, asked)`` for one question (its score,
    1 or 0, 1) or one video's category; a category none of whose questions was answered scores None.
    """
    sums: dict[str, float] = {}
    asked: dict[str, int] = {}
    answered: dict[str, int] = {}
    for category, score, n_answered, n_asked in entries:
        asked[category] = asked.get(category, 0) + n_asked
        answered[category] = answered.get(category, 0) + n_answered
        if score is not None:
            sums[category] = sums.get(category, 0.0) + score * n_answered
    ordered = [c for c in CATEGORIES if c in asked]
    return ({c: sums[c] / answered[c] if answered[c] else None for c in ordered},
            {c: asked[c] for c in ordered}, {c: answered[c] for c in ordered})


def score_video(questions: Sequence[EvalQuestion], answers: Sequence[EvalAnswer]) -> VideoScores:
    """All scores of one video from its questions and their answers (same order)."""
    if not questions:
        raise ValueError("questions must not be empty: a score needs at least one question")
    scores = dsg_scores(questions, answers)
    per_category, asked, answered = _pool((q.category, s, int(s is not None), 1)
                                          for q, s in zip(questions, scores, strict=True))
    return VideoScores(
        yes_rate=yes_rate(answers),
        weighted_yes_rate=weighted_yes_rate(answers),
        dsg=mean(scores),
        per_category=per_category,
        category_counts=asked,
        category_answered=answered,
        question_scores=scores,
    )


@dataclass
class BatchScores:
    """Scores over a batch: per-video means (over the videos that have a score), per-category DSG pooled over
    all answered questions of a category, and the coverage of all questions asked."""

    num_videos: int
    yes_rate: float | None
    weighted_yes_rate: float | None
    dsg: float | None
    per_category: dict[str, float | None]
    category_counts: dict[str, int]
    category_answered: dict[str, int]
    num_questions: int
    num_answered: int

    @property
    def coverage(self) -> float | None:
        return coverage(self.num_answered, self.num_questions)

    def to_dict(self) -> dict[str, Any]:
        return {
            "num_videos": self.num_videos,
            "yes_rate": self.yes_rate,
            "weighted_yes_rate": self.weighted_yes_rate,
            "dsg": self.dsg,
            "num_questions": self.num_questions,
            "num_answered": self.num_answered,
            "coverage": self.coverage,
            "per_category": dict(self.per_category),
            "category_counts": dict(self.category_counts),
            "category_answered": dict(self.category_answered),
        }


def aggregate(videos: Sequence[VideoScores]) -> BatchScores:
    """Aggregate per-video scores; an empty batch (or one with nothing answered) has no scores (None)."""
    per_category, asked, answered = _pool((c, score, v.category_answered[c], v.category_counts[c])
                                          for v in videos for c, score in v.per_category.items())
    return BatchScores(
        num_videos=len(videos),
        yes_rate=mean([v.yes_rate for v in videos]),
        weighted_yes_rate=mean([v.weighted_yes_rate for v in videos]),
        dsg=mean([v.dsg for v in videos]),
        per_category=per_category,
        category_counts=asked,
        category_answered=answered,
        num_questions=sum(v.num_questions for v in videos),
        num_answered=sum(v.num_answered for v in videos),
    )
