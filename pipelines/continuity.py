"""Scene-to-scene continuity (MTVG): each scene starts where the last one ended.

Three parts, each on or off:

* **Boundary noise** (``noise_init``): the next scene starts from the previous scene's last frame brought
  back to noise. ``"recorded"`` reuses the initial noise that produced that frame, kept while the scene
  was sampled, so it costs nothing; ``"inversion"`` DDIM-inverts the decoded last frame under the new
  prompt, which is closer but costs a second pass over the steps (``benchmarks/multiscene.py`` times both).
* **Dynamic noise** (``dynamic_noise``): frame *i* starts from ``√w_i·boundary + √(1-w_i)·fresh``, with
  ``w_0 = dynamic_strength`` falling linearly to 0 over the first ``dynamic_span`` of the frames, so the
  first frames stay near the last scene and the later ones are free to follow the new prompt. Off, every
  frame takes ``w = dynamic_strength`` (strong continuity, little new motion).
* **Structure guidance** (``structure_guidance``): in the first ``structure_steps`` of the steps, each
  frame's clean estimate moves a fraction ``structure_guidance`` towards its predecessor's, and frame 0
  towards the previous scene's last frame. Strength 0.3 keeps the layout; near 1 it freezes the frames.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import torch

NOISE_INITS = ("recorded", "inversion")


@dataclass
class ContinuityConfig:
    """How much each scene continues from the last; :meth:`off` generates every scene independently."""

    noise_init: str | None = "recorded"
    dynamic_noise: bool = True
    dynamic_strength: float = 0.8
    dynamic_span: float = 0.5
    structure_guidance: float = 0.3
    structure_steps: float = 0.2

    def __post_init__(self) -> None:
        if self.noise_init is not None and self.noise_init not in NOISE_INITS:
            raise ValueError(f"continuity.noise_init must be one of {NOISE_INITS} or None, got {self.noise_init!r}")
        for name in ("dynamic_strength", "structure_guidance", "structure_steps"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"continuity.{name} must be in [0, 1], got {value}")
        if not 0.0 < self.dynamic_span <= 1.0:
            raise ValueError(f"continuity.dynamic_span must be in (0, 1], got {self.dynamic_span}")

    @classmethod
    def off(cls) -> ContinuityConfig:
        return cls(noise_init=None, dynamic_noise=False, structure_guidance=0.0)

    @property
    def enabled(self) -> bool:
        return self.noise_init is not None or self.structure_guidance > 0

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass
class SceneBoundary:
    """What the next scene needs of a finished one: its last frame's clean latents and the noise that made it,
    each ``(B, C, 1, h, w)`` in the UNet's latent scale."""

    last_clean: torch.Tensor
    last_noise: torch.Tensor


def boundary_shares(num_frames: int, config: ContinuityConfig) -> torch.Tensor:
    """Per-frame variance share ``w_i`` of the boundary noise in the starting latents."""
    if config.noise_init is None:
        return torch.zeros(num_frames)
    if not config.dynamic_noise:
        return torch.full((num_frames,), config.dynamic_strength)
    span = max(1.0, config.dynamic_span * num_frames)
    ramp = torch.clamp(1.0 - torch.arange(num_frames, dtype=torch.float32) / span, min=0.0)
    return config.dynamic_strength * ramp


def mix_boundary_noise(fresh: torch.Tensor, boundary_noise: torch.Tensor, shares: torch.Tensor) -> torch.Tensor:
    """``√w·boundary + √(1-w)·fresh`` per frame: unit variance is kept, so the schedule's first step fits."""
    w = shares.to(fresh.device, fresh.dtype).view(1, 1, -1, 1, 1)
    return w.sqrt() * boundary_noise + (1 - w).sqrt() * fresh


def structure_pull(clean: torch.Tensor, anchor: torch.Tensor | None, strength: float) -> torch.Tensor:
    """Each frame's clean estimate moved ``strength`` of the way to the frame before it (frame 0 to ``anchor``,
    the previous scene's last frame, when there is one)."""
    previous = torch.cat([anchor if anchor is not None else clean[:, :, :1], clean[:, :, :-1]], dim=2)
    return clean + strength * (previous - clean)


def structure_steps(num_steps: int, config: ContinuityConfig) -> int:
    """How many of the first steps structure guidance acts in."""
    return math.ceil(config.structure_steps * num_steps) if config.structure_guidance > 0 else 0
