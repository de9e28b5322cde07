"""Evaluation reports: a JSON file with every question and score, and one self-contained HTML page.

The HTML page carries its CSS inline and its thumbnails as base64 PNG data URIs, so it can be
mailed or archived alone. Every piece of text from a prompt, a question or an answer is
HTML-escaped. Files are written to a temporary name and renamed, so a failed write leaves
nothing half-written behind.
"""

from __future__ import annotations

import base64
import html
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from .results import BatchError, BatchResult, VideoResult
from .scoring import BatchScores, VideoScores, coverage_text, score_text

Result = VideoResult | BatchResult

_CSS = """
body { font-family: system-ui, -apple-system, Segoe UI, sans-serif; margin: 2em auto; max-width: 70em;
       color: #222; padding: 0 1em; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: 0.6em 0; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.yes { color: #17702d; font-weight: 600; } .no { color: #b3261e; font-weight: 600; }
.skipped, .unanswerable { color: #888; } .unanswerable { font-style: italic; }
.prompt { font-size: 1.1em; background: #f7f7f2; padding: 0.5em 0.8em; border-left: 4px solid #999; }
.thumbs img { width: 128px; image-rendering: pixelated; margin-right: 6px; border: 1px solid #ccc; }
.thumbs figure { display: inline-block; margin: 0 6px 0 0; text-align: center; font-size: 0.8em; }
code { font-size: 0.9em; } .error { color: #b3261e; }
details { margin: 0.8em 0; } summary { cursor: pointer; }
"""


# -- writing --------------------------------------------------------------------------

