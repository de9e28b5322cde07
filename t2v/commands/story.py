"""``t2v story``: a story → a script of scenes → one video, each scene continuing the last."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ._common import (
    add_model_arguments,
    check_output_path,
    describe_clip,
    load_from_args,
    non_negative_float,
    positive_int,
    write_output,
)
from .eval_common import add_llm_arguments, llm_failures_named, make_llm_backend

MAX_TRIES = 10


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "story", help="generate a multi-scene video from a story",
        description="Plan a story into scenes (or read a script), then generate every scene in order, each "
                    "continuing from the last. The script, with each scene's seed and score, is written as JSON.")
    parser.add_argument("story", nargs="?", default=None, help="the story text (or give --script)")
    parser.add_argument("-o", "--output", required=True, help="the joined video (.mp4 or .gif)")
    parser.add_argument("--clips-dir", default=None, help="also write each scene as scene_01.mp4, ... here")
    parser.add_argument("--script", default=None, help="generate this script JSON instead of planning a story")
    parser.add_argument("--script-out", default=None,
                        help="where to write the script as generated (default: the output's name with .json)")
    parser.add_argument("--planner", choices=("rule", "llm"), default="rule",
                        help="rule (default, needs nothing) or llm (needs --llm)")
    add_llm_arguments(parser)
    add_model_arguments(parser)
    parser.add_argument("--seed", type=int, default=0, help="the story's seed; each scene's seed derives from it")
    parser.add_argument("--steps", type=positive_int, default=25, help="denoising steps per scene")
    parser.add_argument("--guidance", type=non_negative_float, default=None,
                        help="classifier-free guidance scale (default: the model's)")
    parser.add_argument("--no-continuity", action="store_true", help="generate every scene independently")
    parser.add_argument("--transitions", type=positive_int, default=None, metavar="N",
                        help="put N generated frames between consecutive scenes (at most the model's length less 2)")
    parser.add_argument("--check", action="store_true",
                        help="score each scene with the evaluator (the shapes-world oracle) and regenerate a "
                             "scene that fails with its next seed, keeping the best try")
    parser.add_argument("--max-tries", type=positive_int, default=3,
                        help=f"tries per scene with --check (at most {MAX_TRIES})")
    parser.add_argument("--threshold", type=non_negative_float, default=0.75,
                        help="score a scene must reach with --check, in [0, 1]")
    parser.set_defaults(func=run)


def plan(args: argparse.Namespace):
    """The script: read from --script, or planned from the story (errors name the argument)."""
    from ..story import Script, plan_story

    if args.script is not None:
        if args.story is not None:
            raise ValueError("give a story or --script, not both")
        path = Path(args.script)
        if not path.is_file():
            raise FileNotFoundError(f"--script {args.script!r} does not exist")
        return Script.load(path)
    if args.story is None or not args.story.strip():
        raise ValueError("story: give a non-empty story (or --script)")
    if args.planner == "llm" or args.llm:
        if args.planner != "llm":
            raise ValueError("--llm needs --planner llm")
        with llm_failures_named():
            return plan_story(args.story, planner="llm", backend=make_llm_backend(args), seed=args.seed)
    return plan_story(args.story, planner="rule", seed=args.seed)


def run(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    if args.max_tries > MAX_TRIES:
        raise ValueError(f"--max-tries must be at most {MAX_TRIES}, got {args.max_tries}")
    if args.threshold > 1:
        raise ValueError(f"--threshold must be in [0, 1], got {args.threshold}")
    output = check_output_path(args.output)
    script = plan(args)  # a story the planner cannot read fails here, before a model loads or a file is written
    script_out = Path(args.script_out) if args.script_out else output.with_suffix(".json")

    from ..generation import generate_story
    from ..pipelines import ContinuityConfig, pipeline_for

    pipe = pipeline_for(load_from_args(args), "story")
    judge = None
    if args.check:
        from ..eval.judge import EvaluatorJudge

        judge = EvaluatorJudge()
    if any(e.reference_image for e in script.entities) and getattr(pipe, "image_encoder", None) is None:
        print("note: this model has no image encoder, so entity reference images are not used", file=sys.stderr)
    frames, fps, result = generate_story(
        pipe,
        script,
        num_inference_steps=args.steps,
        guidance_scale=args.guidance,
        continuity=ContinuityConfig.off() if args.no_continuity else None,
        judge=judge,
        check=args.check,
        max_tries=args.max_tries,
        threshold=args.threshold,
        boundary_path=script_out.with_suffix(".boundary.safetensors"),
        clips_dir=args.clips_dir,
        transitions=args.transitions is not None,
        transition_frames=args.transitions or 1,
    )
    write_output(frames, output, fps)
    result.script.save(script_out)
    for i, scene in enumerate(result.script.scenes):
        score = "" if scene.score is None else f", score {scene.score:.2f} after {len(scene.tries)} tries"
        print(f"scene {i + 1}: {scene.prompt!r} (seed {scene.seed}{score})")
    print(f"wrote {output}: {len(result.script.scenes)} scenes, {describe_clip(len(frames), fps)}; "
          f"script {script_out}; took {time.perf_counter() - start:.1f} s")
    return 0
