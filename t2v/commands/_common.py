"""Argument helpers shared by the CLI's subcommands."""

from __future__ import annotations

import argparse


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from err
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def check_output_path(path: str) -> None:
    """Fail before any work when the output cannot be written."""
    from ..video import check_video_path

    out = check_video_path(path)
    if out.is_dir():
        raise ValueError(f"output {path!r} is a folder")


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default="tiny-shapes",
                        help="'tiny-shapes' (default, embedded), a local folder or a hub id of an AnimateDiff model")
    parser.add_argument("--motion-adapter", default=None, help="motion adapter folder or hub id for an image base")
    parser.add_argument("--lora", default=None, help="LoRA weights to load on top of the model")
    parser.add_argument("--device", default=None, help="torch device, e.g. cuda (default: cpu)")
    parser.add_argument("--dtype", choices=("float32", "float16", "bfloat16"), default=None, help="weights dtype")
    parser.add_argument("--cpu-offload", action="store_true", help="offload idle models to the CPU (GPU only)")


def load_from_args(args: argparse.Namespace):
    import torch

    from ..models import load_pipeline

    dtype = getattr(torch, args.dtype) if args.dtype else None
    return load_pipeline(args.model, motion_adapter=args.motion_adapter, lora=args.lora, dtype=dtype,
                         device=args.device, cpu_offload=args.cpu_offload)
