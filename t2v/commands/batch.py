"""``t2v batch generate``: the videos of a JSON-lines prompts file, resumable, split across processes.

The work is :func:`t2v.batch.run_batch`; ``accelerate launch -m t2v.batch generate ...`` runs this verb in
every process.
"""

from __future__ import annotations

import argparse
import sys
import time

from ._common import add_model_arguments, non_negative_float, positive_int


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "batch", help="generate (and score) the videos of a prompts file, resumable, across processes",
        description="Batch work over a JSON-lines prompts file; under `accelerate launch -m t2v.batch ...` the "
                    "items are split between the processes.")
    actions = parser.add_subparsers(dest="batch_command", metavar="ACTION")
    actions.required = True
    generate = actions.add_parser(
        "generate", help="generate a video for every line of a prompts file",
        description="Generate a video for every line of a JSON-lines file: {\"prompt\": \"...\"} or "
                    "{\"story\": \"...\"} (planned into scenes like `t2v story`), with optional \"seed\" and "
                    "\"id\". Each item's video <id>-<key>.mp4 and its JSON sidecar go to --out; a rerun skips "
                    "items already done, so a stopped batch resumes. Lines that cannot be read and items that "
                    "fail are reported and skipped. Exit code 0 when every item was done, 1 when some failed, "
                    "2 for bad arguments.")
    generate.add_argument("prompts", help="JSON-lines prompts file")
    generate.add_argument("--out", required=True, metavar="DIR", help="folder of the videos and their sidecars")
    add_model_arguments(generate)
    generate.add_argument("--seed", type=int, default=0, help="seed of the lines that give none (default 0)")
    generate.add_argument("--steps", type=positive_int, default=25, help="denoising steps")
    generate.add_argument("--guidance", type=non_negative_float, default=None,
                          help="classifier-free guidance scale (default: the model's)")
    generate.add_argument("--evaluate", action="store_true",
                          help="score every item with the evaluator (the shapes-world oracle) and write "
                               "results.json and report.html to --out")
    generate.set_defaults(func=run)


def _print_item(outcome) -> None:
    if outcome.error is not None:
        print(f"line {outcome.line}: failed: {outcome.error}", file=sys.stderr)
    else:
        print(f"line {outcome.line}: wrote {outcome.video} ({outcome.seconds:.1f} s)", flush=True)


def run(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    from ..batch import BatchSettings, run_batch

    settings = BatchSettings(model=args.model, motion_adapter=args.motion_adapter, lora=args.lora,
                             dtype=args.dtype, steps=args.steps, guidance=args.guidance, seed=args.seed,
                             device=args.device, cpu_offload=args.cpu_offload, attention=args.attention,
                             cache=args.cache, cache_threshold=args.cache_threshold, mag_ratios=args.mag_ratios)
    result = run_batch(args.prompts, args.out, settings, evaluate=args.evaluate, on_item=_print_item)
    from ..processes import process_state

    if process_state().is_main_process:
        _summary(result, time.perf_counter() - start)
    return 0 if result.ok else 1


def _summary(result, seconds: float) -> None:
    for bad in result.bad:
        print(f"line {bad.line}: skipped: {bad.error}", file=sys.stderr)
    for line, first in result.repeats:
        print(f"line {line}: the same item as line {first}, done once", file=sys.stderr)
    for outcome in result.unscored:
        print(f"line {outcome.line}: not scored: {outcome.eval_error}", file=sys.stderr)
    if result.evaluation is not None:
        from ..eval.scoring import coverage_text, score_text

        scores = result.evaluation.scores
        print(f"scored {scores.num_videos} video(s): DSG score {score_text(scores.dsg)}, yes-rate "
              f"{score_text(scores.yes_rate)}, coverage {coverage_text(scores.num_answered, scores.num_questions)}; "
              f"{result.results_path}, {result.report_path}")
    processes = f" on {result.num_processes} processes" if result.num_processes > 1 else ""
    print(f"{len(result.generated)} generated, {len(result.skipped)} already done, {len(result.failed)} failed, "
          f"{len(result.bad)} bad line(s){processes}; videos in {result.out_dir}; took {seconds:.1f} s")
