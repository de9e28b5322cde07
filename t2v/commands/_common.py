"""Argument helpers shared by the CLI's subcommands."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

_Number = TypeVar("_Number", int, float)


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
                             "xformers package and a CUDA device; otherwise a warning and sdpa)")


def load_from_args(args: argparse.Namespace):
    import torch

    from ..models import load_pipeline

    dtype = getattr(torch, args.dtype) if args.dtype else None
    return load_pipeline(args.model, motion_adapter=args.motion_adapter, lora=args.lora, dtype=dtype,
                         device=args.device, cpu_offload=args.cpu_offload, attention=args.attention)
