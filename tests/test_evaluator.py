"""The evaluator facade on rendered shapes-world clips: single videos, frames sampling, bad input, batches
(in-process, and split over two processes under ``accelerate launch``)."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from t2v.eval.answerers import OracleAnswerer
from t2v.eval.evaluator import Evaluator, read_batch, sample_indices
from t2v.eval.results import BatchError
from t2v.video import write_video
from t2v.world.captions import canonical_caption
from t2v.world.render import render
from t2v.world.sampling import sample_spec
from t2v.world.spec import ShapeObject, WorldSpec

ROOT = Path(__file__).resolve().parents[1]
SPEC = WorldSpec(objects=(ShapeObject("circle", "red", "big", "right", x=0.3, y=0.5),), background="gray")
TRUE = canonical_caption(SPEC)  # "a big red circle moving right on a gray background"
WRONG = TRUE.replace("red", "blue")


@pytest.fixture(scope="module")
def evaluator() -> Evaluator:
    return Evaluator()


@pytest.fixture(scope="module")
def frames() -> np.ndarray:
    return render(SPEC)


class CountingAnswerer(OracleAnswerer):
    """The real oracle answerer, remembering how many frames it was shown."""

    seen: list[int]

    def answer(self, frames, questions, **kwargs):
        self.seen = [*getattr(self, "seen", []), len(frames)]
        return super().answer(frames, questions, **kwargs)


def test_true_caption_scores_full_and_a_wrong_colour_does_not(evaluator, frames):
    good = evaluator.evaluate(frames, TRUE)
    bad = evaluator.evaluate(frames, WRONG)
    assert good.scores.dsg == 1.0 and good.scores.yes_rate == 1.0
    assert bad.scores.dsg < 1.0
    # Only the circle's colour is wrong: the background's colour question still holds.
    assert bad.scores.per_category["color"] == 0.5
    answers = {q.tuple: a.yes for q, a in zip(bad.questions, bad.answers, strict=True)}
    assert answers[("attribute", "color", "circle", "blue")] is False
    assert answers[("attribute", "color", "background", "gray")] is True
    assert good.num_frames == 16 and good.thumbnail_indices == [0, 5, 10, 15]
    assert np.array_equal(good.thumbnails[1], frames[5])


def test_an_unanswerable_question_is_left_out_of_the_score(evaluator, frames):
    # "rolling" is no word of the shapes world: the oracle cannot judge the last question.
    result = evaluator.evaluate(frames, "a red ball rolling right")
    assert [q.text for q in result.questions] == ["Is there a ball?", "Is the red shape a ball?",
                                                  "Is the ball red?", "Is the ball rolling right?"]
    assert [a.label for a in result.answers] == ["yes", "yes", "yes", "unanswerable"]
    scores = result.scores
    assert scores.dsg == 1.0 and scores.yes_rate == 1.0  # as a "no" it scored 3/4
    assert (scores.num_answered, scores.num_questions, scores.coverage) == (3, 4, 0.75)
    assert scores.per_category == {"existence": 1.0, "action": None, "shape": 1.0, "color": 1.0}


def test_the_oracle_answers_every_question_of_a_canonical_caption(evaluator):
    """Questions in the world's vocabulary are never unanswerable, so abstaining cannot raise a score."""
    rng = random.Random(2024)
    specs = [sample_spec(rng, two_objects=0.5, identical_pair=0.3, camera_pan=0.3, frames=8, size=48)
             for _ in range(60)]
    # An identical pair whose size changes (its timed size questions were once left unmapped).
    specs.append(WorldSpec((ShapeObject("square", "red", "small", "shrink", 0.3, 0.5),
                            ShapeObject("square", "red", "small", "shrink", 0.7, 0.5)), frames=8, size=48))
    captions = [canonical_caption(spec) for spec in specs]
    generated = evaluator.generator.generate_batch(captions)
    unanswered, coverages = [], []
    for spec, caption, pair in zip(specs, captions, generated, strict=True):
        result = evaluator.evaluate(render(spec, supersample=1), caption, generated=pair)
        unanswered += [f"{caption!r}: {q.text}" for q, a in zip(result.questions, result.answers, strict=True)
                       if not a.answered]
        coverages.append(result.scores.coverage)
    assert not unanswered, "\n".join(unanswered)
    assert coverages == [1.0] * len(specs)
    assert sum(len(qs) for _, qs in generated) > 500


def test_evaluate_reads_video_files(evaluator, frames, tmp_path):
    path = write_video(frames, tmp_path / "clip.mp4", fps=8)
    result = evaluator.evaluate(path, TRUE, id="clip")
    assert result.video == str(path) and result.id == "clip" and result.num_frames == 16
    assert result.scores.dsg == 1.0


def test_num_frames_samples_the_clip_before_answering(frames):
    answerer = CountingAnswerer()
    result = Evaluator(answerer=answerer, num_frames=4).evaluate(frames, TRUE)
    assert answerer.seen == [4]
    assert result.num_frames == 16 and result.scores.dsg == 1.0
    assert sample_indices(16, 4) == [0, 5, 10, 15] and sample_indices(3, 8) == [0, 1, 2]


