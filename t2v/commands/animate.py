"""``t2v animate``: an image becomes the first frame of a video that follows a prompt."""

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
        "animate", help="animate an image: it becomes the first frame of a generated video",
        description="Generate a video whose first frame is the image (as the model's VAE reproduces it) and whose "
                    "other frames follow the prompt. Describe the image in the prompt, then what happens: a prompt "
                    "that describes something else pulls the video away from the image after the first frames. "
                    "An image of another size is resized (shorter side to the model's, then centre-cropped).")
    parser.add_argument("image", help="the first frame (.png, .jpg, ...; a one-frame .gif also works)")
    parser.add_argument("--prompt", required=True, help="what the image shows and what happens next")
    parser.add_argument("-o", "--output", required=True, help="output file (.mp4 or .gif)")
    parser.add_argument("--frames", type=positive_int, default=None, metavar="N",
                        help="video length, the image included (default and most: the model's length)")
    add_model_arguments(parser)
    add_generation_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    check_prompts(args, "--prompt")
    check_resample(args.resample)
    output = check_output_path(args.output)
    image = read_frames(args.image, "image")
    if len(image) != 1:
        raise ValueError(f"image {args.image!r} holds {len(image)} frames; give one image (t2v extend continues "
                         "a clip)")

    pipe = load_transition_pipeline(args)
    if is_wan_image_to_video(pipe):
        return run_native(args, pipe, image, output, start)
    frames = pipe.frame_limit if args.frames is None else args.frames
    if not 2 <= frames <= pipe.frame_limit:
        raise ValueError(f"--frames must be in [2, {pipe.frame_limit}] (the image and at least one new frame, "
                         f"within the model's length), got {frames}")
    image = fit_to_model(image, pipe.native_frame_size, "image")
    video = as_uint8(pipe("image_to_video", args.prompt, image=image, num_frames=frames,
                          **generation_kwargs(args)).frames)
    fps = pipe.default_fps
    write_output(video, output, fps)
    print(f"wrote {output}: {describe_clip(len(video), fps)}, took {time.perf_counter() - start:.1f} s")
    return 0


def run_native(args: argparse.Namespace, pipe, image: np.ndarray, output, start: float) -> int:
    """A Wan image-to-video model's own image-to-video: the image is the first frame's condition."""
    from ..pipelines.pipeline_t2v_wan import STOCK_FPS, STOCK_NUM_FRAMES
    from ..pipelines.wan_native import native_continuation

    frames = STOCK_NUM_FRAMES if args.frames is None else args.frames
    video = native_continuation(pipe, fit_to_wan(image, pipe, "image"), args.prompt, frames,
                                **wan_native_kwargs(args))
    write_output(video, output, STOCK_FPS)
    print(f"wrote {output}: {describe_clip(len(video), STOCK_FPS)} (Wan image-to-video, native), "
          f"took {time.perf_counter() - start:.1f} s")
    return 0
