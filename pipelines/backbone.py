"""The seam between t2v's technique code and a video backbone.

Continuity, masked temporal inpainting and reward fine-tuning need four things that differ between
backbones, and ask for nothing else: how to noise a clean latent to a level, how to read the clean
estimate out of a model prediction (and put an edited one back), how latents are normalised, and which
pixel frames each latent frame holds.

* :class:`UNetBackbone` answers for AnimateDiff: DDPM-family schedulers predicting ε, v or the sample
  (``x_t = α·x0 + σ·ε`` with ``α² + σ² = 1``); latents scaled by the VAE's ``scaling_factor``; one latent
  frame per pixel frame.
* :class:`FlowBackbone` answers for Wan: flow matching (``x_t = (1-σ)·x0 + σ·ε`` with σ the schedule's,
  the model predicting the velocity ``ε - x0``); latents normalised per channel by the VAE's
  ``latents_mean`` / ``latents_std``; a causal VAE that keeps pixel frame 0 alone in latent frame 0 and
  packs each next ``4`` frames into one latent frame. A given pixel frame can therefore only be pinned
  with its whole latent chunk: the frames sharing its chunk (up to 3 either side) are held to it.

:func:`backbone_of` picks the answer for a pipeline.
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

    @staticmethod
    def num_latent_frames(num_frames: int) -> int:
        return num_frames

    @staticmethod
    def pixel_frames_of(latent_frame: int) -> range:
        """The pixel frames latent frame ``latent_frame`` decodes to."""
        return range(latent_frame, latent_frame + 1)


@dataclass
class FlowBackbone:
    """Wan's answers: a flow-matching scheduler and a causal 3D VAE with per-channel latent statistics."""

    num_train_timesteps: int
    latents_mean: torch.Tensor  # (C,)
    latents_std: torch.Tensor  # (C,)
    temporal_factor: int = 4
    scheduler: object | None = None  # its set schedule, when there is one, gives each timestep's exact σ

    @classmethod
    def of(cls, pipe) -> FlowBackbone:
        config = pipe.vae.config
        return cls(num_train_timesteps=int(pipe.scheduler.config.num_train_timesteps),
                   latents_mean=torch.tensor(config.latents_mean, dtype=torch.float32),
                   latents_std=torch.tensor(config.latents_std, dtype=torch.float32),
                   temporal_factor=int(getattr(pipe, "vae_scale_factor_temporal", 4)), scheduler=pipe.scheduler)

    def sigma(self, timestep: torch.Tensor | int | float) -> float:
        """σ of a timestep: the schedule's own where the timestep is one of its steps (UniPC, Wan's shipped
        scheduler, rounds timesteps to integers, so ``t / 1000`` is off by up to 1e-3 there), else ``t / 1000``."""
        timesteps = getattr(self.scheduler, "timesteps", None)
        sigmas = getattr(self.scheduler, "sigmas", None)
        if timesteps is not None and sigmas is not None:
            hits = (timesteps.float() == float(timestep)).nonzero()
            if len(hits):
                return float(sigmas[int(hits[0])])
        return float(timestep) / self.num_train_timesteps

    def level(self, timestep: torch.Tensor | int | float | None, like: torch.Tensor
              ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(1-σ, σ)`` of a timestep; None is the clean level ``(1, 0)``."""
        sigma = 0.0 if timestep is None else self.sigma(timestep)
        return (torch.tensor(1.0 - sigma, dtype=like.dtype, device=like.device),
                torch.tensor(sigma, dtype=like.dtype, device=like.device))

    def add_noise(self, clean: torch.Tensor, noise: torch.Tensor, timestep: torch.Tensor | int | float
                  ) -> torch.Tensor:
        """``clean`` brought to the noise level of ``timestep`` (the flow scheduler's ``scale_noise``)."""
        alpha, sigma = self.level(timestep, clean)
        return alpha * clean + sigma * noise

    def clean_estimate(self, sample: torch.Tensor, prediction: torch.Tensor, timestep: torch.Tensor | int | float
                       ) -> torch.Tensor:
        """``x0 = x_t - σ·v`` for the predicted velocity ``v = ε - x0``."""
        _, sigma = self.level(timestep, sample)
        return sample - sigma * prediction

    def noise_estimate(self, sample: torch.Tensor, prediction: torch.Tensor, timestep: torch.Tensor | int | float
                       ) -> torch.Tensor:
        """``ε = x_t + (1-σ)·v``."""
        alpha, _ = self.level(timestep, sample)
        return sample + alpha * prediction

    def with_clean_estimate(self, sample: torch.Tensor, clean: torch.Tensor, timestep: torch.Tensor | int | float
                            ) -> torch.Tensor:
        """The velocity that implies ``clean`` for ``sample``."""
        alpha, sigma = self.level(timestep, sample)
        noise = (sample - alpha * clean) / sigma.clamp_min(1e-8)
        return noise - clean

    def _stats(self, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        shape = (1, -1, 1, 1, 1)
        return (self.latents_mean.to(like.device, like.dtype).view(shape),
                self.latents_std.to(like.device, like.dtype).view(shape))

    def normalise(self, vae_latents: torch.Tensor) -> torch.Tensor:
        """VAE latents → the scale the transformer works in: ``(z - mean) / std`` per channel."""
        mean, std = self._stats(vae_latents)
        return (vae_latents - mean) / std

    def denormalise(self, latents: torch.Tensor) -> torch.Tensor:
        mean, std = self._stats(latents)
        return latents * std + mean

    def latent_frame_of(self, pixel_frame: int) -> int:
        """Frame 0 alone, then ``temporal_factor`` pixel frames per latent frame."""
        return 0 if pixel_frame == 0 else 1 + (pixel_frame - 1) // self.temporal_factor

    def num_latent_frames(self, num_frames: int) -> int:
        return (num_frames - 1) // self.temporal_factor + 1

    def pixel_frames_of(self, latent_frame: int) -> range:
        if latent_frame == 0:
            return range(0, 1)
        start = 1 + (latent_frame - 1) * self.temporal_factor
        return range(start, start + self.temporal_factor)


Backbone = UNetBackbone | FlowBackbone


def backbone_of(pipe) -> Backbone:
    """The seam's answers for ``pipe``: flow matching for a transformer (Wan) pipeline, else the UNet's."""
    if getattr(pipe, "transformer", None) is not None or getattr(pipe, "transformer_2", None) is not None:
        return FlowBackbone.of(pipe)
    return UNetBackbone.of(pipe)
