"""InstructVideo's video reward shaping for image (per-frame) rewards.

*Segmental sampling* splits the F frames into K equal segments and scores one random frame of each, so a
reward sees the whole clip at K frames' cost. *Temporal attenuation* weighs frame i by
``exp(-λ·|i − F/2|)``: the middle of the clip drives the update most, its ends least, which InstructVideo
found keeps the temporal modelling from degrading.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class ShapingConfig:
    """How per-frame scores become one score per video."""

    segments: int = 4  # K: segments, one random frame scored from each; 0 scores every frame
    attenuation: float = 1.0  # λ of exp(-λ·|i − F/2|); 0 weighs every frame alike

    def __post_init__(self) -> None:
        if isinstance(self.segments, bool) or not isinstance(self.segments, int) or self.segments < 0:
            raise ValueError(f"segments must be an integer >= 0, got {self.segments!r}")
        if not isinstance(self.attenuation, (int, float)) or self.attenuation < 0:
            raise ValueError(f"attenuation must be a number >= 0, got {self.attenuation!r}")


def segment_frames(num_frames: int, segments: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """One random frame index from each of ``segments`` equal segments of ``num_frames`` (all when 0)."""
    if num_frames < 1:
        raise ValueError(f"num_frames must be >= 1, got {num_frames}")
    if segments == 0 or segments >= num_frames:
        return torch.arange(num_frames)
    bounds = torch.linspace(0, num_frames, segments + 1)
    starts, ends = bounds[:-1].floor().long(), bounds[1:].floor().long()
    offsets = (torch.rand(segments, generator=generator) * (ends - starts).float()).floor().long()
    return starts + offsets


def attenuation_weights(indices: torch.Tensor, num_frames: int, attenuation: float) -> torch.Tensor:
    """``exp(-λ·|i − F/2|)`` for the frame ``indices``, normalised to sum to one."""
    weights = torch.exp(-attenuation * (indices.float() - num_frames / 2).abs())
    return weights / weights.sum()


def shape_video_reward(per_frame: torch.Tensor, indices: torch.Tensor, num_frames: int,
                       attenuation: float) -> torch.Tensor:
    """Per-video rewards ``(B,)`` from per-frame scores ``(B, K)`` of the frames at ``indices``."""
    weights = attenuation_weights(indices, num_frames, attenuation).to(per_frame)
    return (per_frame * weights).sum(dim=1)
