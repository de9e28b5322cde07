"""Argument helpers shared by the CLI's subcommands."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

_Number = TypeVar("_Number", int, float)

CACHE_CHOICES: tuple[str, ...] = ("first-block", "mag", "taylorseer")  # t2v.models.caching.CACHE_KINDS, without
# importing torch to build the parser


class OutputError(OSError):
    """The output file cannot be written: exit 1 in the CLI. Never a FileNotFoundError, which the CLI
    reads as a missing input (exit 2), even where the OS said "no such file" (under /proc)."""


def _number(text: str, parse: Callable[[str], _Number], valid: Callable[[_Number], bool], expected: str) -> _Number:
    """An argparse type: ``text`` parsed and checked, or argparse's one-line error naming the flag."""
    try:
        value = parse(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from err
    if not valid(value):
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
    return value


def positive_int(text: str) -> int:
    return _number(text, int, lambda value: value >= 1, "a positive integer")


def non_negative_float(text: str) -> float:
    return _number(text, float, lambda value: math.isfinite(value) and value >= 0, "a non-negative number")


def _cannot_write(path: Path, err: OSError) -> OutputError:
    return OutputError(f"cannot write {path}: {err.strerror}" if err.strerror else str(err))


def check_output_path(path: str) -> Path:
    """Fail before any work when the output cannot be written: a bad name is a ValueError (exit 2),
    a place that takes no files (read-only, /proc, a file as folder) an OutputError (exit 1)."""
    from ..video import check_video_path, check_writable

    out = check_video_path(path)
    if out.is_dir():
        raise ValueError(f"output {path!r} is a folder")
    try:
        check_writable(out)
    except OSError as err:
        raise _cannot_write(out, err) from err
    return out


def write_output(frames: Any, path: Path, fps: float) -> None:
    """``write_video``, with a failed write (a full disk, ...) as an OutputError: one line, exit 1."""
    from ..video import write_video

    try:
        write_video(frames, path, fps=fps)
    except OSError as err:
        raise _cannot_write(path, err) from err


def describe_clip(frames: int, fps: float) -> str:
    """Frames, rate and the video's length, for the closing line of commands that write a clip."""
    return f"{frames} frames at {fps:g} fps ({frames / fps:.1f} s of video)"


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default="tiny-shapes",
                        help="'tiny-shapes' (default, embedded), a local folder or a hub id of an AnimateDiff or "
                             "Wan 2.x model (`t2v models MODEL` says what it supports)")
    parser.add_argument("--motion-adapter", default=None, help="motion adapter folder or hub id for an image base")
    parser.add_argument("--lora", default=None, help="LoRA weights to load on top of the model")
    parser.add_argument("--device", default=None, help="torch device, e.g. cuda (default: cpu)")
    parser.add_argument("--dtype", choices=("float32", "float16", "bfloat16"), default=None, help="weights dtype")
    parser.add_argument("--cpu-offload", action="store_true", help="offload idle models to the CPU (GPU only)")
    parser.add_argument("--attention", default="sdpa", metavar="BACKEND",
                        help="attention backend: sdpa (default, PyTorch's fused attention) or xformers (needs the "
                             "xformers package and a CUDA device; otherwise a warning and sdpa); on Wan models also "
                             "a diffusers backend: flash, sage, flex, ... (one that cannot run here: a warning and "
                             "sdpa)")
    parser.add_argument("--cache", choices=CACHE_CHOICES, default=None,
                        help="Wan models: reuse work between denoising steps with a diffusers cache: first-block "
                             "(threshold 0.05), mag (threshold 0.06; needs `t2v cache calibrate` first) or "
                             "taylorseer (a full step every 5); faster, slightly different output")
    parser.add_argument("--cache-threshold", type=non_negative_float, default=None, metavar="X",
                        help="the first-block or mag cache's threshold: higher skips more (0: never skips)")
    parser.add_argument("--mag-ratios", default=None, metavar="FILE",
                        help="the magnitude ratios for --cache mag (default: mag_ratios.json in the model folder, "
                             "as `t2v cache calibrate` writes it)")


def cache_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """``load_pipeline``'s cache arguments from ``--cache``, ``--cache-threshold`` and ``--mag-ratios``."""
    cache = getattr(args, "cache", None)
    threshold = getattr(args, "cache_threshold", None)
    mag_ratios = getattr(args, "mag_ratios", None)
    if threshold is not None and cache not in ("first-block", "mag"):
        raise ValueError(f"--cache-threshold is for --cache first-block or mag, got --cache {cache}")
    if mag_ratios is not None and cache != "mag":
        raise ValueError(f"--mag-ratios is for --cache mag, got --cache {cache}")
    return {"cache": cache, "cache_options": {"threshold": threshold} if threshold is not None else None,
            "mag_ratios": mag_ratios}


def load_from_args(args: argparse.Namespace):
    import torch

    from ..models import load_pipeline

    dtype = getattr(torch, args.dtype) if args.dtype else None
    return load_pipeline(args.model, motion_adapter=args.motion_adapter, lora=args.lora, dtype=dtype,
                         device=args.device, cpu_offload=args.cpu_offload, attention=args.attention,
                         **cache_from_args(args))
