"""Scoring: ETVA yes-rate, confidence weighting, DSG dependency skipping, per-category and batch means."""

from __future__ import annotations

import pytest

from t2v.eval.scoring import aggregate, dsg_scores, p_yes, score_video, weighted_yes_rate, yes_rate
from t2v.eval.types import EvalAnswer, EvalQuestion


def _q(qid: int, category: str, parents: tuple[int, ...] = ()) -> EvalQuestion:
    return EvalQuestion(id=qid, text=f"q{qid}?", category=category, tuple=("entity", "whole", f"e{qid}"),
                        parents=list(parents))


YES, NO = EvalAnswer(True), EvalAnswer(False)
# An abstention that happens to carry a confident "yes": only ``answered`` may decide that it is not scored.
UNANSWERED = EvalAnswer(True, 1.0, "cannot judge", answered=False)


def test_yes_rate_counts_yes_answers():
    assert yes_rate([YES, NO, YES, YES]) == 0.75
    assert yes_rate([NO]) == 0.0


def test_weighted_yes_rate_uses_confidence_of_the_verdict():
    answers = [EvalAnswer(True, 0.9), EvalAnswer(False, 0.8), EvalAnswer(True, 0.5)]
    assert p_yes(answers[1]) == pytest.approx(0.2)
    assert weighted_yes_rate(answers) == pytest.approx((0.9 + 0.2 + 0.5) / 3)
    # Out-of-range confidences are clipped rather than producing scores outside [0, 1].
    assert p_yes(EvalAnswer(True, 1.7)) == 1.0


def test_no_answers_have_no_score_and_no_questions_are_rejected():
    assert yes_rate([]) is None and weighted_yes_rate([]) is None
    with pytest.raises(ValueError, match="questions"):
        score_video([], [])


def test_dsg_skips_children_of_a_no_transitively():
    # 1 <- 2 <- 3 ; 4 independent ; 5 has parents 1 and 4
    questions = [_q(1, "existence"), _q(2, "color", (1,)), _q(3, "action", (2,)), _q(4, "existence"),
                 _q(5, "spatial", (1, 4))]
    answers = [NO, YES, YES, YES, YES]
    assert dsg_scores(questions, answers) == [0.0, 0.0, 0.0, 1.0, 0.0]
    answers = [YES, NO, YES, YES, YES]
    assert dsg_scores(questions, answers) == [1.0, 0.0, 0.0, 1.0, 1.0]


def test_dsg_rejects_bad_links_and_mismatched_lengths():
    with pytest.raises(ValueError, match="parent"):
        dsg_scores([_q(1, "existence", (7,))], [YES])
    with pytest.raises(ValueError, match="cycle"):
        dsg_scores([_q(1, "existence", (2,)), _q(2, "color", (1,))], [YES, YES])
    with pytest.raises(ValueError, match="one answer per question"):
        dsg_scores([_q(1, "existence")], [YES, NO])


def test_score_video_per_category_and_to_dict():
    questions = [_q(1, "existence"), _q(2, "color", (1,)), _q(3, "color", (1,)), _q(4, "camera")]
    answers = [YES, YES, NO, NO]
    scores = score_video(questions, answers)
    assert scores.yes_rate == 0.5
    assert scores.dsg == 0.5
    assert scores.per_category == {"existence": 1.0, "color": 0.5, "camera": 0.0}
    assert list(scores.per_category) == ["existence", "color", "camera"]  # ETVA's category order
    data = scores.to_dict()
    assert data["num_questions"] == 4 and data["category_counts"]["color"] == 2


def test_aggregate_pools_categories_over_questions_and_averages_videos():
    a = score_video([_q(1, "existence"), _q(2, "color", (1,))], [YES, YES])
    b = score_video([_q(1, "existence"), _q(2, "color"), _q(3, "color"), _q(4, "color")], [NO, NO, NO, YES])
    batch = aggregate([a, b])
    assert batch.num_videos == 2
    assert batch.dsg == pytest.approx((1.0 + 0.25) / 2)
    assert batch.per_category["color"] == pytest.approx(2 / 4)
    assert batch.per_category["existence"] == pytest.approx(1 / 2)
    assert batch.to_dict()["category_counts"] == {"existence": 2, "color": 4}
    assert aggregate([]).num_videos == 0


