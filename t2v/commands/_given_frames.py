"""What ``t2v transition``, ``animate`` and ``extend`` share: reading the frames they start from (videos or
images), fitting them to the model's size, and the generation options of masked temporal inpainting."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from ._common import load_from_args, non_negative_float, positive_int

IMAGE_EXTENSIONS: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


def read_frames(path: str, name: str) -> np.ndarray:
    """uint8 ``(F, H, W, 3)`` from a video (.mp4, .gif) or an image (one frame). A missing file is a
    FileNotFoundError, anything unreadable a ValueError naming ``name``: both exit 2 in the CLI."""
    from ..video import VIDEO_EXTENSIONS, read_video

    file = Path(path)
    kinds = ", ".join(VIDEO_EXTENSIONS + IMAGE_EXTENSIONS)
    if file.suffix.lower() not in VIDEO_EXTENSIONS + IMAGE_EXTENSIONS:
        raise ValueError(f"{name} {path!r} must be a video or an image ({kinds})")
    if not file.exists():
        raise FileNotFoundError(f"{name} {path!r} does not exist")
    if not file.is_file():
        raise ValueError(f"{name} {path!r} is not a file")
    if file.suffix.lower() in VIDEO_EXTENSIONS:
        try:
            return read_video(file)
        except (ValueError, OSError) as err:
            raise ValueError(f"{name}: {err}") from err
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(file) as image:
            return np.asarray(image.convert("RGB"))[None]
    except (UnidentifiedImageError, OSError, SyntaxError) as err:  # PIL raises SyntaxError on some broken files
        raise ValueError(f"{name} {path!r} is not a readable image") from err


def fit_to_model(frames: np.ndarray, size: int | tuple[int, int], name: str) -> np.ndarray:
    """``frames`` at the model's frame size (a side, or ``(height, width)``), with a one-line warning when they
    were another size.

    The frames are scaled to cover the target and centre-cropped: shapes keep their proportions (squashing
    would turn circles into ellipses). Shrinking averages pixel blocks (box filter), as the shapes world
    renders its supersampled frames; enlarging is bicubic.
    """
    from PIL import Image

    target_h, target_w = (size, size) if isinstance(size, int) else size
    height, width = frames.shape[1:3]
    if (height, width) == (target_h, target_w):
        return frames
    scale = max(target_h / height, target_w / width)
    new_w, new_h = max(target_w, round(width * scale)), max(target_h, round(height * scale))
    left, top = (new_w - target_w) // 2, (new_h - target_h) // 2
    method = Image.Resampling.BOX if scale < 1 else Image.Resampling.BICUBIC
    fitted = np.stack([np.asarray(Image.fromarray(f).resize((new_w, new_h), method)) for f in frames])
    crop = " and centre-cropped" if (new_h, new_w) != (target_h, target_w) else ""
    print(f"warning: {name} is {width}x{height}; resized{crop} to the model's {target_w}x{target_h}",
          file=sys.stderr)
    return np.ascontiguousarray(fitted[:, top: top + target_h, left: left + target_w])


def add_generation_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, default=0, help="random seed; the same seed gives the same video")
    parser.add_argument("--steps", type=positive_int, default=25, help="denoising steps")
    parser.add_argument("--guidance", type=non_negative_float, default=None,
                        help="classifier-free guidance scale, 0 or more (default: the model's)")
    parser.add_argument("--negative-prompt", default=None, help="what the video should not show")
    parser.add_argument("--resample", type=int, default=0, metavar="R",
                        help="RePaint resampling rounds per step (0-10, default 0; each costs one more denoising "
                             "pass and needs a DDIM scheduler)")


def check_prompts(args: argparse.Namespace, *names: str) -> None:
    """Each named prompt option, when given, must hold text (before anything slow runs)."""
    for name in names:
        value = getattr(args, name.lstrip("-").replace("-", "_"))
        if value is not None and not value.strip():
            raise ValueError(f"{name} must be a non-empty prompt")


def check_resample(rounds: int) -> None:
    from ..pipelines.masked_frames import MAX_RESAMPLE_ROUNDS

    if not 0 <= rounds <= MAX_RESAMPLE_ROUNDS:
        raise ValueError(f"--resample must be in [0, {MAX_RESAMPLE_ROUNDS}], got {rounds}")


def load_transition_pipeline(args: argparse.Namespace):
    """The shared transition pipeline of the model, or, for a Wan image-to-video model (2.1 I2V / FLF2V, 2.2 I2V),
    the model's own pipeline, which the verbs then drive natively (:mod:`t2v.pipelines.wan_native`)."""
    from ..pipelines import pipeline_for

    pipe = load_from_args(args)
    return pipe if is_wan_image_to_video(pipe) else pipeline_for(pipe, "transition")


def is_wan_image_to_video(pipe) -> bool:
    return type(pipe).__name__ == "WanImageToVideoPipeline"


def fit_to_wan(frames: np.ndarray, pipe, name: str) -> np.ndarray:
    """Frames for a Wan image-to-video model: kept at their size when it fits the model (sides multiples of
    16, or 32 on TI2V-5B), else fitted to Wan's 480×832."""
    from ..pipelines.pipeline_t2v_wan import STOCK_HEIGHT, STOCK_WIDTH
    from ..pipelines.wan_native import size_multiple

    multiple = size_multiple(pipe)
    if frames.shape[1] % multiple == 0 and frames.shape[2] % multiple == 0:
        return frames
    return fit_to_model(frames, (STOCK_HEIGHT, STOCK_WIDTH), name)


def wan_native_kwargs(args: argparse.Namespace) -> dict:
    """The native Wan pipelines' keyword arguments for the shared options (no RePaint resampling there)."""
    import torch

    if args.resample:
        raise ValueError("--resample is for the shared masked inpainting; this Wan image-to-video model is driven "
                         "natively")
    kwargs = {"num_inference_steps": args.steps, "negative_prompt": args.negative_prompt,
              "generator": torch.Generator().manual_seed(args.seed)}
    if args.guidance is not None:
        kwargs["guidance_scale"] = args.guidance
    return kwargs


def generation_kwargs(args: argparse.Namespace) -> dict:
    """The pipeline's keyword arguments for the shared options."""
    import torch

    return {"num_inference_steps": args.steps, "guidance_scale": args.guidance,
            "negative_prompt": args.negative_prompt, "resample_rounds": args.resample,
            "generator": torch.Generator().manual_seed(args.seed), "output_type": "np"}


def as_uint8(video: np.ndarray) -> np.ndarray:
    """The pipeline's float ``[0, 1]`` frames of its one video as uint8."""
    return np.clip(np.rint(video[0] * 255), 0, 255).astype(np.uint8)
