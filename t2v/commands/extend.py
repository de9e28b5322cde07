"""``t2v extend``: a clip followed by new frames that carry on from its last frames."""

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

MAX_NEW_FRAMES = 256  # bounds one run's time; a longer video is extended again


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "extend", help="continue a clip with generated frames",
        description="Generate --frames new frames that carry on from the clip's last --context frames, a model-length "
                    "window at a time (so past the model's length), and write the clip followed by them. A clip "
                    "of another size is resized first (shorter side to the model's, then centre-cropped), and "
                    "written at that size.")
    parser.add_argument("clip", help="the clip to continue (.mp4, .gif; an image is a one-frame clip)")
    parser.add_argument("--prompt", required=True, help="what the new frames show")
    parser.add_argument("--frames", type=positive_int, required=True, metavar="N",
                        help=f"new frames to add (at most {MAX_NEW_FRAMES})")
    parser.add_argument("--context", type=positive_int, default=None, metavar="K",
                        help="the clip's last frames each window starts from (default 2 on AnimateDiff, 1 on Wan "
                             "or for a one-frame clip; less than the model's length)")
    parser.add_argument("-o", "--output", required=True, help="output file (.mp4 or .gif)")
    add_model_arguments(parser)
    add_generation_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    check_prompts(args, "--prompt")
    check_resample(args.resample)
    if args.frames > MAX_NEW_FRAMES:
        raise ValueError(f"--frames must be in [1, {MAX_NEW_FRAMES}], got {args.frames}")
    output = check_output_path(args.output)
    clip = read_frames(args.clip, "clip")
    if args.context is not None and args.context > len(clip):
        raise ValueError(f"--context must be at most the clip's {len(clip)} frames, got {args.context}")

    pipe = load_transition_pipeline(args)
    if is_wan_image_to_video(pipe):
        return run_native(args, pipe, clip, output, start)
    context = min(pipe.default_context, len(clip)) if args.context is None else args.context
    if context >= pipe.frame_limit:
        raise ValueError(f"--context must be in [1, {pipe.frame_limit - 1}] (less than the model's "
                         f"{pipe.frame_limit} frames), got {context}")
    clip = fit_to_model(clip, pipe.native_frame_size, "clip")
    new = as_uint8(pipe("continue", args.prompt, clip=clip, num_frames=args.frames, context=context,
                        **generation_kwargs(args)).frames)
    video = np.concatenate([clip, new])
    fps = pipe.default_fps
    write_output(video, output, fps)
    print(f"wrote {output}: the clip ({len(clip)}) and {len(new)} new frames; {describe_clip(len(video), fps)}, "
          f"took {time.perf_counter() - start:.1f} s")
    return 0


def run_native(args: argparse.Namespace, pipe, clip: np.ndarray, output, start: float) -> int:
    """A Wan image-to-video model's own continuation from the clip's last frame; its re-rendering of that frame
    (the video's frame 0) is dropped, and the window is the fewest 4k+1 frames that hold the new ones."""
    from ..pipelines.pipeline_t2v_wan import STOCK_FPS
    from ..pipelines.wan_native import native_continuation

    if args.context not in (None, 1):
        raise ValueError(f"--context must be 1 on a Wan image-to-video model (it continues from one frame), got "
                         f"{args.context}")
    clip = fit_to_wan(clip, pipe, "clip")
    window = -(-args.frames // 4) * 4 + 1
    new = native_continuation(pipe, clip, args.prompt, window, **wan_native_kwargs(args))[1:][:args.frames]
    video = np.concatenate([clip, new])
    write_output(video, output, STOCK_FPS)
    print(f"wrote {output}: the clip ({len(clip)}) and {len(new)} new frames (Wan image-to-video, native); "
          f"{describe_clip(len(video), STOCK_FPS)}, took {time.perf_counter() - start:.1f} s")
    return 0
