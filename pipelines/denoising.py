"""One denoising loop with hooks, for the t2v pipelines that steer sampling step by step, on any backbone.

It is diffusers' loop (``scheduler.step``, ``callback_on_step_end``, the progress bar) with three places to
act: the clean estimate of each step (structure guidance pulls it), the latents after each step (masked
inpainting pins given frames there), and a record of the latents before each step (continuity keeps a
scene's noisy boundary from it). The model call is the pipeline's ``model_prediction`` (AnimateDiff's UNet
with guidance over per-frame embeddings; Wan's transformer through :func:`wan_velocity`), and clean
estimates go through the pipeline's backbone seam, so the loop itself is written once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

StepFn = Callable[[int, int, torch.Tensor], torch.Tensor]


@dataclass
class StepHooks:
    """Optional per-step actions; each gets the step index, the timestep and a latent tensor ``(B, C, F, h, w)``."""

    on_clean_estimate: StepFn | None = None  # returns the clean estimate to step towards
    after_step: StepFn | None = None  # returns the latents to go on from
    before_step: Callable[[int, int, torch.Tensor], None] | None = None  # sees the latents, changes nothing
    # RePaint resampling: after each step but the last, ``resample(i, t, latents)`` brings the latents back
    # to the noise level of step i, and the step runs again, this many more times.
    resample_rounds: int = 0
    resample: StepFn | None = None


class DenoiseLoopMixin:
    """For t2v pipelines that provide ``backbone`` and ``model_prediction`` (T2VAnimateDiffPipeline,
    T2VWanPipeline)."""

    @property
    def start_noise_scale(self) -> float:
        """The scale of the starting noise (DDPM-family ``init_noise_sigma``; 1 for flow schedulers, which
        have none)."""
        return float(getattr(self.scheduler, "init_noise_sigma", 1.0))

    def denoise(
        self,
        latents: torch.Tensor,
        prompt_embeds: torch.Tensor,
        timesteps: torch.Tensor,
        guidance_scale: float,
        *,
        extra_step_kwargs: dict | None = None,
        added_cond_kwargs: dict | None = None,
        hooks: StepHooks | None = None,
        callback_on_step_end: Callable | None = None,
        callback_on_step_end_tensor_inputs: tuple[str, ...] = ("latents",),
    ) -> torch.Tensor:
        """Run ``timesteps`` from ``latents``; ``prompt_embeds`` is the pipeline's layout (per-frame rows on
        AnimateDiff, per-latent-frame on Wan), negative half first when ``guidance_scale`` > 1."""
        unknown = set(callback_on_step_end_tensor_inputs) - {"latents", "prompt_embeds"}
        if unknown:
            raise ValueError(f"callback_on_step_end_tensor_inputs may name 'latents' and 'prompt_embeds', got "
                             f"{sorted(unknown)}")
        hooks = hooks or StepHooks()
        backbone = self.backbone
        self._guidance_scale = guidance_scale
        self._num_timesteps = len(timesteps)

        def step(i: int, t: torch.Tensor, latents: torch.Tensor) -> torch.Tensor:
            prediction = self.model_prediction(latents, t, prompt_embeds, guidance_scale, step_index=i,
                                               num_steps=len(timesteps), added_cond_kwargs=added_cond_kwargs)
            if hooks.on_clean_estimate is not None:
                clean = backbone.clean_estimate(latents, prediction, t)
                steered = hooks.on_clean_estimate(i, int(t), clean)
                if steered is not clean:
                    prediction = backbone.with_clean_estimate(latents, steered, t)
            latents = self.scheduler.step(prediction, t, latents, **(extra_step_kwargs or {})).prev_sample
            if hooks.after_step is not None:
                latents = hooks.after_step(i, int(t), latents)
            return latents

        from t2v.models.caching import caching_disabled

        resampling = hooks.resample is not None and hooks.resample_rounds > 0  # a re-run step is no next step
        with caching_disabled(self, disabled=resampling), self.progress_bar(total=len(timesteps)) as progress_bar:
            for i, t in enumerate(timesteps):
                if hooks.before_step is not None:
                    hooks.before_step(i, int(t), latents)
                latents = step(i, t, latents)
                if hooks.resample is not None and i < len(timesteps) - 1:
                    for _ in range(hooks.resample_rounds):
                        latents = step(i, t, hooks.resample(i, int(t), latents))
                if callback_on_step_end is not None:
                    names = {"latents": latents, "prompt_embeds": prompt_embeds}
                    inputs = {k: names[k] for k in callback_on_step_end_tensor_inputs}
                    outputs = callback_on_step_end(self, i, t, inputs)
                    latents = outputs.pop("latents", latents)
                    prompt_embeds = outputs.pop("prompt_embeds", prompt_embeds)
                progress_bar.update()
        return latents
