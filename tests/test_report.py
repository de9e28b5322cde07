"""Reports: complete JSON, self-contained escaped HTML with PNG thumbnails, atomic writes."""

from __future__ import annotations

import base64
import io
import json
import re

import numpy as np
import pytest
from PIL import Image

from t2v.eval.evaluator import thumbnails
from t2v.eval.report import png_data_uri, render_html, write_html, write_json, write_text_atomic
from t2v.eval.results import BatchError, BatchResult, VideoResult
from t2v.eval.scoring import aggregate, score_video
from t2v.eval.types import EvalAnswer, EvalQuestion, SceneGraph
from t2v.world.render import render
from t2v.world.spec import ShapeObject, WorldSpec

PROMPT = 'a red circle <script>alert("x")</script> & friends'


@pytest.fixture(scope="module")
def frames() -> np.ndarray:
    spec = WorldSpec(objects=(ShapeObject("circle", "red", motion="right", x=0.3),), background="gray",
                     frames=8)
    return render(spec, supersample=1)


def _result(frames: np.ndarray) -> VideoResult:
    questions = [
        EvalQuestion(1, "Is there a circle?", "existence", ("entity", "whole", "circle")),
        EvalQuestion(2, "Is the circle red?", "color", ("attribute", "color", "circle", "red"), parents=[1]),
        EvalQuestion(3, "Does the circle move <left>?", "action", ("relation", "action", "circle", "left"),
                     parents=[1], frames=(0.0, 1.0)),
    ]
    answers = [EvalAnswer(True, 0.9, "a round blob"), EvalAnswer(True, 1.0, "hue 0°"),
               EvalAnswer(False, 0.7, "it moves right & not <left>")]
    thumbs, indices = thumbnails(frames, 3)
    return VideoResult(prompt=PROMPT, graph=SceneGraph(PROMPT), questions=questions, answers=answers,
                       scores=score_video(questions, answers), num_frames=len(frames), thumbnails=thumbs,
                       thumbnail_indices=indices, video="clip.mp4", id="v1")


def test_json_report_holds_every_question_and_score(frames, tmp_path):
    result = _result(frames)
    path = write_json(result, tmp_path / "sub" / "r.json")
    data = json.loads(path.read_text())
    assert data["prompt"] == PROMPT
    assert [q["id"] for q in data["questions"]] == [1, 2, 3]
    third = data["questions"][2]
    assert third["tuple"] == ["relation", "action", "circle", "left"]
    assert third["parents"] == [1] and third["frames"] == [0.0, 1.0] and third["category"] == "action"
    assert third["answer"] == "no" and third["confidence"] == 0.7 and "not <left>" in third["rationale"]
    assert data["scores"]["dsg"] == pytest.approx(2 / 3)
    assert data["scores"]["per_category"] == {"existence": 1.0, "action": 0.0, "color": 1.0}
    assert data["thumbnail_frames"] == [0, 4, 7]
    assert "thumbnails" not in data  # pixels stay out of the JSON


def test_html_report_is_self_contained_and_escaped(frames):
    page = render_html(_result(frames))
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "&lt;left&gt;" in page and "it moves right &amp; not" in page
    assert "<style>" in page
    # No external asset of any kind: every src is a data URI, no stylesheet links.
    assert "<link" not in page and "http://" not in page and "https://" not in page
    sources = re.findall(r"src='([^']*)'", page)
    assert len(sources) == 3 and all(s.startswith("data:image/png;base64,") for s in sources)
    image = Image.open(io.BytesIO(base64.b64decode(sources[1].split(",", 1)[1])))
    assert image.size == (64, 64)
    assert np.array_equal(np.asarray(image.convert("RGB")), frames[4])
    assert "attribute - color (circle, red)" in page  # tuples shown in DSG notation
    assert "<th>Category</th>" in page and "existence" in page


def test_png_data_uri_rejects_non_images():
    with pytest.raises(ValueError, match="frame"):
        png_data_uri(np.zeros((4, 4), dtype=np.uint8))


def test_batch_html_lists_results_and_errors(frames, tmp_path):
    result = _result(frames)
    batch = BatchResult([result], [BatchError(3, "video not found: 'x<1>.mp4'", id="x")],
                        aggregate([result.scores]))
    path = write_html(batch, tmp_path / "report.html")
    page = path.read_text()
    assert "1 video(s) scored, 1 item(s) failed" in page
    assert "video not found: &#x27;x&lt;1&gt;.mp4&#x27;" in page
    data = json.loads(write_json(batch, tmp_path / "results.json").read_text())
    assert data["num_errors"] == 1 and data["errors"][0]["line"] == 3
    assert data["results"][0]["id"] == "v1"


def test_failed_write_leaves_old_file_and_no_temp(frames, tmp_path):
    target = tmp_path / "report.html"
    target.write_text("old report")
    broken = _result(frames)
    broken.thumbnails = [np.zeros((8, 8, 3), dtype=np.float32)]  # not uint8: rendering fails
    with pytest.raises(ValueError, match="frame"):
        write_html(broken, target)
    assert target.read_text() == "old report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]
    with pytest.raises(ValueError, match="path"):
        write_text_atomic(tmp_path, "x")


def _with_unanswerable(frames: np.ndarray) -> VideoResult:
    """The three answered questions of ``_result`` and a fourth the answerer could not judge."""
    result = _result(frames)
    result.questions.append(EvalQuestion(4, "Is the circle wooden?", "material",
                                         ("attribute", "material", "circle", "wood"), parents=[1]))
    result.answers.append(EvalAnswer.unanswerable("not expressible in the shapes world"))
    result.scores = score_video(result.questions, result.answers)
    return result


def test_json_marks_unanswerable_questions_and_scores_only_answered_ones(frames, tmp_path):
    data = json.loads(write_json(_with_unanswerable(frames), tmp_path / "r.json").read_text())
    fourth = data["questions"][3]
    assert fourth["answer"] == "unanswerable" and fourth["answered"] is False
    assert fourth["score"] is None and fourth["confidence"] is None
    assert data["questions"][2]["answer"] == "no" and data["questions"][2]["answered"] is True
    scores = data["scores"]
    assert scores["dsg"] == pytest.approx(2 / 3)  # as without the fourth question, not 2/4
    assert (scores["num_questions"], scores["num_answered"], scores["coverage"]) == (4, 3, 0.75)
    assert scores["per_category"]["material"] is None and scores["category_answered"]["material"] == 0


def test_html_shows_unanswerable_questions_coverage_and_categories_without_score(frames, tmp_path):
    result = _with_unanswerable(frames)
    page = render_html(result)
    row = re.search(r"<tr><td class='num'>4</td>.*?</tr>", page)
    assert row and "<td class='unanswerable'>unanswerable</td>" in row.group(0) and "not scored" in row.group(0)
    assert "Coverage (answered ÷ asked)</th><td class='num'>0.750 (3/4 answered)</td>" in page
    assert "DSG score</th><td class='num'>0.667</td>" in page
    assert "<td>material</td><td class='num'>1</td><td class='num'>0</td><td class='num'>n/a</td>" in page
    # A batch whose only material question went unanswered has no material score either.
    batch = BatchResult([result], [], aggregate([result.scores]))
    batch_page = write_html(batch, tmp_path / "report.html").read_text()
    assert "<td>material</td><td class='num'>1</td><td class='num'>0</td><td class='num'>n/a</td>" in batch_page
    assert batch_page.count("0.750 (3/4 answered)") == 3  # batch scores, summary row, the video's section
    assert json.loads(write_json(batch, tmp_path / "r.json").read_text())["scores"]["coverage"] == 0.75
