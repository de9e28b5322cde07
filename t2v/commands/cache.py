"""``t2v cache calibrate``: measure a Wan model's MagCache magnitude ratios once, for ``--cache mag``.

MagCache decides which steps to skip from how the transformer's residual grows or shrinks from step to step,
which depends on the checkpoint (and its scheduler): diffusers ships ratios for Flux only. This verb runs one
generation with nothing skipped and writes the ratios as JSON where ``--cache mag`` looks for them.
"""

from __future__ import annotations

import argparse
import time

from ._common import non_negative_float, positive_int

DEFAULT_PROMPT = "a red ball rolling across a wooden table, soft daylight, the camera slowly following it"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "cache", help="set up caching for Wan models (MagCache calibration)",
        description="Caching of Wan models between denoising steps (--cache on the generating verbs).")
    actions = parser.add_subparsers(dest="cache_command", metavar="ACTION")
    actions.required = True
    calibrate = actions.add_parser(
        "calibrate", help="measure a Wan model's magnitude ratios for --cache mag",
        description="Run one generation of a Wan text-to-video model with nothing skipped and write MagCache's "
                    "magnitude ratios (per expert, for the conditional and unconditional passes) as JSON. "
                    "--cache mag reads them from the default place, or from --mag-ratios FILE. Ratios measured "
                    "at one number of steps serve others (they are interpolated); calibrate again for another "
                    "scheduler or shift.")
    calibrate.add_argument("--model", required=True,
                           help="a local folder or a hub id of a Wan text-to-video model (T2V, A14B, TI2V)")
    calibrate.add_argument("--steps", type=positive_int, default=50,
                           help="denoising steps of the calibration run (default 50; use the count you generate "
                                "with most)")
    calibrate.add_argument("--out", default=None, metavar="FILE",
                           help="where to write the ratios (default: mag_ratios.json in the model folder; "
                                "$T2V_CACHE/mag_ratios/ for a hub id)")
    calibrate.add_argument("--prompt", default=DEFAULT_PROMPT, help="the prompt of the calibration run")
    calibrate.add_argument("--seed", type=int, default=0, help="random seed of the calibration run")
    calibrate.add_argument("--guidance", type=non_negative_float, default=None,
                           help="classifier-free guidance scale (default: the model's)")
    calibrate.add_argument("--device", default=None, help="torch device, e.g. cuda (default: cpu)")
    calibrate.add_argument("--dtype", choices=("float32", "float16", "bfloat16"), default=None,
                           help="weights dtype")
    calibrate.add_argument("--cpu-offload", action="store_true",
                           help="offload idle models to the CPU (GPU only)")
    calibrate.set_defaults(func=run_calibrate)


def run_calibrate(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    if args.steps < 2:
        raise ValueError(f"--steps must be at least 2 to measure a ratio, got {args.steps}")
    from pathlib import Path

    from ..models.caching import default_mag_ratios_path

    out = Path(args.out).expanduser() if args.out else default_mag_ratios_path(args.model)
    if out.is_dir():
        raise ValueError(f"--out {str(out)!r} is a folder")
    if out.suffix.lower() != ".json":
        raise ValueError(f"--out must be a .json file, got {str(out)!r}")

    import torch

    from ..models import load_pipeline
    from ..models.caching import calibrate_mag_ratios, save_mag_ratios

    pipe = load_pipeline(args.model, dtype=getattr(torch, args.dtype) if args.dtype else None, device=args.device,
                         cpu_offload=args.cpu_offload)
    if getattr(pipe, "unet", None) is not None:
        raise ValueError(f"--model {args.model!r} is a UNet (AnimateDiff) model; caching is for Wan models")
    data = calibrate_mag_ratios(pipe, args.prompt, num_inference_steps=args.steps, seed=args.seed,
                                guidance_scale=args.guidance)
    data["model"] = args.model
    try:
        save_mag_ratios(data, out)
    except OSError as err:
        raise OSError(f"cannot write {out}: {err.strerror or err} (pass --out FILE)") from err
    experts = ", ".join(data["experts"])
    print(f"wrote {out}: magnitude ratios of {args.steps} steps for {experts}, took "
          f"{time.perf_counter() - start:.1f} s")
    return 0
