"""The evaluator facade: prompt → questions → answers from the video → scores, for one video or a batch.

``Evaluator`` ties together a question generator, an answerer and optional knowledge retrieval,
the three swappable parts of the ETVA pipeline. A batch comes as a JSON-lines prompts file; it is
split across ``accelerate`` processes when run under ``accelerate launch``, and an item that
cannot be scored (bad JSON, empty prompt, missing or unreadable video) becomes a reported error
while the rest are still scored.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ..jsonlines import parse_json_object
from ..processes import process_state
from ..video import VIDEO_EXTENSIONS
from .results import BatchError, BatchResult, VideoResult
from .scoring import aggregate, score_video
from .types import EvalAnswer, EvalQuestion, SceneGraph

logger = logging.getLogger(__name__)

DEFAULT_THUMBNAILS = 4
THUMBNAIL_MAX_SIDE = 128


class QuestionGenerator(Protocol):
    def generate(self, prompt: str) -> tuple[SceneGraph, list[EvalQuestion]]: ...


class Answerer(Protocol):
    def answer(self, frames: np.ndarray, questions: Sequence[EvalQuestion], *, prompt: str, graph: SceneGraph,
               knowledge: str | None = None) -> list[EvalAnswer]: ...


class KnowledgeSource(Protocol):
    def retrieve(self, prompt: str, graph: SceneGraph) -> str: ...


# -- frames -----------------------------------------------------------------------------

def as_frames(frames: Any, *, name: str = "video") -> np.ndarray:
    """Validate frames as uint8 ``(F, H, W, 3)``; floats in [0, 1] are scaled to 0-255."""
    array = np.asarray(frames)
    if array.ndim != 4 or array.shape[-1] != 3 or array.shape[0] < 1 or 0 in array.shape:
        raise ValueError(f"{name} must be frames of shape (F, H, W, 3) with F >= 1, got shape {array.shape}")
    if array.dtype == np.uint8:
        return array
    if np.issubdtype(array.dtype, np.floating):
        if not np.isfinite(array).all() or array.min() < 0.0 or array.max() > 1.0:
            raise ValueError(f"{name}: float frames must lie in [0, 1]")
        return np.rint(array * 255.0).astype(np.uint8)
    raise ValueError(f"{name} must hold uint8 or float frames, got dtype {array.dtype}")


def load_video(path: str | os.PathLike[str]) -> np.ndarray:
    """Read a video file into uint8 frames, with errors that say which file and why."""
    from t2v.video import read_video

    file = Path(path)
    if not file.exists():
        raise FileNotFoundError(f"video not found: {str(file)!r}")
    if not file.is_file():
        raise ValueError(f"video must be a file, got {str(file)!r}")
    try:
        frames = read_video(file)
    except (ValueError, FileNotFoundError):
        raise
    except (OSError, RuntimeError, KeyError, IndexError) as err:  # decoders' ways of saying "not a video"
        raise ValueError(f"video {str(file)!r} could not be read: {err}") from err
    return as_frames(frames, name=f"video {str(file)!r}")


def sample_indices(total: int, count: int) -> list[int]:
    """``count`` frame indices spread evenly over ``total`` frames, first and last included."""
    if count >= total:
        return list(range(total))
    return sorted({int(round(i)) for i in np.linspace(0, total - 1, count)})


def thumbnails(frames: np.ndarray, count: int = DEFAULT_THUMBNAILS,
               max_side: int = THUMBNAIL_MAX_SIDE) -> tuple[list[np.ndarray], list[int]]:
    """Small copies of evenly spaced frames, for reports; their indices alongside."""
    from PIL import Image

    indices = sample_indices(len(frames), count) if count > 0 else []
    out = []
    for i in indices:
        frame = frames[i]
        h, w = frame.shape[:2]
        if max(h, w) > max_side:
            scale = max_side / max(h, w)
            size = (max(1, round(w * scale)), max(1, round(h * scale)))
            frame = np.asarray(Image.fromarray(frame).resize(size, Image.Resampling.BILINEAR))
        out.append(np.ascontiguousarray(frame))
    return out, indices


# -- batch items ------------------------------------------------------------------------

@dataclass
class BatchItem:
    """One line of a prompts file, resolved to a video path."""

    line: int
    prompt: str
    video: Path
    id: str | None = None


def find_video(videos_dir: Path, item_id: str) -> Path | None:
    """``<id>.mp4`` or ``<id>.gif`` in ``videos_dir``, whichever exists first."""
    for suffix in VIDEO_EXTENSIONS:
        candidate = videos_dir / f"{item_id}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def read_batch(prompts_file: str | os.PathLike[str],
               videos_dir: str | os.PathLike[str]) -> list[BatchItem | BatchError]:
    """Parse a JSON-lines prompts file; each line becomes an item to score or an error saying why not.

    A line is ``{"id": ..., "prompt": ..., "video": "relative/path.mp4"}``; without "video" the
    video is ``<id>.mp4`` or ``<id>.gif`` in ``videos_dir``. Blank lines are skipped.
    """
    path, folder = Path(prompts_file), Path(videos_dir)
    if not path.is_file():
        raise FileNotFoundError(f"prompts file not found: {str(path)!r}")
    if not folder.is_dir():
        raise FileNotFoundError(f"videos folder not found: {str(folder)!r}")
    items: list[BatchItem | BatchError] = []
    with path.open(encoding="utf-8") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            items.append(_parse_line(number, raw, folder))
    return items


def _parse_line(number: int, raw: str, folder: Path) -> BatchItem | BatchError:
    try:
        data = parse_json_object(raw)
    except ValueError as err:
        return BatchError(number, str(err))
    item_id = None if data.get("id") is None else str(data["id"])
    video = data.get("video")
    if video is not None and not isinstance(video, str):
        return BatchError(number, "'video' must be a string path", id=item_id)
    prompt = data.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        return BatchError(number, "'prompt' must be a non-empty string", id=item_id, video=video)
    if video is None:
        if item_id is None:
            return BatchError(number, "a line needs 'video' or an 'id' naming <id>.mp4 / <id>.gif")
        found = find_video(folder, item_id)
        if found is None:
            return BatchError(number, f"no {item_id}.mp4 or {item_id}.gif in {str(folder)!r}", id=item_id)
        return BatchItem(number, prompt, found, item_id)
    return BatchItem(number, prompt, folder / video, item_id)


# -- the facade -------------------------------------------------------------------------

class Evaluator:
    """ETVA-style text–video alignment: generate atomic questions from the prompt, answer them on
    the video, score the answers.

    ``generator`` defaults to the rule-based question generator and ``answerer`` to the
    shapes-world oracle; ``knowledge`` (optional) retrieves common-sense knowledge handed to the
    answerer. ``num_frames`` (optional) samples that many evenly spaced frames before answering,
    which video LLMs need; ``num_thumbnails`` frames are kept for reports.
    """

    def __init__(
        self,
        generator: QuestionGenerator | None = None,
        answerer: Answerer | None = None,
        knowledge: KnowledgeSource | None = None,
        *,
        num_frames: int | None = None,
        num_thumbnails: int = DEFAULT_THUMBNAILS,
    ) -> None:
        if num_frames is not None and (isinstance(num_frames, bool) or not isinstance(num_frames, int)
                                       or num_frames < 1):
            raise ValueError(f"num_frames must be a positive integer or None, got {num_frames!r}")
        if isinstance(num_thumbnails, bool) or not isinstance(num_thumbnails, int) or num_thumbnails < 0:
            raise ValueError(f"num_thumbnails must be a non-negative integer, got {num_thumbnails!r}")
        if generator is None:
            from .questions import RuleBasedQuestionGenerator

            generator = RuleBasedQuestionGenerator()
        if answerer is None:
            from .answerers import OracleAnswerer

            answerer = OracleAnswerer()
        self.generator = generator
        self.answerer = answerer
        self.knowledge = knowledge
        self.num_frames = num_frames
        self.num_thumbnails = num_thumbnails

    def questions(self, prompt: str) -> tuple[SceneGraph, list[EvalQuestion]]:
        """The scene graph and atomic questions of ``prompt``."""
        if not isinstance(prompt, str) or not prompt.strip():
            raise ValueError("prompt must be a non-empty string")
        graph, questions = self.generator.generate(prompt)
        if not questions:
            raise ValueError(f"prompt: no questions could be generated from {prompt!r}")
        return graph, list(questions)

    def evaluate(self, video: str | os.PathLike[str] | np.ndarray, prompt: str, *, id: str | None = None,
                 generated: tuple[SceneGraph, list[EvalQuestion]] | None = None) -> VideoResult:
        """Score one video (a file path or uint8 ``(F, H, W, 3)`` frames) against ``prompt``.

        ``generated`` passes the prompt's scene graph and questions when they were made already.
        """
        if generated is None or not generated[1]:
            graph, questions = self.questions(prompt)
        else:
            graph, questions = generated[0], list(generated[1])
        if isinstance(video, (str, os.PathLike)):
            frames, label = load_video(video), str(video)
        else:
            frames, label = as_frames(video), None
        total = len(frames)
        thumbs, indices = thumbnails(frames, self.num_thumbnails)
        if self.num_frames is not None:
            frames = frames[sample_indices(total, self.num_frames)]
        knowledge = self.knowledge.retrieve(prompt, graph) if self.knowledge is not None else None
        answers = list(self.answerer.answer(frames, questions, prompt=prompt, graph=graph,
                                            knowledge=knowledge))
        scores = score_video(questions, answers)
        return VideoResult(
            prompt=prompt, graph=graph, questions=questions, answers=answers, scores=scores,
            num_frames=total, thumbnails=thumbs, thumbnail_indices=indices, video=label, id=id,
            knowledge=knowledge,
        )

    def _pregenerate(self, items: Sequence[BatchItem | BatchError]) -> dict[int, tuple[SceneGraph, list]]:
        """Questions for all prompts in one call where the generator batches (a parser pass over
        all prompts is much faster); empty when it does not, or fails, so items go one by one."""
        generate_batch = getattr(self.generator, "generate_batch", None)
        todo = [i for i in items if isinstance(i, BatchItem)]
        if not callable(generate_batch) or not todo:
            return {}
        try:
            generated = generate_batch([i.prompt for i in todo])
        except (ValueError, RuntimeError) as err:
            logger.info("batched question generation failed (%s); generating one prompt at a time", err)
            return {}
        return {i.line: g for i, g in zip(todo, generated, strict=True)}

    def _evaluate_item(self, item: BatchItem | BatchError,
                       generated: tuple[SceneGraph, list[EvalQuestion]] | None = None) -> VideoResult | BatchError:
        if isinstance(item, BatchError):
            return item
        try:
            return self.evaluate(item.video, item.prompt, id=item.id, generated=generated)
        except (ValueError, OSError, RuntimeError) as err:
            message = str(err).splitlines()[0] if str(err) else type(err).__name__
            logger.warning("line %d (%s): %s", item.line, item.id or item.video, message)
            return BatchError(item.line, message, id=item.id, video=str(item.video))

    def evaluate_batch(self, prompts_file: str | os.PathLike[str], videos_dir: str | os.PathLike[str], *,
                       out_dir: str | os.PathLike[str] | None = None) -> BatchResult:
        """Score every line of a JSON-lines prompts file against its video in ``videos_dir``.

        Under ``accelerate launch`` each process scores its share of the lines; the results are
        gathered in file order on every process, and only the main process writes ``out_dir``
        (``results.json`` and ``report.html``).
        """
        from accelerate.utils import gather_object

        items = read_batch(prompts_file, videos_dir)
        state = process_state()
        with state.split_between_processes(items) as mine:
            generated = self._pregenerate(mine)
            local = [self._evaluate_item(item, generated.get(item.line)) for item in mine]
        outcomes = gather_object(local) if state.num_processes > 1 else local
        results = [o for o in outcomes if isinstance(o, VideoResult)]
        errors = [o for o in outcomes if isinstance(o, BatchError)]
        batch = BatchResult(results=results, errors=errors, scores=aggregate([r.scores for r in results]),
                            num_processes=state.num_processes)
        if out_dir is not None and state.is_main_process:
            write_batch_outputs(batch, out_dir)
        return batch


def write_batch_outputs(batch: BatchResult, out_dir: str | os.PathLike[str]) -> tuple[Path, Path]:
    """Write ``results.json`` and ``report.html`` for a batch into ``out_dir``."""
    from .report import write_html, write_json

    folder = Path(out_dir)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"out_dir must be a folder, got the file {str(folder)!r}")
    return write_json(batch, folder / "results.json"), write_html(batch, folder / "report.html")
