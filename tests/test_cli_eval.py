"""``t2v questions`` and ``t2v evaluate`` in-process through ``t2v.cli.main`` on rendered clips."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from t2v.cli import main
from t2v.video import write_video
from t2v.world.captions import canonical_caption
from t2v.world.render import render
from t2v.world.spec import ShapeObject, WorldSpec
from tests.chat_server import ChatServer, Recorded
from tests.test_llm_questions import scene_llm_for

SPEC = WorldSpec(objects=(ShapeObject("square", "green", "big", "still", x=0.5, y=0.5),), background="white",
                 frames=12)
TRUE = canonical_caption(SPEC)  # "a big green square on a white background"
WRONG = TRUE.replace("square", "triangle")


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return write_video(render(SPEC), tmp_path_factory.mktemp("clips") / "clip.mp4", fps=8)


# What a capable LLM would make of TRUE, step by step (see tests/test_llm_questions.py).
SCENE_LLM = scene_llm_for(
    {"entities": [{"id": "e1", "name": "square", "kind": "object", "count": 1},
                  {"id": "e2", "name": "background", "kind": "background", "count": None}]},
    {"e1": {"color": ["green"], "size": ["big"]}, "e2": {"color": ["white"]}},
    {"relations": []},
)
KNOWLEDGE = "- a still square keeps its place and its colour"


def vision_and_scene_llm(request: Recorded) -> str:
    """Question chain and knowledge as a text LLM; frames in the request mean a video question."""
    if request.image_urls():
        return "The square is green and big. [YES]"
    if "common-sense" in request.last_user_text():
        return KNOWLEDGE
    return SCENE_LLM(request)


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("T2V_CACHE", str(tmp_path / "t2v-cache"))


def _error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


def test_questions_table_and_json(capsys):
    assert main(["questions", "a big green square on a white background"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:5] == ["id", "category", "tuple", "parents", "frames"]
    assert any("attribute - color (square, green)" in line and "color" in line for line in table)
    assert main(["questions", TRUE, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["prompt"] == TRUE and data["scene_graph"]["entities"]
    by_tuple = {tuple(q["tuple"]): q for q in data["questions"]}
    colour = by_tuple[("attribute", "color", "square", "green")]
    existence = by_tuple[("entity", "whole", "square")]
    assert colour["parents"] == [existence["id"]] and colour["category"] == "color"


def test_questions_rejects_an_empty_prompt(capsys):
    assert main(["questions", "  "]) == 2
    assert _error_line(capsys) == "t2v questions: error: prompt must be a non-empty string"


def test_evaluate_prints_a_table_and_writes_reports(clip, tmp_path, capsys):
    html, out_json = tmp_path / "r" / "report.html", tmp_path / "results.json"
    assert main(["evaluate", str(clip), "--prompt", TRUE, "--html", str(html), "--json-out", str(out_json)]) == 0
    printed = capsys.readouterr().out
    assert "DSG score: 1.000" in printed and "existence" in printed
    saved = json.loads(out_json.read_text())
    assert saved["scores"]["dsg"] == 1.0 and saved["num_frames"] == 12
    assert all(q["answer"] == "yes" for q in saved["questions"])
    page = html.read_text()
    assert "data:image/png;base64," in page and TRUE in page


def test_evaluate_json_to_stdout_tells_a_wrong_shape(clip, capsys):
    assert main(["evaluate", str(clip), "--prompt", WRONG, "--json", "--frames", "6"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["scores"]["dsg"] < 1.0
    shape = [q for q in data["questions"] if q["tuple"][:2] == ["attribute", "shape"]]
    assert shape and all(q["answer"] == "no" for q in shape)


def test_evaluate_shows_unanswerable_questions_and_coverage(clip, tmp_path, capsys):
    rolling = "a green square rolling right"  # "rolling" is no word of the shapes world
    out_json = tmp_path / "one.json"
    assert main(["evaluate", str(clip), "--prompt", rolling, "--json-out", str(out_json)]) == 0
    printed = capsys.readouterr().out
    assert re.search(r"  unanswerable  -     -      Is the square rolling right\?$", printed, re.M), printed
    assert "DSG score: 1.000" in printed and "coverage: 0.750 (3/4 answered)" in printed
    assert re.search(r"^action     1          0         n/a$", printed, re.M), printed
    saved = json.loads(out_json.read_text())
    assert saved["questions"][-1]["answer"] == "unanswerable" and saved["questions"][-1]["score"] is None
    assert saved["scores"]["dsg"] == 1.0 and saved["scores"]["coverage"] == 0.75
    assert saved["scores"]["per_category"]["action"] is None

    # A batch: a prompt with nothing the oracle can judge has no score and does not pull the mean down.
    videos = tmp_path / "videos"
    videos.mkdir()
    (videos / "v.mp4").write_bytes(clip.read_bytes())
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text("\n".join(json.dumps({"id": i, "prompt": p, "video": "v.mp4"})
                                 for i, p in (("roll", rolling), ("table", "a wooden table"))) + "\n")
    out = tmp_path / "out"
    assert main(["evaluate", "--batch", str(prompts), "--videos", str(videos), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert re.search(r"^table  2          0.000 \(0/2 answered\)  n/a    n/a ", printed, re.M), printed
    assert "DSG score: 1.000" in printed and "coverage: 0.500 (3/6 answered)" in printed
    saved = json.loads((out / "results.json").read_text())
    assert [r["scores"]["coverage"] for r in saved["results"]] == [0.75, 0.0]
    assert saved["results"][1]["scores"]["dsg"] is None
    assert saved["scores"]["dsg"] == 1.0 and saved["scores"]["coverage"] == 0.5
    assert "0.500 (3/6 answered)" in (out / "report.html").read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--prompt", ""], "--prompt must be a non-empty string"),
        (["--prompt", TRUE, "--frames", "0"], "--frames must be a positive integer"),
        (["--prompt", TRUE, "--answerer", "vlm"], "--answerer vlm needs --vlm"),
        (["--prompt", TRUE, "--knowledge"], "--knowledge needs --llm"),
        (["--prompt", TRUE, "--answerer", "openai"], "--answerer openai needs --llm"),
    ],
)
def test_evaluate_bad_options_exit_2(clip, tmp_path, capsys, args, message):
    html = tmp_path / "never.html"
    assert main(["evaluate", str(clip), *args, "--html", str(html)]) == 2
    assert message in _error_line(capsys)
    assert not html.exists()


def test_evaluate_bad_videos_exit_2(tmp_path, capsys):
    assert main(["evaluate", str(tmp_path / "missing.mp4"), "--prompt", TRUE]) == 2
    assert "video not found" in _error_line(capsys)
    text = tmp_path / "notes.txt"
    text.write_text("hi")
    assert main(["evaluate", str(text), "--prompt", TRUE]) == 2
    assert "notes.txt" in _error_line(capsys)
    fake = tmp_path / "fake.mp4"
    fake.write_bytes(np.random.default_rng(0).bytes(256))
    out = tmp_path / "r.json"
    assert main(["evaluate", str(fake), "--prompt", TRUE, "--json-out", str(out)]) == 2
    assert "not a readable video" in _error_line(capsys)
    assert not out.exists()
    assert main(["evaluate", "--prompt", TRUE]) == 2
    assert "give a VIDEO" in _error_line(capsys)


def test_evaluate_batch_reports_and_skips_bad_items(clip, tmp_path, capsys):
    videos = tmp_path / "videos"
    videos.mkdir()
    (videos / "ok.mp4").write_bytes(clip.read_bytes())
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text("\n".join([
        json.dumps({"id": "ok", "prompt": TRUE}),
        json.dumps({"id": "wrong", "prompt": WRONG, "video": "ok.mp4"}),
        json.dumps({"id": "gone", "prompt": TRUE}),
        "[1, 2",
    ]) + "\n")
    out = tmp_path / "out"
    assert main(["evaluate", "--batch", str(prompts), "--videos", str(videos), "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "2 video(s) scored, 2 item(s) skipped" in captured.out
    assert "skipped line 3 (gone)" in captured.err and "skipped line 4" in captured.err
    saved = json.loads((out / "results.json").read_text())
    assert [r["id"] for r in saved["results"]] == ["ok", "wrong"]
    assert (out / "report.html").exists()
    # A batch in which nothing could be scored is a failure.
    bad = tmp_path / "bad.jsonl"
    bad.write_text("oops\n")
    assert main(["evaluate", "--batch", str(bad), "--videos", str(videos)]) == 1
    assert "0 video(s) scored, 1 item(s) skipped" in capsys.readouterr().out
    assert main(["evaluate", "--batch", str(bad)]) == 2
    assert "--batch needs --videos" in _error_line(capsys)


def test_questions_and_evaluate_with_an_llm_question_generator(clip, capsys):
    with ChatServer(SCENE_LLM) as server:
        assert main(["questions", TRUE, "--llm", server.base_url, "--llm-model", "llm", "--json"]) == 0
        data = json.loads(capsys.readouterr().out)
        tuples = [tuple(q["tuple"]) for q in data["questions"]]
        assert ("attribute", "color", "square", "green") in tuples
        assert ("attribute", "color", "background", "white") in tuples
        # The LLM's questions answered by the default oracle answerer.
        assert main(["evaluate", str(clip), "--prompt", TRUE, "--llm", server.base_url, "--llm-model", "llm",
                     "--json"]) == 0
        result = json.loads(capsys.readouterr().out)
    assert [tuple(q["tuple"]) for q in result["questions"]] == tuples
    assert result["scores"]["dsg"] == 1.0


def test_openai_answerer_with_knowledge_sees_sampled_frames(clip, capsys):
    with ChatServer(vision_and_scene_llm) as server:
        assert main(["evaluate", str(clip), "--prompt", TRUE, "--answerer", "openai", "--llm", server.base_url,
                     "--llm-model", "llm", "--knowledge", "--frames", "3", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["knowledge"] == KNOWLEDGE and result["scores"]["yes_rate"] == 1.0
    vision = [r for r in server.chat_requests if r.image_urls()]
    assert len(vision) == 3 * len(result["questions"])  # three reasoning stages per question
    assert all(len(r.image_urls()) == 3 for r in vision)
    assert any(KNOWLEDGE in r.text() for r in vision)


def test_llm_that_returns_nonsense_is_a_one_line_error(capsys):
    with ChatServer(lambda request: "no idea") as server:
        assert main(["questions", TRUE, "--llm", server.base_url, "--llm-model", "llm"]) == 2
    assert _error_line(capsys).startswith("t2v questions: error: --llm: ")


@pytest.mark.parametrize("command", ["questions", "evaluate"])
def test_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    assert f"usage: t2v {command}" in capsys.readouterr().out
