"""``t2v transition``: generated frames that bridge the end of one clip (or image) and the start of another."""

from __future__ import annotations

import argparse
import time

import numpy as np

from ._common import add_model_arguments, check_output_path, describe_clip, positive_int, write_output
from ._given_frames import (
    add_generation_arguments,
    as_uint8,
    check_prompts,
    check_resample,
    fit_to_model,
    fit_to_wan,
    generation_kwargs,
    is_wan_image_to_video,
    load_transition_pipeline,
    read_frames,
    wan_native_kwargs,
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "transition", help="generate a bridge between two clips or images",
        description="Generate the frames between the end of A and the start of B (masked temporal inpainting: "
                    "A's last and B's first --context frames are pinned, the frames between are generated while "
                    "the prompt moves from --prompt-a to --prompt-b). Writes the bridge alone, or with "
                    "--with-clips A, the bridge and B as one video. Inputs of another size are resized (shorter "
                    "side to the model's, then centre-cropped).")
    parser.add_argument("a", help="clip or image A (.mp4, .gif, .png, .jpg, ...)")
    parser.add_argument("b", help="clip or image B")
    parser.add_argument("--prompt-a", required=True, help="a prompt describing A")
    parser.add_argument("--prompt-b", required=True, help="a prompt describing B")
    parser.add_argument("--prompt", default=None, help="what the middle of the transition shows (optional)")
    parser.add_argument("-o", "--output", required=True, help="output file (.mp4 or .gif)")
    parser.add_argument("--frames", type=positive_int, default=None, metavar="N",
                        help="bridge length (default and most: the model's length less 2 x --context)")
    parser.add_argument("--context", type=positive_int, default=1, metavar="K",
                        help="frames of A's end and of B's start that are given (default 1; an image is one frame)")
    parser.add_argument("--with-clips", action="store_true", help="write A, the bridge and B, not the bridge alone")
    parser.add_argument("--guide", type=guide_strength, default="default", metavar="ENDS,MIDDLE",
                        help="how free the bridge is of the dissolve from A to B: the share of the steps a frame is "
                             "generated freely, at the bridge's ends and its middle, each in [0, 1] (default: the "
                             "model's, 0,0.3 on AnimateDiff); 'none' for an unguided bridge")
    parser.add_argument("--share", type=generated_share, default="default", metavar="S",
                        help="the weight, in [0, 1], of what the model drew beyond the dissolve from A to B, "
                             "shown over the exact dissolve and rising from the ends to S at the middle, so it fades "
                             "in and out (even 1 ramps; default: the model's, 0.3 on AnimateDiff); 'none' for the "
                             "model's frames as decoded")
    add_model_arguments(parser)
    add_generation_arguments(parser)
    parser.set_defaults(func=run)


def guide_strength(text: str) -> tuple[float, float] | None | str:
    """``--guide``: 'none', two numbers in [0, 1], or 'default' (the pipeline's)."""
    if text.strip().lower() in ("none", "default"):
        return None if text.strip().lower() == "none" else "default"
    try:
        ends, middle = (float(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be ENDS,MIDDLE (two numbers in [0, 1]) or 'none', got {text!r}") \
            from None
    if not (0.0 <= ends <= 1.0 and 0.0 <= middle <= 1.0):
        raise argparse.ArgumentTypeError(f"both values must be in [0, 1], got {text!r}")
    return ends, middle


def generated_share(text: str) -> float | None | str:
    """``--share``: 'none', a number in [0, 1], or 'default' (the pipeline's)."""
    if text.strip().lower() in ("none", "default"):
        return None if text.strip().lower() == "none" else "default"
    try:
        share = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1] or 'none', got {text!r}") from None
    if not 0.0 <= share <= 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1], got {text!r}")
    return share


def run(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    check_prompts(args, "--prompt-a", "--prompt-b", "--prompt")
    check_resample(args.resample)
    output = check_output_path(args.output)
    a, b = read_frames(args.a, "clip A"), read_frames(args.b, "clip B")
    shortest = min(len(a), len(b))
    if args.context > shortest:
        raise ValueError(f"--context must be in [1, {shortest}] (the frames of the shorter input; an image is one "
                         f"frame), got {args.context}")

    pipe = load_transition_pipeline(args)
    if is_wan_image_to_video(pipe):
        return run_native(args, pipe, a, b, output, start)
    most = pipe.frame_limit - 2 * args.context
    if most < 1:
        raise ValueError(f"--context must be in [1, {(pipe.frame_limit - 1) // 2}] (both sides' given frames and "
                         f"one new frame within the model's {pipe.frame_limit}), got {args.context}")
    frames = most if args.frames is None else args.frames
    if not 1 <= frames <= most:
        raise ValueError(f"--frames must be in [1, {most}] (the model's {pipe.frame_limit} frames less "
                         f"2 x --context {args.context}), got {frames}")
    a, b = fit_to_model(a, pipe.native_frame_size, "clip A"), fit_to_model(b, pipe.native_frame_size, "clip B")
    bridge = as_uint8(pipe("transition", args.prompt, clip_a=a, clip_b=b, prompt_a=args.prompt_a,
                           prompt_b=args.prompt_b, num_frames=frames, context=args.context,
                           guide_strength=args.guide, generated_share=args.share, **generation_kwargs(args)).frames)
    video = np.concatenate([a, bridge, b]) if args.with_clips else bridge
    fps = pipe.default_fps
    write_output(video, output, fps)
    what = f"A ({len(a)}), a bridge of {len(bridge)} and B ({len(b)})" if args.with_clips else \
        f"a bridge of {len(bridge)} frames"
    print(f"wrote {output}: {what}; {describe_clip(len(video), fps)}, took {time.perf_counter() - start:.1f} s")
    return 0


def run_native(args: argparse.Namespace, pipe, a: np.ndarray, b: np.ndarray, output, start: float) -> int:
    """A Wan FLF2V model's own first-last-frame transition from A's last frame to B's first."""
    from ..pipelines.pipeline_t2v_wan import STOCK_FPS, STOCK_NUM_FRAMES
    from ..pipelines.wan_native import native_transition

    if args.guide != "default":
        raise ValueError("--guide guides the shared masked bridge; a Wan first-last-frame model makes its own")
    if args.share != "default":
        raise ValueError("--share mixes the shared masked bridge; a Wan first-last-frame model makes its own")
    if args.context != 1:
        raise ValueError(f"--context must be 1 on a Wan first-last-frame model (it takes one frame each side), got "
                         f"{args.context}")
    frames = STOCK_NUM_FRAMES - 2 if args.frames is None else args.frames  # with the two ends: Wan's length
    if (frames + 1) % 4:
        raise ValueError(f"--frames must be 4k+3 on a Wan first-last-frame model (with the two given ends, 4k+1 "
                         f"frames: 3, 7, 11, ...), got {frames}")
    a, b = fit_to_wan(a, pipe, "clip A"), fit_to_wan(b, pipe, "clip B")
    if a.shape[1:3] != b.shape[1:3]:
        b = fit_to_model(b, a.shape[1:3], "clip B")
    prompt = args.prompt or f"{args.prompt_a}, then {args.prompt_b}"
    video = native_transition(pipe, a[-1], b[0], prompt, frames + 2, **wan_native_kwargs(args))
    bridge = video[1:-1]
    video = np.concatenate([a, bridge, b]) if args.with_clips else bridge
    fps = STOCK_FPS
    write_output(video, output, fps)
    print(f"wrote {output}: a first-last-frame bridge of {len(bridge)} frames (Wan, native); "
          f"{describe_clip(len(video), fps)}, took {time.perf_counter() - start:.1f} s")
    return 0