def test_unanswerable_questions_are_left_out_of_every_score():
    # 1 existence yes; 2, 3 colour (parent 1) yes and no; 4 action (parent 1) unanswerable.
    questions = [_q(1, "existence"), _q(2, "color", (1,)), _q(3, "color", (1,)), _q(4, "action", (1,))]
    answers = [EvalAnswer(True, 0.9), EvalAnswer(True, 1.0), EvalAnswer(False, 0.8), UNANSWERED]
    scores = score_video(questions, answers)
    assert scores.question_scores == [1.0, 1.0, 0.0, None]
    assert scores.dsg == pytest.approx(2 / 3)  # counted as a "no" it would be 2/4
    assert scores.yes_rate == pytest.approx(2 / 3)
    assert scores.weighted_yes_rate == pytest.approx((0.9 + 1.0 + 0.2) / 3)
    assert (scores.num_questions, scores.num_answered, scores.coverage) == (4, 3, 0.75)
    # The action category was asked but nothing in it answered: no score, not 0.
    assert scores.per_category == {"existence": 1.0, "action": None, "color": 0.5}
    assert scores.category_counts == {"existence": 1, "action": 1, "color": 2}
    assert scores.category_answered == {"existence": 1, "action": 0, "color": 2}
    data = scores.to_dict()
    assert data["coverage"] == 0.75 and data["num_answered"] == 3 and data["question_scores"][3] is None
    assert data["per_category"]["action"] is None


def test_dsg_reads_through_an_unanswered_parent():
    # 1 <- 2 <- 3 with 2 unanswered: 1's "no" still skips 3; 4 unanswered <- 5 yes: 5 holds.
    questions = [_q(1, "existence"), _q(2, "material", (1,)), _q(3, "color", (2,)), _q(4, "existence"),
                 _q(5, "color", (4,))]
    assert dsg_scores(questions, [NO, UNANSWERED, YES, UNANSWERED, YES]) == [0.0, None, 0.0, None, 1.0]
    assert dsg_scores(questions, [YES, UNANSWERED, YES, UNANSWERED, NO]) == [1.0, None, 1.0, None, 0.0]


def test_a_video_with_nothing_answered_has_no_scores():
    scores = score_video([_q(1, "material"), _q(2, "physics")], [UNANSWERED, UNANSWERED])
    assert (scores.dsg, scores.yes_rate, scores.weighted_yes_rate) == (None, None, None)
    assert scores.per_category == {"material": None, "physics": None}
    assert scores.coverage == 0.0


def test_aggregate_leaves_unanswered_questions_and_unscored_videos_out():
    a = score_video([_q(1, "existence"), _q(2, "color", (1,)), _q(3, "color", (1,)), _q(4, "action", (1,))],
                    [YES, YES, NO, UNANSWERED])
    b = score_video([_q(1, "existence"), _q(2, "action", (1,))], [UNANSWERED, UNANSWERED])
    c = score_video([_q(1, "existence"), _q(2, "color", (1,))], [NO, YES])
    batch = aggregate([a, b, c])
    assert batch.num_videos == 3
    assert batch.dsg == pytest.approx((2 / 3 + 0.0) / 2)  # b has no score: the mean is over a and c
    assert batch.yes_rate == pytest.approx((2 / 3 + 1 / 2) / 2)
    assert (batch.num_questions, batch.num_answered, batch.coverage) == (8, 5, 5 / 8)
    assert batch.per_category == {"existence": pytest.approx(1 / 2), "action": None, "color": pytest.approx(1 / 3)}
    assert batch.category_counts == {"existence": 3, "action": 2, "color": 3}
    assert batch.category_answered == {"existence": 2, "action": 0, "color": 3}
    data = batch.to_dict()
    assert data["coverage"] == 5 / 8 and data["per_category"]["action"] is None
    empty = aggregate([])
    assert (empty.dsg, empty.yes_rate, empty.coverage, empty.per_category) == (None, None, None, {})
