"""Batch generation (and evaluation) of a JSON-lines prompts file, resumable, split across processes.

``t2v batch generate prompts.jsonl --out DIR`` in one process, or over several under
``accelerate launch -m t2v.batch generate prompts.jsonl --out DIR``. Each line is one item::

    {"prompt": "a red ball moving left", "seed": 3, "id": "ball"}   # seed and id optional
    {"story": "A red ball rolls right. Then it bounces."}            # planned like `t2v story`

An item is keyed by a hash of its line's JSON and the settings that shape its video (model, LoRA,
dtype, steps, guidance, seed). Its video is written under a temporary name and renamed when complete;
its JSON sidecar (key, seed, settings, prompt) is written after it, the same way, and marks the item
done. A rerun skips the items whose sidecar is there, so a batch that was stopped (even by kill -9)
carries on where it stopped, and a change of settings makes new items instead of mixing old ones in.

The main process reads the file and decides what is left to do; that list is broadcast and split
between the processes without padding, so no item is done twice. A line that cannot be read (bad JSON,
no prompt) and an item whose generation fails are reported and skipped, never fatal:
:attr:`BatchRun.ok` says whether everything was done. With ``evaluate``, every done item is scored
with the evaluator (the shapes-world oracle by default), and the main process writes ``results.json``
and ``report.html`` for the whole batch after gathering the scores.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .jsonlines import parse_json_object

logger = logging.getLogger(__name__)

RESULTS_FILE = "results.json"
REPORT_FILE = "report.html"
VIDEO_SUFFIX = ".mp4"
SIDECAR_SUFFIX = ".json"
KEY_LENGTH = 16  # hex digits of the key in file names
_ID_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


# -- settings and items ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class BatchSettings:
    """How the batch's videos are made. ``model`` … ``guidance``, the cache settings and ``seed`` (the seed of
    lines that give none) are part of each item's key (a cache changes the video a little); ``device``,
    ``cpu_offload`` and ``attention`` are not, since they change where and how fast a video is made, not
    which video it is."""

    model: str = "tiny-shapes"
    motion_adapter: str | None = None
    lora: str | None = None
    dtype: str | None = None
    steps: int = 25
    guidance: float | None = None
    seed: int = 0
    device: str | None = None
    cpu_offload: bool = False
    attention: str = "sdpa"
    cache: str | None = None  # transformer (Wan) models: "first-block", "mag" or "taylorseer"
    cache_threshold: float | None = None
    mag_ratios: str | None = None

    def check(self) -> None:
        if isinstance(self.steps, bool) or not isinstance(self.steps, int) or not 1 <= self.steps <= 1000:
            raise ValueError(f"steps must be an integer in [1, 1000], got {self.steps!r}")
        if self.guidance is not None and not (isinstance(self.guidance, (int, float)) and self.guidance >= 0):
            raise ValueError(f"guidance must be a non-negative number or None, got {self.guidance!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ValueError(f"seed must be an integer, got {self.seed!r}")
        if self.dtype not in (None, "float32", "float16", "bfloat16"):
            raise ValueError(f"dtype must be float32, float16, bfloat16 or None, got {self.dtype!r}")
        from .models.attention import check_attention
        from .models.caching import check_cache

        check_attention(self.attention)
        check_cache(self.cache, None if self.cache_threshold is None else {"threshold": self.cache_threshold})
        if self.mag_ratios is not None and self.cache != "mag":
            raise ValueError(f"mag_ratios is for cache 'mag', got cache {self.cache!r}")

    def keyed(self) -> dict[str, Any]:
        """The settings that decide an item's video (local paths made absolute: a rerun from another folder
        finds the same keys)."""
        return {"model": _local_absolute(self.model), "motion_adapter": _local_absolute(self.motion_adapter),
                "lora": _local_absolute(self.lora), "dtype": self.dtype, "steps": self.steps,
                "guidance": self.guidance, **self.cache_key()}

    def cache_key(self) -> dict[str, Any]:
        """The cache settings, only when a cache is on (so keys of uncached batches stay as they were)."""
        if self.cache is None:
            return {}
        return {"cache": self.cache, "cache_threshold": self.cache_threshold,
                "mag_ratios": _local_absolute(self.mag_ratios)}


def _local_absolute(name: str | None) -> str | None:
    if name is None:
        return None
    path = Path(name).expanduser()
    return str(path.resolve()) if path.exists() else name


@dataclass(frozen=True)
class BatchItem:
    """One line to generate: a prompt or a story, its seed, and its key."""

    line: int
    kind: str  # "prompt" or "story"
    text: str
    seed: int
    key: str
    id: str | None = None

    @property
    def stem(self) -> str:
        """The item's file name without suffix: ``<id>-<key>`` (id made file-safe) or ``<key>``."""
        short = self.key[:KEY_LENGTH]
        if self.id is None:
            return short
        safe = _ID_CHARS.sub("_", self.id).strip("._")[:60]
        return f"{safe}-{short}" if safe else short

    @property
    def label(self) -> str:
        return self.id if self.id is not None else self.stem


