"""`t2v evaluate`: score how well a video (or a batch of videos) matches its prompt, ETVA-style.

One video: `t2v evaluate out.mp4 --prompt "..."`; a batch: `t2v evaluate --batch prompts.jsonl
--videos DIR [--out DIR]` (split across processes under `accelerate launch`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from t2v.eval.scoring import coverage_text, score_text

from .eval_common import (
    add_llm_arguments,
    check_prompt,
    format_table,
    llm_failures_named,
    make_generator,
    make_llm_backend,
    questions_table,
)

ANSWERERS: tuple[str, ...] = ("oracle", "vlm", "openai")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="score text-video alignment with atomic questions (one video or a batch)",
        description="Generate atomic yes/no questions from the prompt, answer them on the video and "
                    "score the answers (DSG score with dependency skipping, ETVA yes-rate, per category). "
                    "Batch mode reads JSON lines {\"id\", \"prompt\", \"video\"}; items that cannot be "
                    "scored are reported and skipped. Exit code 1 when no item of a batch could be scored.",
    )
    parser.add_argument("video", nargs="?", help="the video file to score (mp4 or gif)")
    parser.add_argument("--prompt", help="the prompt the video should match")
    parser.add_argument("--batch", metavar="PROMPTS_JSONL",
                        help="a JSON-lines prompts file to score in batch")
    parser.add_argument("--videos", metavar="DIR",
                        help="folder of the batch's videos ('video' paths are relative to it; without one, "
                             "<id>.mp4 or <id>.gif)")
    parser.add_argument("--out", metavar="DIR", help="batch: write results.json and report.html here")
    parser.add_argument("--answerer", choices=ANSWERERS, default="oracle",
                        help="who answers the questions: the shapes-world oracle (default), a local "
                             "transformers video LLM (--vlm), or an OpenAI-compatible vision endpoint "
                             "(--llm)")
    parser.add_argument("--vlm", metavar="PATH", help="local vision-language model folder for --answerer vlm")
    add_llm_arguments(parser)
    parser.add_argument("--knowledge", action="store_true",
                        help="retrieve common-sense knowledge for the prompt with the --llm model and give "
                             "it to the answerer (ETVA's knowledge augmentation)")
    parser.add_argument("--frames", type=int, metavar="N",
                        help="answer on N evenly spaced frames (default: all frames)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead of a table")
    parser.add_argument("--html", metavar="PATH", help="write a self-contained HTML report")
    parser.add_argument("--json-out", metavar="PATH", help="write the results as JSON to a file")
    parser.set_defaults(func=run)


def _check_args(args: argparse.Namespace) -> None:
    if args.batch:
        if args.video or args.prompt:
            raise ValueError("--batch reads videos and prompts from its file: drop VIDEO and --prompt")
        if not args.videos:
            raise ValueError("--batch needs --videos DIR")
    else:
        if not args.video:
            raise ValueError("give a VIDEO to score (or --batch PROMPTS_JSONL --videos DIR)")
        check_prompt(args.prompt, "--prompt")
        if args.videos or args.out:
            raise ValueError("--videos and --out belong to --batch")
    if args.frames is not None and args.frames < 1:
        raise ValueError(f"--frames must be a positive integer, got {args.frames}")
    if args.answerer == "vlm" and not args.vlm:
        raise ValueError("--answerer vlm needs --vlm PATH (a local vision-language model folder)")
    if args.vlm and args.answerer != "vlm":
        raise ValueError("--vlm is used only with --answerer vlm")
    if args.answerer == "openai" and not args.llm:
        raise ValueError("--answerer openai needs --llm URL (an OpenAI-compatible vision endpoint)")
    if args.knowledge and not args.llm:
        raise ValueError("--knowledge needs --llm (the model that retrieves the knowledge)")
    for name in ("html", "json_out"):
        value = getattr(args, name)
        if value is not None and Path(value).is_dir():
            raise ValueError(f"--{name.replace('_', '-')} must be a file path, got the folder {value!r}")


def make_answerer(args: argparse.Namespace) -> Any:
    """The answerer named by ``--answerer``; video LLMs sample ``--frames`` frames themselves."""
    from t2v.eval import answerers

    frames = {} if args.frames is None else {"num_frames": args.frames}
    if args.answerer == "vlm":
        return answerers.VideoLLMAnswerer(args.vlm, **frames)
    if args.answerer == "openai":
        return answerers.OpenAIVisionAnswerer(args.llm, args.llm_model, **frames)
    return answerers.OracleAnswerer()


def make_evaluator(args: argparse.Namespace) -> Any:
    from t2v.eval.evaluator import Evaluator
    from t2v.eval.knowledge import KnowledgeRetriever

    backend = make_llm_backend(args) if args.llm else None
    knowledge = KnowledgeRetriever(backend) if args.knowledge else None
    # The oracle reads every frame it is given, so --frames samples the clip before it answers.
    num_frames = args.frames if args.answerer == "oracle" else None
    return Evaluator(generator=make_generator(args, backend), answerer=make_answerer(args),
                     knowledge=knowledge, num_frames=num_frames)


def _scores_lines(scores: Any) -> list[str]:
    """The scores with their coverage: they speak only for the answered questions."""
    lines = [f"DSG score: {score_text(scores.dsg)}   yes-rate: {score_text(scores.yes_rate)}   "
             f"confidence-weighted: {score_text(scores.weighted_yes_rate)}   "
             f"coverage: {coverage_text(scores.num_answered, scores.num_questions)}"]
    if scores.per_category:
        rows = [[c, str(scores.category_counts[c]), str(scores.category_answered[c]), score_text(v)]
                for c, v in scores.per_category.items()]
        lines += ["", format_table(["category", "questions", "answered", "dsg"], rows)]
    return lines


def _print_video(result: Any) -> None:
    print(f"prompt: {result.prompt}")
    if result.video:
        print(f"video:  {result.video} ({result.num_frames} frames)")
    print()
    print(questions_table(result.questions, result.answers, result.scores.question_scores))
    print()
    print("\n".join(_scores_lines(result.scores)))


def _print_batch(batch: Any) -> None:
    rows = [[r.id or "-", str(r.scores.num_questions), coverage_text(r.scores.num_answered, r.scores.num_questions),
             score_text(r.scores.dsg), score_text(r.scores.yes_rate), r.prompt] for r in batch.results]
    if rows:
        print(format_table(["id", "questions", "coverage", "dsg", "yes-rate", "prompt"], rows))
    for e in batch.errors:
        print(f"skipped line {e.line} ({e.id or e.video or '-'}): {e.error}", file=sys.stderr)
    print()
    print(f"{batch.scores.num_videos} video(s) scored, {len(batch.errors)} item(s) skipped")
    if batch.results:
        print("\n".join(_scores_lines(batch.scores)))


def run(args: argparse.Namespace) -> int:
    _check_args(args)
    with llm_failures_named():
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    evaluator = make_evaluator(args)
    if args.batch:
        from t2v.processes import process_state

        batch = evaluator.evaluate_batch(args.batch, args.videos, out_dir=args.out)
        if not process_state().is_main_process:
            return 0
        result: Any = batch
        scored = batch.scores.num_videos > 0 or not batch.errors
    else:
        result = evaluator.evaluate(args.video, args.prompt)
        scored = True
    from t2v.eval.report import to_json, write_html, write_json

    if args.json_out:
        write_json(result, args.json_out)
    if args.html:
        write_html(result, args.html)
    if args.json:
        print(to_json(result))
    elif args.batch:
        _print_batch(result)
    else:
        _print_video(result)
    return 0 if scored else 1
