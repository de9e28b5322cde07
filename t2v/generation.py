"""Plain text-to-video generation with defaults taken from the model (native size, frames, fps)."""

from __future__ import annotations

import numpy as np
import torch

DEFAULT_FPS = 8
DEFAULT_GUIDANCE = 7.5
TINY_SHAPES_GUIDANCE = 4.0


def model_defaults(pipe) -> dict[str, int | float]:
    """Native frame side, frame count, fps and guidance of a loaded pipeline."""
    card = getattr(pipe, "t2v_card", None)
    if card:
        return {"size": card["size"], "frames": card["frames"], "fps": card.get("fps", DEFAULT_FPS),
                "guidance": card.get("guidance", TINY_SHAPES_GUIDANCE)}
    sample = pipe.unet.config.sample_size
    side = (sample if isinstance(sample, int) else sample[0]) * pipe.vae_scale_factor
    return {"size": side, "frames": 16, "fps": DEFAULT_FPS, "guidance": DEFAULT_GUIDANCE}


def check_generation_args(*, prompt: str, num_frames: int, size: int, num_inference_steps: int) -> None:
    if not isinstance(prompt, str) or not prompt.strip():
        raise ValueError("prompt must be a non-empty string")
    if not 1 <= num_frames <= 64:
        raise ValueError(f"num_frames must be in [1, 64], got {num_frames}")
    if size < 8 or size % 8:
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
) -> tuple[np.ndarray, int]:
    """Frames ``uint8 (F, H, W, 3)`` and the model's fps; the same seed gives the same video."""
    defaults = model_defaults(pipe)
    num_frames = int(defaults["frames"] if num_frames is None else num_frames)
    size = int(defaults["size"] if size is None else size)
    check_generation_args(prompt=prompt, num_frames=num_frames, size=size, num_inference_steps=num_inference_steps)
    generator = torch.Generator(device="cpu").manual_seed(seed)
    out = pipe(
        prompt=prompt,
        negative_prompt=negative_prompt,
        num_frames=num_frames,
        height=size,
        width=size,
        num_inference_steps=num_inference_steps,
        guidance_scale=defaults["guidance"] if guidance_scale is None else guidance_scale,
        generator=generator,
        output_type="np",
    )
    frames = np.clip(np.rint(out.frames[0] * 255.0), 0, 255).astype(np.uint8)
    return frames, int(defaults["fps"])