@dataclass(frozen=True)
class BadLine:
    """A line that is no item, and why. ``line`` is 1-based."""

    line: int
    error: str
    id: str | None = None


def item_key(record: dict[str, Any], seed: int, settings: dict[str, Any]) -> str:
    """The hash of a line's JSON (keys sorted: spacing and key order do not matter), its seed and settings."""
    text = json.dumps({"item": record, "seed": seed, "settings": settings}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def parse_line(number: int, raw: str, settings: BatchSettings, keyed: dict[str, Any] | None = None
               ) -> BatchItem | BadLine:
    """One line of a prompts file as an item, or a :class:`BadLine` saying why not."""
    try:
        data = parse_json_object(raw)
    except ValueError as err:
        return BadLine(number, str(err))
    raw_id = data.get("id")
    if raw_id is not None and (isinstance(raw_id, bool) or not isinstance(raw_id, (str, int))):
        return BadLine(number, f"'id' must be a string or an integer, got {raw_id!r}")
    item_id = None if raw_id is None else str(raw_id)
    if "prompt" in data and "story" in data:
        return BadLine(number, "give 'prompt' or 'story', not both", item_id)
    kind = "story" if "story" in data else "prompt"
    text = data.get(kind)
    if not isinstance(text, str) or not text.strip():
        return BadLine(number, f"'{kind}' must be a non-empty string (each line needs 'prompt' or 'story')",
                       item_id)
    seed = data.get("seed", settings.seed)
    if isinstance(seed, bool) or not isinstance(seed, int) or not -(2**63) <= seed < 2**64:
        return BadLine(number, f"'seed' must be an integer, got {seed!r}", item_id)
    key = item_key(data, seed, settings.keyed() if keyed is None else keyed)
    return BatchItem(number, kind, text, seed, key, item_id)


def read_items(prompts_file: str | os.PathLike[str], settings: BatchSettings) -> list[BatchItem | BadLine]:
    """Every non-blank line of a JSON-lines prompts file, as an item or a bad line."""
    path = Path(prompts_file)
    if not path.is_file():
        raise FileNotFoundError(f"prompts file not found: {str(path)!r}")
    keyed = settings.keyed()
    out: list[BatchItem | BadLine] = []
    with path.open("rb") as handle:
        for number, raw_bytes in enumerate(handle, start=1):
            try:
                raw = raw_bytes.decode("utf-8")
            except UnicodeDecodeError:
                out.append(BadLine(number, "not UTF-8 text"))
                continue
            if raw.strip():
                out.append(parse_line(number, raw, settings, keyed))
    return out


# -- the plan: what is done, what is left ------------------------------------------------------------------

@dataclass
class BatchPlan:
    """What the main process found: items left to do, items done before, bad lines, repeated items
    (``(line, first line)``: the same key, done once)."""

    pending: list[BatchItem] = field(default_factory=list)
    done: list[BatchItem] = field(default_factory=list)
    bad: list[BadLine] = field(default_factory=list)
    repeats: list[tuple[int, int]] = field(default_factory=list)


def sidecar_path(out_dir: Path, item: BatchItem) -> Path:
    return out_dir / f"{item.stem}{SIDECAR_SUFFIX}"


def video_path(out_dir: Path, item: BatchItem) -> Path:
    return out_dir / f"{item.stem}{VIDEO_SUFFIX}"


def read_sidecar(out_dir: Path, item: BatchItem) -> dict[str, Any] | None:
    """The item's sidecar when the item is done (its key matches and its video is there), else None."""
    try:
        data = json.loads(sidecar_path(out_dir, item).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("key") != item.key:
        return None
    video = data.get("video")
    if not isinstance(video, str) or not (out_dir / video).is_file():
        return None
    return data


def make_plan(prompts_file: str | os.PathLike[str], out_dir: str | os.PathLike[str],
              settings: BatchSettings) -> BatchPlan:
    """Read the prompts file and sort its items into done and pending; leftovers of a stopped run's
    unfinished writes (temporary files of pending items) are removed."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    plan = BatchPlan()
    first_line: dict[str, int] = {}
    for entry in read_items(prompts_file, settings):
        if isinstance(entry, BadLine):
            plan.bad.append(entry)
            continue
        if entry.key in first_line:
            plan.repeats.append((entry.line, first_line[entry.key]))
            continue
        first_line[entry.key] = entry.line
        if read_sidecar(out, entry) is not None:
            plan.done.append(entry)
        else:
            plan.pending.append(entry)
            for name in (f"{entry.stem}{VIDEO_SUFFIX}", f"{entry.stem}{SIDECAR_SUFFIX}"):
                for leftover in out.glob(f".{glob_escape(name)}.*"):  # write_video / write_text_atomic temps
                    leftover.unlink(missing_ok=True)
    return plan


def glob_escape(name: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", name)


# -- outcomes ----------------------------------------------------------------------------------------------

@dataclass
class ItemOutcome:
    """What happened to one item in this run: generated now, done before (``skipped``) or failed
    (``error``); with evaluation, its scores (``results``, one per scene for a story) or why it could not be
    scored (``eval_error``)."""

    line: int
    key: str
    id: str | None
    video: str | None = None
    error: str | None = None
    skipped: bool = False
    seconds: float = 0.0
    results: list[Any] = field(default_factory=list)
    eval_error: str | None = None


@dataclass
class BatchRun:
    """A batch run as every process sees it after gathering."""

    out_dir: Path
    outcomes: list[ItemOutcome]
    bad: list[BadLine]
    repeats: list[tuple[int, int]]
    num_processes: int = 1
    evaluation: Any = None  # t2v.eval.results.BatchResult with evaluate=True
    results_path: Path | None = None
    report_path: Path | None = None

    @property
    def generated(self) -> list[ItemOutcome]:
        return [o for o in self.outcomes if o.error is None and not o.skipped]

    @property
    def skipped(self) -> list[ItemOutcome]:
        return [o for o in self.outcomes if o.skipped]

    @property
    def failed(self) -> list[ItemOutcome]:
        return [o for o in self.outcomes if o.error is not None]

    @property
    def unscored(self) -> list[ItemOutcome]:
        return [o for o in self.outcomes if o.eval_error is not None]

    @property
    def ok(self) -> bool:
        """Every line was an item, and every item was generated (and scored, when asked)."""
        return not (self.bad or self.failed or self.unscored)


def _message(err: BaseException) -> str:
    return str(err).splitlines()[0] if str(err) else type(err).__name__


# -- generating and scoring one item -----------------------------------------------------------------------

class _Worker:
    """One process's share: the model (loaded once), generating, writing and scoring items."""

    def __init__(self, settings: BatchSettings, out_dir: Path, pipe: Any, device: str | None,
                 evaluator: Any) -> None:
        self.settings = settings
        self.out_dir = out_dir
        self.pipe = pipe
        self.device = device
        self.evaluator = evaluator
        self._story_pipe = None

    def pipeline(self):
        if self.pipe is None:
            import torch

            from .models import load_pipeline

            s = self.settings
            self.pipe = load_pipeline(s.model, motion_adapter=s.motion_adapter, lora=s.lora,
                                      dtype=getattr(torch, s.dtype) if s.dtype else None, device=self.device,
                                      cpu_offload=s.cpu_offload, attention=s.attention, cache=s.cache,
                                      cache_options=None if s.cache_threshold is None else {
                                          "threshold": s.cache_threshold},
                                      mag_ratios=s.mag_ratios)
            self.pipe.set_progress_bar_config(disable=True)  # a line per item says how far the batch is
        return self.pipe

    def story_pipeline(self):
        if self._story_pipe is None:
            from .pipelines import pipeline_for

            self._story_pipe = pipeline_for(self.pipeline(), "story")
            self._story_pipe.set_progress_bar_config(**getattr(self.pipeline(), "_progress_bar_config", {}))
        return self._story_pipe

    def generate(self, item: BatchItem) -> ItemOutcome:
        start = time.perf_counter()
        try:
            sidecar = self._generate(item)
        except (ValueError, OSError, RuntimeError) as err:  # this item fails; the batch goes on
            logger.info("line %d (%s): failed: %s", item.line, item.label, _message(err))
            return ItemOutcome(item.line, item.key, item.id, error=_message(err),
                               seconds=time.perf_counter() - start)
        seconds = time.perf_counter() - start
        outcome = ItemOutcome(item.line, item.key, item.id, video=sidecar["video"], seconds=seconds)
        logger.info("line %d (%s): wrote %s in %.1f s", item.line, item.label, sidecar["video"], seconds)
        return outcome

    def _generate(self, item: BatchItem) -> dict[str, Any]:
        from .eval.report import write_text_atomic
        from .video import write_video

        start = time.perf_counter()
        s = self.settings
        extra: dict[str, Any] = {}
        if item.kind == "story":
            from .generation import generate_story
            from .story import plan_story

            script = plan_story(item.text, planner="rule", seed=item.seed)  # what `t2v story` does
            frames, fps, result = generate_story(self.story_pipeline(), script, num_inference_steps=s.steps,
                                                 guidance_scale=s.guidance)
            extra["scenes"] = [{"prompt": scene.prompt, "seed": scene.seed, "frames": int(len(clip))}
                               for scene, clip in zip(result.script.scenes, result.clips, strict=True)]
            extra["script"] = result.script.to_dict()
        else:
            from .generation import generate

            frames, fps = generate(self.pipeline(), item.text, seed=item.seed, num_inference_steps=s.steps,
                                   guidance_scale=s.guidance)
        video = video_path(self.out_dir, item)
        write_video(frames, video, fps=fps)  # a temporary name, renamed once complete
        sidecar = {"key": item.key, "id": item.id, "line": item.line, "kind": item.kind, item.kind: item.text,
                   "seed": item.seed, "settings": s.keyed(), "video": video.name, "frames": int(len(frames)),
                   "fps": fps, "seconds": round(time.perf_counter() - start, 3), **extra}
        # written last, atomically: its presence marks the item done
        write_text_atomic(sidecar_path(self.out_dir, item), json.dumps(sidecar, indent=2, ensure_ascii=False) + "\n")
        return sidecar

    def score(self, item: BatchItem, outcome: ItemOutcome) -> None:
        """Score the item's video as written (the file a later run would read too)."""
        from .eval.evaluator import load_video

        try:
            sidecar = read_sidecar(self.out_dir, item)
            if sidecar is None:
                raise ValueError("its sidecar or video is missing")
            video = self.out_dir / sidecar["video"]
            frames = load_video(video)
            if item.kind == "story":
                results, start = [], 0
                for number, scene in enumerate(sidecar.get("scenes") or [], start=1):
                    clip = frames[start:start + int(scene["frames"])]
                    start += int(scene["frames"])
                    result = self.evaluator.evaluate(clip, scene["prompt"], id=f"{item.label}#{number}")
                    result.video = str(video)
                    results.append(result)
                if not results:
                    raise ValueError("the story's sidecar lists no scenes")
            else:
                result = self.evaluator.evaluate(frames, item.text, id=item.label)
                result.video = str(video)
                results = [result]
        except (ValueError, OSError, RuntimeError, KeyError, TypeError) as err:
            logger.info("line %d (%s): not scored: %s", item.line, item.label, _message(err))
            outcome.eval_error = _message(err)
            return
        outcome.results = results


# -- the batch ---------------------------------------------------------------------------------------------

def run_batch(
    prompts_file: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    settings: BatchSettings | None = None,
    *,
    evaluate: bool = False,
    evaluator: Any = None,
    pipe: Any = None,
    on_item: Callable[[ItemOutcome], None] | None = None,
) -> BatchRun:
    """Generate every item of ``prompts_file`` not done yet into ``out_dir``; with ``evaluate``, score every
    done item and write ``results.json`` and ``report.html`` there.

    Under ``accelerate launch`` every process calls this: the main process plans, the pending items are
    split between the processes (no padding), and the outcomes are gathered on all of them. ``pipe`` (a
    loaded pipeline) is used instead of loading ``settings.model``; ``evaluator`` defaults to
    :class:`~t2v.eval.evaluator.Evaluator` (rule-based questions, the shapes-world oracle). ``on_item`` is
    called in each process for each item it finished (generated or failed).
    """
    from .processes import process_state

    settings = BatchSettings() if settings is None else settings
    settings.check()
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ValueError(f"out must be a folder, got the file {str(out)!r}")
    if not Path(prompts_file).is_file():
        raise FileNotFoundError(f"prompts file not found: {str(prompts_file)!r}")
    state = process_state()

    plan: BatchPlan | None = None
    failure: BaseException | None = None
    if state.is_main_process:
        try:
            plan = make_plan(prompts_file, out, settings)
        except (ValueError, OSError) as err:
            failure = err
    if state.num_processes > 1:
        from accelerate.utils import broadcast_object_list

        box = broadcast_object_list([plan, failure], from_process=0)
        plan, failure = box[0], box[1]
    if failure is not None:
        raise failure
    if plan is None:
        raise RuntimeError("the main process sent no batch plan")

    device = settings.device
    if device is None and state.num_processes > 1 and state.device.type != "cpu":
        device = str(state.device)  # one accelerator per process
    if evaluate and evaluator is None:
        from .eval.evaluator import Evaluator

        evaluator = Evaluator()
    worker = _Worker(settings, out, pipe, device, evaluator if evaluate else None)
    if plan.pending:  # a model that cannot load stops every process, not each item in turn
        _load_everywhere(worker, state)

    local: list[ItemOutcome] = []
    with state.split_between_processes(plan.pending) as mine:  # contiguous shares, never padded
        for item in mine:
            outcome = worker.generate(item)
            if evaluate and outcome.error is None:
                worker.score(item, outcome)
            local.append(outcome)
            if on_item is not None:
                on_item(outcome)
    if evaluate:
        with state.split_between_processes(plan.done) as theirs:
            for item in theirs:
                outcome = ItemOutcome(item.line, item.key, item.id, video=video_path(out, item).name, skipped=True)
                worker.score(item, outcome)
                local.append(outcome)
    if state.num_processes > 1:
        from accelerate.utils import gather_object

        gathered = gather_object(local)
    else:
        gathered = local
    seen = {o.key for o in gathered}
    gathered += [ItemOutcome(i.line, i.key, i.id, video=video_path(out, i).name, skipped=True)
                 for i in plan.done if i.key not in seen]
    run = BatchRun(out, sorted(gathered, key=lambda o: o.line), plan.bad, plan.repeats, state.num_processes)
    if evaluate:
        run.evaluation = _evaluation(run)
        if state.is_main_process:
            from .eval.evaluator import write_batch_outputs

            run.results_path, run.report_path = write_batch_outputs(run.evaluation, out)
        else:
            run.results_path, run.report_path = out / RESULTS_FILE, out / REPORT_FILE
    return run


def _evaluation(run: BatchRun):
    """The batch's scores as the evaluator's :class:`~t2v.eval.results.BatchResult`: a result per item
    (per scene of a story), and an error per bad line, failed item and item that could not be scored."""
    from .eval.results import BatchError, BatchResult
    from .eval.scoring import aggregate

    results = [r for o in run.outcomes for r in o.results]
    errors = [BatchError(b.line, b.error, id=b.id) for b in run.bad]
    errors += [BatchError(o.line, o.error, id=o.id) for o in run.outcomes if o.error is not None]
    errors += [BatchError(o.line, f"not scored: {o.eval_error}", id=o.id, video=o.video)
               for o in run.outcomes if o.eval_error is not None]
    errors.sort(key=lambda e: e.line)
    return BatchResult(results=results, errors=errors, scores=aggregate([r.scores for r in results]),
                       num_processes=run.num_processes)


def _load_everywhere(worker: _Worker, state: Any) -> None:
    """Load the model in every process (also one whose share is empty: the failure, if any, is the same
    everywhere), and raise in all of them when it failed in any, so none waits for the others forever."""
    failure: BaseException | None = None
    try:
        worker.pipeline()
    except (ValueError, OSError, RuntimeError) as err:
        failure = err
    if state.num_processes > 1:
        from accelerate.utils import gather_object

        failure = next((f for f in gather_object([failure]) if f is not None), None)
    if failure is not None:
        raise failure


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m t2v.batch generate ...`` (what ``accelerate launch -m t2v.batch`` runs): ``t2v batch``."""
    from .cli import main as cli_main

    return cli_main(["batch", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
