"""``t2v edit``: change one thing in a video by text (and a reference image), keeping the rest."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from ._common import (
    add_model_arguments,
    check_output_path,
    describe_clip,
    load_from_args,
    non_negative_float,
    positive_int,
    write_output,
)


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {text!r}") from err
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {text!r}")
    return value


def _window(text: str) -> tuple[float, float] | None:
    """``START:END`` as fractions of the steps, or ``off``."""
    if text == "off":
        return None
    start, sep, end = text.partition(":")
    try:
        window = (float(start), float(end)) if sep else None
    except ValueError:
        window = None
    if window is None or not 0.0 <= window[0] <= window[1] <= 1.0:
        raise argparse.ArgumentTypeError(f"expected START:END with 0 <= START <= END <= 1, or off, got {text!r}")
    return window


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "edit", help="edit a video by text (and a reference image), keeping background and motion",
        description="Invert the video under the source prompt, then regenerate it under the target prompt with "
                    "attention control (Prompt-to-Prompt) and a local blend: only the edited words' region changes.")
    parser.add_argument("video", help="the source video (.mp4 or .gif)")
    parser.add_argument("--source", required=True, help="a prompt describing the source video")
    parser.add_argument("--target", required=True, help="the same prompt with the edit made")
    parser.add_argument("-o", "--output", required=True, help="the edited video (.mp4 or .gif)")
    parser.add_argument("--reference", default=None,
                        help="a picture of the new subject (IP-Adapter, or a learned token named --token, which the "
                             "target prompt must then contain)")
    parser.add_argument("--token", default="<ref>", help="the reference subject's word in --target (default <ref>)")
    parser.add_argument("--mask-out", default=None, help="also write the edit's mask as a video")
    parser.add_argument("--edit-words", nargs="+", default=None,
                        help="words whose region is edited (default: the words the prompts differ by)")
    parser.add_argument("--cross-window", type=_window, default=(0.0, 0.3),
                        help="START:END fractions of the steps using the source's cross-attention (default 0:0.3, "
                             "chosen on the dev split)")
    parser.add_argument("--self-window", type=_window, default=(0.0, 0.4),
                        help="START:END fractions of the steps using the source's self and temporal attention "
                             "(default 0:0.4)")
    parser.add_argument("--threshold", type=_fraction, default=0.3,
                        help="local-blend threshold in [0, 1] (default 0.3)")
    parser.add_argument("--no-blend", action="store_true", help="let the edit act on the whole frame")
    parser.add_argument("--no-keep-source", action="store_true",
                        help="write the model's decoding everywhere, instead of putting the source's own pixels back "
                             "where the edit keeps them (outside the mask, a background edit's subject, pixels the "
                             "edit moved by less than the VAE's error)")
    parser.add_argument("--null-text", action="store_true", help="null-text optimisation (slower, more faithful)")
    add_model_arguments(parser)
    parser.add_argument("--steps", type=positive_int, default=25, help="denoising steps (and inversion steps)")
    parser.add_argument("--guidance", type=non_negative_float, default=None,
                        help="guidance scale (default: the model's)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    from ..video import read_video

    for name, prompt in (("--source", args.source), ("--target", args.target)):
        if not prompt.strip():
            raise ValueError(f"{name} must be a non-empty prompt")
    if not Path(args.video).is_file():
        raise FileNotFoundError(f"video {args.video!r} does not exist")
    if args.reference is not None and not Path(args.reference).is_file():
        raise FileNotFoundError(f"--reference {args.reference!r} does not exist")
    output = check_output_path(args.output)
    mask_out = check_output_path(args.mask_out) if args.mask_out else None
    if mask_out is not None and mask_out.resolve() == output.resolve():
        raise ValueError("--mask-out must differ from --output")
    if args.reference is None and args.source.split() == args.target.split() and not args.edit_words:
        raise ValueError("--target is the same as --source: nothing to edit")
    try:
        frames = read_video(args.video)
    except OSError as err:
        raise ValueError(f"video {args.video!r} could not be read: {err}") from err

    from ..pipelines import pipeline_for

    pipe = pipeline_for(load_from_args(args), "edit")
    if args.reference is not None and not pipe.has_ip_adapter and args.token not in args.target.split():
        raise ValueError(f"--target must contain {args.token!r} to place the reference subject (this model has "
                         "no image encoder, so the subject is learned as that token)")
    side = pipe.native_size
    if frames.shape[1:3] != (side, side):
        raise ValueError(f"video is {frames.shape[2]}x{frames.shape[1]}, this model edits {side}x{side} videos")
    result = pipe(frames, args.source, args.target, edit_words=args.edit_words, num_inference_steps=args.steps,
                  guidance_scale=args.guidance, cross_window=args.cross_window, self_window=args.self_window,
                  temporal_window=args.self_window, blend_threshold=None if args.no_blend else args.threshold,
                  reference_image=args.reference, reference_token=args.token, null_text=args.null_text,
                  keep_source_pixels=not args.no_keep_source, output_type="np")
    edited = np.rint(result.frames[0] * 255).astype(np.uint8)
    fps = pipe.default_fps
    write_output(edited, output, fps)
    if mask_out is not None:
        mask = np.repeat(np.rint(result.mask * 255).astype(np.uint8)[..., None], 3, axis=-1)
        write_output(mask, mask_out, fps)
    share = float(result.mask.mean())
    print(f"edited {', '.join(result.source_words) or '-'} -> {', '.join(result.target_words) or '-'} "
          f"({result.token_mode}); mask covers {share:.0%} of the frames")
    extra = f"; mask {mask_out}" if mask_out is not None else ""
    print(f"wrote {output}: {describe_clip(len(edited), fps)}{extra}; took {time.perf_counter() - start:.1f} s")
    return 0
