"""The seam between t2v's technique code and a video backbone.

Continuity, masked temporal inpainting and reward fine-tuning need four things that differ between
backbones, and ask for nothing else: how to noise a clean latent to a level, how to read the clean
estimate out of a model prediction (and put an edited one back), how latents are normalised, and which
pixel frames each latent frame holds. :class:`UNetBackbone` answers for AnimateDiff (DDPM-family
schedulers predicting ε, v or the sample; latents scaled by the VAE's ``scaling_factor``; one latent
frame per pixel frame).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class UNetBackbone:
    """AnimateDiff's answers: a DDPM-family scheduler and a per-frame 2D VAE."""

    scheduler: object
    scaling_factor: float

    @classmethod
    def of(cls, pipe) -> UNetBackbone:
        return cls(scheduler=pipe.scheduler, scaling_factor=float(pipe.vae.config.scaling_factor))

    def _alpha_sigma(self, timestep: torch.Tensor | int, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        alphas = self.scheduler.alphas_cumprod.to(device=like.device, dtype=torch.float32)
        alpha_bar = alphas[int(timestep)]
        return alpha_bar.sqrt().to(like.dtype), (1 - alpha_bar).sqrt().to(like.dtype)

    def add_noise(self, clean: torch.Tensor, noise: torch.Tensor, timestep: torch.Tensor | int) -> torch.Tensor:
        """``clean`` brought to the noise level of ``timestep``."""
        t = torch.as_tensor([int(timestep)], device=clean.device)
        return self.scheduler.add_noise(clean, noise, t)

    def clean_estimate(self, sample: torch.Tensor, prediction: torch.Tensor, timestep: torch.Tensor | int
                       ) -> torch.Tensor:
        """The clean latents ``prediction`` implies for the noisy ``sample`` at ``timestep``."""
        alpha, sigma = self._alpha_sigma(timestep, sample)
        kind = self.scheduler.config.prediction_type
        if kind == "v_prediction":
            return alpha * sample - sigma * prediction
        if kind == "epsilon":
            return (sample - sigma * prediction) / alpha
        if kind == "sample":
            return prediction
        raise ValueError(f"unsupported prediction_type {kind!r}")

    def noise_estimate(self, sample: torch.Tensor, prediction: torch.Tensor, timestep: torch.Tensor | int
                       ) -> torch.Tensor:
        """The noise ``prediction`` implies for ``sample`` at ``timestep``."""
        if self.scheduler.config.prediction_type == "epsilon":
            return prediction
        alpha, sigma = self._alpha_sigma(timestep, sample)
        return (sample - alpha * self.clean_estimate(sample, prediction, timestep)) / sigma.clamp_min(1e-8)

    def level(self, timestep: torch.Tensor | int | None, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(α, σ)`` of a timestep; None is the clean level ``(1, 0)``."""
        if timestep is None:
            return torch.ones((), dtype=like.dtype, device=like.device), torch.zeros((), dtype=like.dtype,
                                                                                   device=like.device)
        return self._alpha_sigma(timestep, like)

    def with_clean_estimate(self, sample: torch.Tensor, clean: torch.Tensor, timestep: torch.Tensor | int
                            ) -> torch.Tensor:
        """The prediction that implies ``clean`` for ``sample``: the noise is what ``sample`` then holds
        (``sample = α·clean + σ·noise``), so the scheduler's next step moves towards ``clean``."""
        alpha, sigma = self._alpha_sigma(timestep, sample)
        noise = (sample - alpha * clean) / sigma.clamp_min(1e-8)
        kind = self.scheduler.config.prediction_type
        if kind == "v_prediction":
            return alpha * noise - sigma * clean
        if kind == "epsilon":
            return noise
        if kind == "sample":
            return clean
        raise ValueError(f"unsupported prediction_type {kind!r}")

    def normalise(self, vae_latents: torch.Tensor) -> torch.Tensor:
        """VAE latents → the scale the UNet works in."""
        return vae_latents * self.scaling_factor

    def denormalise(self, latents: torch.Tensor) -> torch.Tensor:
        return latents / self.scaling_factor

    @staticmethod
    def latent_frame_of(pixel_frame: int) -> int:
        """Which latent frame holds ``pixel_frame``: one each on AnimateDiff."""
        return pixel_frame
