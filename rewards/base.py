"""The one reward interface: frames and prompts in, a score per frame or per video out.

Frames are ``float`` tensors ``(B, F, 3, H, W)`` in ``[0, 1]`` (what a pipeline's VAE decode gives after
``(x + 1) / 2``), one prompt per video. A reward says whether it scores each frame or the whole video and
whether gradients flow through it, so the trainer can refuse a non-differentiable reward and the shaping can
tell per-frame scores from per-video ones.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np
import torch


class Reward(ABC):
    """A reward model. Subclasses set the three class attributes and implement :meth:`score`."""

    name: str = "reward"
    per_frame: bool = True  # score() returns (B, F); otherwise (B,)
    differentiable: bool = True  # gradients flow from the score back to the frames

    def __call__(self, frames: torch.Tensor, prompts: list[str] | str) -> torch.Tensor:
        """Scores of ``frames`` ``(B, F, 3, H, W)`` in [0, 1]: ``(B, F)`` when :attr:`per_frame`, else ``(B,)``."""
        frames, prompts = check_reward_inputs(frames, prompts)
        scores = self.score(frames, prompts)
        expected = (frames.shape[0], frames.shape[1]) if self.per_frame else (frames.shape[0],)
        if tuple(scores.shape) != expected:
            raise RuntimeError(f"{self.name} returned scores of shape {tuple(scores.shape)}, expected {expected}")
        return scores

    @abstractmethod
    def score(self, frames: torch.Tensor, prompts: list[str]) -> torch.Tensor:
        """Scores of checked inputs (see :meth:`__call__`)."""

    def to(self, device: torch.device | str) -> Reward:
        """Move any weights to ``device``; rewards without weights return themselves."""
        return self


def check_reward_inputs(frames: torch.Tensor, prompts: list[str] | str) -> tuple[torch.Tensor, list[str]]:
    """Validate the interface's inputs, naming the argument that is wrong."""
    if not torch.is_tensor(frames) or frames.ndim != 5 or frames.shape[2] != 3:
        shape = tuple(frames.shape) if torch.is_tensor(frames) else type(frames).__name__
        raise ValueError(f"frames must be a float tensor (batch, frames, 3, height, width), got {shape}")
    if not frames.is_floating_point():
        raise ValueError(f"frames must be floating point in [0, 1], got {frames.dtype}")
    if isinstance(prompts, str):
        prompts = [prompts]
    if not isinstance(prompts, (list, tuple)) or len(prompts) != frames.shape[0]:
        raise ValueError(f"prompts must hold one prompt per video ({frames.shape[0]}), got {prompts!r}")
    if not all(isinstance(p, str) for p in prompts):
        raise ValueError("prompts must be strings")
    return frames, list(prompts)


def frames_from_uint8(clips) -> torch.Tensor:
    """numpy uint8 clips ``(B, F, H, W, 3)`` (or one clip ``(F, H, W, 3)``) → the interface's float frames
    ``(B, F, 3, H, W)`` in [0, 1]."""
    video = torch.from_numpy(np.ascontiguousarray(clips)).float().div(255)
    video = video.unsqueeze(0) if video.ndim == 4 else video
    return video.permute(0, 1, 4, 2, 3)


def frames_to_uint8(frames: torch.Tensor):
    """``(B, F, 3, H, W)`` in [0, 1] → numpy uint8 ``(B, F, H, W, 3)``, for judges that read pixels."""
    return frames.detach().clamp(0, 1).mul(255).round().to(torch.uint8).permute(0, 1, 3, 4, 2).cpu().numpy()
