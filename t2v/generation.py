"""Plain text-to-video generation with defaults taken from the model (native size, frames, fps)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from .pipelines.pipeline_t2v_animatediff import STOCK_FPS, STOCK_GUIDANCE_SCALE, STOCK_NUM_FRAMES


def model_defaults(pipe) -> dict[str, int | float]:
    """Native frame size, frame count, fps and guidance of a loaded pipeline.

    A :class:`~t2v.pipelines.T2VAnimateDiffPipeline` or :class:`~t2v.pipelines.T2VWanPipeline` states them as
    settings; any other diffusers AnimateDiff pipeline gets diffusers' AnimateDiff defaults, and its size from
    the UNet. ``size`` is the side of a square native frame (None when the frame is not square, as on Wan's
    480×832); ``height`` and ``width`` are always given.
    """
    if getattr(pipe, "unet", None) is None:  # Wan: a T2VWanPipeline states them; a stock one has diffusers'
        from .pipelines import pipeline_t2v_wan as wan

        height, width = getattr(pipe, "native_frame_size", (wan.STOCK_HEIGHT, wan.STOCK_WIDTH))
        return {"size": height if height == width else None, "height": height, "width": width,
                "frames": getattr(pipe, "default_num_frames", wan.STOCK_NUM_FRAMES),
                "fps": getattr(pipe, "default_fps", wan.STOCK_FPS),
                "guidance": getattr(pipe, "default_guidance_scale", wan.STOCK_GUIDANCE_SCALE)}
    config = pipe.config
    sample = pipe.unet.config.sample_size
    side = (sample if isinstance(sample, int) else sample[0]) * pipe.vae_scale_factor
    return {
        "size": side,
        "height": side,
        "width": side,
        "frames": config.get("native_num_frames") or STOCK_NUM_FRAMES,
        "fps": config.get("native_fps") or STOCK_FPS,
        "guidance": config.get("native_guidance_scale") or STOCK_GUIDANCE_SCALE,
    }


MAX_FRAMES = 257  # Wan's longest native clips are 81-121 frames; AnimateDiff's 16-32


def frame_ceiling(pipe) -> int:
    """The most frames one call can make: what AnimateDiff's motion modules embed, else :data:`MAX_FRAMES`."""
    unet = getattr(pipe, "unet", None)
    return int(getattr(unet.config, "motion_max_seq_length", 32)) if unet is not None else MAX_FRAMES


def check_generation_args(*, prompt: str, num_frames: int, size: int | None, num_inference_steps: int,
                          max_frames: int = MAX_FRAMES) -> None:
    """The checks that hold on every model; the pipeline adds its own (Wan: frames 4k+1, sides of 16)."""
    if not isinstance(prompt, str) or not prompt.strip():
        raise ValueError("prompt must be a non-empty string")
    if not 1 <= num_frames <= max_frames:
        raise ValueError(f"num_frames must be in [1, {max_frames}], got {num_frames}")
    if size is not None and (size < 8 or size % 8):
        raise ValueError(f"size must be a positive multiple of 8, got {size}")
    if not 1 <= num_inference_steps <= 1000:
        raise ValueError(f"num_inference_steps must be in [1, 1000], got {num_inference_steps}")


def generate(
    pipe,
    prompt: str,
    *,
    seed: int = 0,
    num_frames: int | None = None,
    size: int | None = None,
    num_inference_steps: int = 25,
    guidance_scale: float | None = None,
    negative_prompt: str | None = None,
    callback_on_step_end: Callable | None = None,
) -> tuple[np.ndarray, int]:
    """Frames ``uint8 (F, H, W, 3)`` and the model's fps; the same seed gives the same video.

    ``callback_on_step_end`` goes to the pipeline as in diffusers (the web demo stops a cancelled run there).
    """
    defaults = model_defaults(pipe)
    num_frames = int(defaults["frames"] if num_frames is None else num_frames)
    check_generation_args(prompt=prompt, num_frames=num_frames, size=size, num_inference_steps=num_inference_steps,
                          max_frames=frame_ceiling(pipe))
    height, width = (size, size) if size is not None else (int(defaults["height"]), int(defaults["width"]))
    generator = torch.Generator(device="cpu").manual_seed(seed)
    out = pipe(
        prompt=prompt,
        negative_prompt=negative_prompt,
        num_frames=num_frames,
        height=height,
        width=width,
        num_inference_steps=num_inference_steps,
        guidance_scale=defaults["guidance"] if guidance_scale is None else guidance_scale,
        generator=generator,
        output_type="np",
        callback_on_step_end=callback_on_step_end,
    )
    frames = np.clip(np.rint(out.frames[0] * 255.0), 0, 255).astype(np.uint8)
    return frames, int(defaults["fps"])


def generate_story(pipe, script, **kwargs) -> tuple[np.ndarray, int, Any]:
    """Every scene of a :class:`~t2v.story.Script`, in order, as one video: uint8 frames ``(F, H, W, 3)``,
    the model's fps, and the pipeline's output (the script with seeds and scores filled in, each scene's clip).

    ``pipe`` is a multi-scene pipeline, or any AnimateDiff or Wan text-to-video pipeline, which is wrapped with
    ``from_pipe`` (no weights copied); ``kwargs`` go to its ``__call__``. When the clips go to ``clips_dir``,
    the video is joined from the files written there.
    """
    from .pipelines import pipeline_for

    pipe = pipeline_for(pipe, "story")
    result = pipe(script, output_type="np", **kwargs)
    if result.frames is not None:
        frames = np.rint(result.frames[0] * 255).astype(np.uint8)
    else:  # the clips went to clips_dir as they finished: join them from there
        from .video import read_video

        order = [result.clips[0]]
        for bridge, clip in zip(result.transitions or [None] * (len(result.clips) - 1), result.clips[1:],
                                strict=True):
            order += [bridge, clip] if bridge is not None else [clip]
        frames = np.concatenate([read_video(path) for path in order])
    return frames, int(pipe.default_fps), result