def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename."""
    target = Path(path)
    if target.is_dir():
        raise ValueError(f"path must be a file, got the folder {str(target)!r}")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; a report is an ordinary shareable file
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def to_json(result: Result) -> str:
    """The result as indented JSON text."""
    return json.dumps(result.to_dict(), indent=2, ensure_ascii=False)


def write_json(result: Result, path: str | os.PathLike[str]) -> Path:
    """Write the JSON report of a video or a batch."""
    return write_text_atomic(path, to_json(result) + "\n")


def write_html(result: Result, path: str | os.PathLike[str]) -> Path:
    """Write the self-contained HTML report of a video or a batch."""
    return write_text_atomic(path, render_html(result))


# -- HTML -----------------------------------------------------------------------------

def png_data_uri(frame: np.ndarray) -> str:
    """A uint8 ``(H, W, 3)`` frame as a ``data:image/png;base64,...`` URI."""
    from PIL import Image

    array = np.asarray(frame)
    if array.dtype != np.uint8 or array.ndim != 3 or array.shape[2] != 3:
        raise ValueError(f"frame must be a uint8 (H, W, 3) array, got {array.dtype} {array.shape}")
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _scores_table(scores: VideoScores | BatchScores) -> str:
    rows = [("DSG score", score_text(scores.dsg)), ("Yes-rate (ETVA)", score_text(scores.yes_rate)),
            ("Confidence-weighted yes-rate", score_text(scores.weighted_yes_rate)),
            ("Coverage (answered ÷ asked)", coverage_text(scores.num_answered, scores.num_questions))]
    body = "".join(f"<tr><th>{_e(name)}</th><td class='num'>{_e(v)}</td></tr>" for name, v in rows)
    return f"<table>{body}</table>"


def _category_table(scores: VideoScores | BatchScores) -> str:
    if not scores.per_category:
        return "<p>No categories.</p>"
    rows = "".join(
        f"<tr><td>{_e(c)}</td><td class='num'>{scores.category_counts[c]}</td>"
        f"<td class='num'>{scores.category_answered[c]}</td><td class='num'>{score_text(v)}</td></tr>"
        for c, v in scores.per_category.items()
    )
    return ("<table><tr><th>Category</th><th>Questions</th><th>Answered</th><th>DSG score</th></tr>"
            f"{rows}</table>")


def _thumbnails(result: VideoResult) -> str:
    if not result.thumbnails:
        return ""
    figures = "".join(
        f"<figure><img alt='frame {i}' src='{png_data_uri(frame)}'>"
        f"<figcaption>frame {i}</figcaption></figure>"
        for frame, i in zip(result.thumbnails, result.thumbnail_indices, strict=False)
    )
    return f"<div class='thumbs'>{figures}</div>"


def _questions_table(result: VideoResult) -> str:
    head = ("<tr><th>#</th><th>Question</th><th>Tuple</th><th>Category</th><th>Parents</th><th>Frames</th>"
            "<th>Answer</th><th>Confidence</th><th>Score</th><th>Rationale</th></tr>")
    rows = []
    for rec in result.records():
        frames = "" if rec["frames"] is None else f"{rec['frames'][0]:.2f}–{rec['frames'][1]:.2f}"
        answer_class = rec["answer"]
        skipped = rec["answer"] == "yes" and rec["score"] == 0.0
        if rec["score"] is None:
            score = "<span class='unanswerable'>not scored</span>"
        else:
            score = "<span class='skipped'>0 (parent no)</span>" if skipped else f"{rec['score']:.0f}"
        confidence = "" if rec["confidence"] is None else score_text(rec["confidence"])
        rows.append(
            f"<tr><td class='num'>{_e(rec['id'])}</td><td>{_e(rec['text'])}</td>"
            f"<td><code>{_e(rec['tuple_text'])}</code></td><td>{_e(rec['category'])}</td>"
            f"<td>{_e(', '.join(str(p) for p in rec['parents']))}</td><td>{_e(frames)}</td>"
            f"<td class='{answer_class}'>{_e(rec['answer'])}</td>"
            f"<td class='num'>{confidence}</td>"
            f"<td class='num'>{score}</td><td>{_e(rec['rationale'])}</td></tr>"
        )
    return f"<table>{head}{''.join(rows)}</table>"


def _video_section(result: VideoResult, *, level: int) -> str:
    h = f"h{level}"
    title = result.id or result.video or "Video"
    parts = [
        f"<{h}>{_e(title)}</{h}>",
        f"<p class='prompt'>{_e(result.prompt)}</p>",
    ]
    if result.video:
        parts.append(f"<p>Video: <code>{_e(result.video)}</code> ({result.num_frames} frames)</p>")
    parts += [_thumbnails(result), _scores_table(result.scores), "<h3>Per category</h3>",
              _category_table(result.scores)]
    if result.knowledge:
        parts.append(f"<h3>Knowledge</h3><p>{_e(result.knowledge)}</p>")
    parts += ["<h3>Questions</h3>", _questions_table(result)]
    return "\n".join(parts)


def _errors_table(errors: list[BatchError]) -> str:
    rows = "".join(
        f"<tr><td class='num'>{e.line}</td><td>{_e(e.id or '')}</td><td>{_e(e.video or '')}</td>"
        f"<td class='error'>{_e(e.error)}</td></tr>"
        for e in errors
    )
    return f"<table><tr><th>Line</th><th>Id</th><th>Video</th><th>Error</th></tr>{rows}</table>"


def _batch_summary(batch: BatchResult) -> str:
    rows = "".join(
        f"<tr><td>{_e(r.id or r.video or '')}</td><td>{_e(r.prompt)}</td>"
        f"<td class='num'>{r.scores.num_questions}</td>"
        f"<td class='num'>{coverage_text(r.scores.num_answered, r.scores.num_questions)}</td>"
        f"<td class='num'>{score_text(r.scores.dsg)}</td><td class='num'>{score_text(r.scores.yes_rate)}</td></tr>"
        for r in batch.results
    )
    return ("<table><tr><th>Id</th><th>Prompt</th><th>Questions</th><th>Coverage</th><th>DSG</th>"
            f"<th>Yes-rate</th></tr>{rows}</table>")


def render_html(result: Result) -> str:
    """The report of a video or a batch as one self-contained HTML document."""
    if isinstance(result, VideoResult):
        title = "t2v alignment report"
        body = _video_section(result, level=2)
    elif isinstance(result, BatchResult):
        title = "t2v batch alignment report"
        parts = [
            f"<p>{result.scores.num_videos} video(s) scored, {len(result.errors)} item(s) failed.</p>",
            _scores_table(result.scores),
            "<h2>Per category</h2>", _category_table(result.scores),
            "<h2>Videos</h2>", _batch_summary(result),
        ]
        if result.errors:
            parts += ["<h2>Failed items</h2>", _errors_table(result.errors)]
        parts += [f"<details><summary>{_e(r.id or r.video or r.prompt)}</summary>{_video_section(r, level=3)}"
                  "</details>" for r in result.results]
        body = "\n".join(parts)
    else:
        raise ValueError(f"result must be a VideoResult or a BatchResult, got {type(result).__name__}")
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{_e(title)}</title><style>{_CSS}</style></head>\n"
        f"<body><h1>{_e(title)}</h1>\n{body}\n</body></html>\n"
    )
