"""``t2v generate``: one prompt → one video file."""

from __future__ import annotations

import argparse
import time

from ._common import (
    add_model_arguments,
    check_output_path,
    describe_clip,
    load_from_args,
    non_negative_float,
    positive_int,
    write_output,
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("generate", help="generate a video from a text prompt",
                                   description="Generate a video from a text prompt.")
    parser.add_argument("prompt", help="what the video shows")
    parser.add_argument("-o", "--output", required=True, help="output file (.mp4 or .gif)")
    add_model_arguments(parser)
    parser.add_argument("--seed", type=int, default=0, help="random seed; the same seed gives the same video")
    parser.add_argument("--frames", type=positive_int, default=None, help="number of frames (default: the model's)")
    parser.add_argument("--size", type=positive_int, default=None, help="frame side in pixels (default: the model's)")
    parser.add_argument("--steps", type=positive_int, default=25, help="denoising steps")
    parser.add_argument("--guidance", type=non_negative_float, default=None,
                        help="classifier-free guidance scale, 0 or more (default: the model's)")
    parser.add_argument("--negative-prompt", default=None, help="what the video should not show")
    parser.add_argument("--fps", type=positive_int, default=None, help="frames per second of the file")
    parser.add_argument("--display-size", type=positive_int, default=None,
                        help="enlarge frames to this side (nearest neighbour) when writing, for viewing")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    output = check_output_path(args.output)  # before loading anything: a bad -o fails at once

    from ..generation import generate
    from ..video import resize_frames

    pipe = load_from_args(args)
    frames, fps = generate(
        pipe,
        args.prompt,
        seed=args.seed,
        num_frames=args.frames,
        size=args.size,
        num_inference_steps=args.steps,
        guidance_scale=args.guidance,
        negative_prompt=args.negative_prompt,
    )
    if args.display_size:
        frames = resize_frames(frames, args.display_size)
    fps = args.fps or fps
    write_output(frames, output, fps)
    print(f"wrote {output}: {describe_clip(len(frames), fps)}, took {time.perf_counter() - start:.1f} s")
    return 0