def test_bad_input_raises_clear_errors(evaluator, frames, tmp_path):
    with pytest.raises(ValueError, match="prompt"):
        evaluator.evaluate(frames, "   ")
    with pytest.raises(FileNotFoundError, match="video not found"):
        evaluator.evaluate(tmp_path / "missing.mp4", TRUE)
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(ValueError, match="notes.txt"):
        evaluator.evaluate(text, TRUE)
    fake = tmp_path / "fake.mp4"
    fake.write_text("not a video")
    with pytest.raises(ValueError, match="fake.mp4"):
        evaluator.evaluate(fake, TRUE)
    with pytest.raises(ValueError, match=r"shape \(F, H, W, 3\)"):
        evaluator.evaluate(frames[0], TRUE)
    with pytest.raises(ValueError, match="num_frames"):
        Evaluator(num_frames=0)


def _write_batch(folder: Path, frames: np.ndarray) -> Path:
    """Five good items (three layouts of the file reference) and four bad ones, in a known order."""
    videos = folder / "videos"
    write_video(frames, videos / "a.mp4", fps=8)
    write_video(frames, videos / "b.gif", fps=8)
    write_video(frames, videos / "sub" / "c.mp4", fps=8)
    (videos / "broken.mp4").write_text("not a video")
    lines = [
        json.dumps({"id": "a", "prompt": TRUE}),                          # finds a.mp4
        json.dumps({"id": "b", "prompt": WRONG}),                         # finds b.gif
        json.dumps({"id": "c", "prompt": TRUE, "video": "sub/c.mp4"}),
        "{not json",
        json.dumps({"id": "d", "prompt": ""}),
        "",
        json.dumps({"id": "e", "prompt": TRUE, "video": "missing.mp4"}),
        json.dumps({"id": "f", "prompt": TRUE, "video": "broken.mp4"}),
        json.dumps({"id": "g", "prompt": WRONG, "video": "a.mp4"}),
        json.dumps({"id": "nofile", "prompt": TRUE}),
    ]
    prompts = folder / "prompts.jsonl"
    prompts.write_text("\n".join(lines) + "\n")
    return prompts


def test_batch_scores_good_items_and_reports_bad_ones(evaluator, frames, tmp_path):
    prompts = _write_batch(tmp_path, frames)
    items = read_batch(prompts, tmp_path / "videos")
    assert [i.line for i in items] == [1, 2, 3, 4, 5, 7, 8, 9, 10]
    batch = evaluator.evaluate_batch(prompts, tmp_path / "videos", out_dir=tmp_path / "out")
    assert [r.id for r in batch.results] == ["a", "b", "c", "g"]
    assert [(e.line, e.id) for e in batch.errors] == [(4, None), (5, "d"), (7, "e"), (8, "f"), (10, "nofile")]
    messages = {e.line: e.error for e in batch.errors}
    assert "invalid JSON" in messages[4] and "prompt" in messages[5]
    assert "not found" in messages[7] and "broken.mp4" in messages[8] and "nofile.mp4" in messages[10]
    by_id = {r.id: r.scores.dsg for r in batch.results}
    assert by_id["a"] == by_id["c"] == 1.0 and by_id["b"] < 1.0 and by_id["g"] < 1.0
    assert batch.scores.num_videos == 4
    assert batch.scores.dsg == pytest.approx(sum(by_id.values()) / 4)
    saved = json.loads((tmp_path / "out" / "results.json").read_text())
    assert saved["num_errors"] == 5 and [r["id"] for r in saved["results"]] == ["a", "b", "c", "g"]
    assert (tmp_path / "out" / "report.html").read_text().startswith("<!DOCTYPE html>")


def test_batch_rejects_missing_files(evaluator, tmp_path):
    with pytest.raises(FileNotFoundError, match="prompts file"):
        evaluator.evaluate_batch(tmp_path / "none.jsonl", tmp_path)
    prompts = tmp_path / "p.jsonl"
    prompts.write_text("{}\n")
    with pytest.raises(FileNotFoundError, match="videos folder"):
        evaluator.evaluate_batch(prompts, tmp_path / "nope")
    assert isinstance(read_batch(prompts, tmp_path)[0], BatchError)


def test_batch_splits_across_two_accelerate_processes(frames, tmp_path):
    """Two CPU processes (gloo) each score part of the file; the main process writes the gathered result.

    ``accelerate launch --cpu --num_processes 2`` starts a single process unless MPI is set up, so the
    test uses the torchrun launcher (``--multi_gpu``); without CUDA the evaluator joins a CPU group.
    """
    prompts = _write_batch(tmp_path, frames)
    script = tmp_path / "run_batch.py"
    script.write_text(textwrap.dedent(f"""
        from t2v.eval.evaluator import Evaluator
        from t2v.processes import process_state
        batch = Evaluator().evaluate_batch({str(prompts)!r}, {str(tmp_path / "videos")!r},
                                           out_dir={str(tmp_path / "out")!r})
        state = process_state()
        print("RANK", state.process_index, "OF", state.num_processes, "SEES", len(batch.results), flush=True)
    """))
    accelerate = Path(sys.executable).with_name("accelerate")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    cmd = [str(accelerate), "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
           "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port", "29517", str(script)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ranks = sorted(line for line in proc.stdout.splitlines() if line.startswith("RANK"))
    assert ranks == ["RANK 0 OF 2 SEES 4", "RANK 1 OF 2 SEES 4"]
    saved = json.loads((tmp_path / "out" / "results.json").read_text())
    assert saved["num_processes"] == 2
    assert [r["id"] for r in saved["results"]] == ["a", "b", "c", "g"]
    assert [e["line"] for e in saved["errors"]] == [4, 5, 7, 8, 10]
