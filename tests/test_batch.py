"""``t2v batch generate``: every item once (also across two ``accelerate`` processes), a resume after kill -9
that redoes nothing, bad lines reported and skipped, and ``--evaluate``'s results.json and HTML report."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from t2v.cli import main

ROOT = Path(__file__).resolve().parents[1]
PROMPTS = ["a big red ball moving left on a black background", "a small blue square moving up",
           "a big green triangle moving right", "a small yellow ball bouncing", "a big purple square growing"]
STORY = "A big red ball moves right on a black background. Then it bounces."


def write_lines(path: Path, lines: list) -> Path:
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines))
    return path


def sidecars(folder: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json")) if p.name != "results.json"]


def stamps(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}


def batch(tiny_model_dir: Path, prompts: Path, out: Path, *extra: str) -> int:
    return main(["batch", "generate", str(prompts), "--out", str(out), "--model", str(tiny_model_dir),
                 "--steps", "1", *extra])


def test_one_process_makes_each_item_once_and_a_rerun_skips_them(tiny_model_dir, tmp_path, capsys):
    prompts = write_lines(tmp_path / "p.jsonl", [{"prompt": PROMPTS[0], "id": "red ball"},
                                                 {"prompt": PROMPTS[1], "seed": 7},
                                                 {"story": STORY, "id": 3}])
    out = tmp_path / "out"
    assert batch(tiny_model_dir, prompts, out) == 0
    done = sidecars(out)
    assert len(done) == 3 and len({d["key"] for d in done}) == 3
    by_line = {d["line"]: d for d in done}
    assert by_line[1]["prompt"] == PROMPTS[0] and by_line[1]["video"].startswith("red_ball-")
    assert by_line[2]["seed"] == 7 and by_line[1]["seed"] == 0
    assert by_line[1]["settings"]["steps"] == 1 and by_line[1]["settings"]["model"] == str(tiny_model_dir)
    assert by_line[3]["kind"] == "story" and len(by_line[3]["scenes"]) == 2 and by_line[3]["frames"] == 8
    assert all((out / d["video"]).is_file() for d in done)
    assert "3 generated, 0 already done" in capsys.readouterr().out

    before = stamps(out)
    assert batch(tiny_model_dir, prompts, out) == 0
    assert "0 generated, 3 already done" in capsys.readouterr().out
    assert stamps(out) == before  # nothing rewritten

    assert batch(tiny_model_dir, prompts, out, "--seed", "1") == 0  # other settings: other items
    assert "2 generated, 1 already done" in capsys.readouterr().out  # line 2 has its own seed
    assert len(sidecars(out)) == 5


def test_bad_lines_are_reported_and_skipped_and_the_exit_code_says_so(tiny_model_dir, tmp_path, capsys):
    prompts = write_lines(tmp_path / "p.jsonl", [{"prompt": PROMPTS[0]}, "{not json", {"id": "x"},
                                                 {"prompt": "   "}, {"story": "Hmm."}, "", {"prompt": PROMPTS[1]},
                                                 {"prompt": PROMPTS[1]}])
    out = tmp_path / "out"
    assert batch(tiny_model_dir, prompts, out) == 1
    captured = capsys.readouterr()
    assert {d["prompt"] for d in sidecars(out)} == {PROMPTS[0], PROMPTS[1]}
    assert "line 2: skipped: invalid JSON" in captured.err
    assert "line 3: skipped: 'prompt' must be a non-empty string" in captured.err
    assert "line 4: skipped" in captured.err
    assert "line 5: failed: story has no scene the planner can read" in captured.err  # the planner refuses it
    assert "line 8: the same item as line 7, done once" in captured.err
    assert "2 generated, 0 already done, 1 failed, 3 bad line(s)" in captured.out


@pytest.mark.parametrize(("args", "message"), [
    (["missing.jsonl"], "prompts file not found"),
    (["p.jsonl", "--attention", "flash"], "attention 'flash'"),
    (["p.jsonl", "--out-is-a-file"], "out must be a folder"),
])
def test_bad_arguments_exit_2_in_one_line(tiny_model_dir, tmp_path, capsys, args, message):
    write_lines(tmp_path / "p.jsonl", [{"prompt": PROMPTS[0]}])
    out = tmp_path / "out"
    if "--out-is-a-file" in args:
        args = args[:1]
        out.write_text("")
    argv = ["batch", "generate", str(tmp_path / args[0]), *args[1:], "--out", str(out), "--model",
            str(tiny_model_dir), "--steps", "1"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("t2v batch: error:") and message in err and "\n" not in err


def test_evaluate_scores_every_item_done_now_or_before(tiny_model_dir, tmp_path, capsys):
    out = tmp_path / "out"
    lines = [{"prompt": p, "id": f"item{i}"} for i, p in enumerate(PROMPTS[:3])]
    assert batch(tiny_model_dir, write_lines(tmp_path / "p.jsonl", lines[:2]), out) == 0
    assert not (out / "results.json").exists()
    assert batch(tiny_model_dir, write_lines(tmp_path / "p.jsonl", lines), out, "--evaluate") == 0
    assert "1 generated, 2 already done" in capsys.readouterr().out
    results = json.loads((out / "results.json").read_text())
    assert [r["id"] for r in results["results"]] == ["item0", "item1", "item2"]
    assert all(r["questions"] and r["video"].endswith(".mp4") for r in results["results"])
    assert results["scores"]["num_videos"] == 3 and results["errors"] == []
    html = (out / "report.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and all(p in html for p in PROMPTS[:3])


def launch_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}


def test_two_accelerate_processes_split_the_items_without_repeats(tiny_model_dir, tmp_path):
    lines = [{"prompt": p, "seed": s} for s in (1, 2) for p in PROMPTS[:3]] + [{"story": STORY}]  # 7: uneven
    prompts = write_lines(tmp_path / "p.jsonl", lines)
    accelerate = Path(sys.executable).with_name("accelerate")
    cmd = [str(accelerate), "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
           "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port", "29531",
           "-m", "t2v.batch", "generate", str(prompts), "--out", str(tmp_path / "out"), "--model",
           str(tiny_model_dir), "--steps", "1", "--evaluate"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=launch_env(), cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "7 generated, 0 already done, 0 failed, 0 bad line(s) on 2 processes" in proc.stdout
    wrote = [line.split(":")[0] for line in proc.stdout.splitlines() if ": wrote " in line]
    assert sorted(wrote) == sorted(f"line {n}" for n in range(1, 8))  # each item by one process only
    done = sidecars(tmp_path / "out")
    assert len(done) == 7 and len({d["key"] for d in done}) == 7
    assert sorted(d["line"] for d in done) == list(range(1, 8))
    assert all((tmp_path / "out" / d["video"]).is_file() for d in done)
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["num_processes"] == 2
    assert len(results["results"]) == 6 + 2  # one per prompt, one per scene of the story


def test_a_batch_killed_midway_resumes_without_redoing_finished_items(tiny_model_dir, tmp_path, capsys):
    lines = [{"prompt": p, "seed": s} for s in range(3) for p in PROMPTS]  # 15 items
    prompts = write_lines(tmp_path / "p.jsonl", lines)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "t2v.batch", "generate", str(prompts), "--out", str(out), "--model",
           str(tiny_model_dir), "--steps", "4"]
    proc = subprocess.Popen(cmd, env=launch_env(), cwd=tmp_path, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not list(out.glob("*.json")) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the batch and its ffmpeg, mid-item
        proc.wait()
    first = sidecars(out)
    assert 1 <= len(first) < len(lines), "the batch ended before it could be stopped"
    files = [out / name for d in first for name in (d["video"], d["video"].replace(".mp4", ".json"))]
    finished = {p.name: p.stat().st_mtime_ns for p in files}

    assert main(["batch", "generate", str(prompts), "--out", str(out), "--model", str(tiny_model_dir),
                 "--steps", "4"]) == 0
    assert f"{len(lines) - len(first)} generated, {len(first)} already done" in capsys.readouterr().out
    done = sidecars(out)
    assert len(done) == len(lines) and len({d["key"] for d in done}) == len(lines)
    assert all((out / d["video"]).is_file() for d in done)
    assert {name: (out / name).stat().st_mtime_ns for name in finished} == finished  # not redone
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]  # no half-written leftovers
