"""One denoising loop with hooks, for the t2v pipelines that steer sampling step by step.

It is AnimateDiff's loop (classifier-free guidance over per-frame embeddings, ``scheduler.step``,
``callback_on_step_end``, the progress bar) with three places to act: the clean estimate of each step
(structure guidance pulls it), the latents after each step (masked inpainting pins given frames there),
and a record of the latents before each step (continuity keeps a scene's noisy boundary from it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from .backbone import UNetBackbone

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
    """For pipelines that derive from diffusers' ``AnimateDiffPipeline``."""

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
        """Run ``timesteps`` from ``latents``; ``prompt_embeds`` holds one row per frame (negative half first
        when ``guidance_scale`` > 1)."""
        unknown = set(callback_on_step_end_tensor_inputs) - {"latents", "prompt_embeds"}
        if unknown:
            raise ValueError(f"callback_on_step_end_tensor_inputs may name 'latents' and 'prompt_embeds', got "
                             f"{sorted(unknown)}")
        hooks = hooks or StepHooks()
        backbone = UNetBackbone.of(self)
        do_cfg = guidance_scale > 1.0
        self._guidance_scale = guidance_scale
        self._num_timesteps = len(timesteps)
        def step(i: int, t: torch.Tensor, latents: torch.Tensor) -> torch.Tensor:
            model_input = torch.cat([latents] * 2) if do_cfg else latents
            model_input = self.scheduler.scale_model_input(model_input, t)
            prediction = self.unet(model_input, t, encoder_hidden_states=prompt_embeds,
                                   cross_attention_kwargs=self.cross_attention_kwargs,
                                   added_cond_kwargs=added_cond_kwargs).sample
            if do_cfg:
                uncond, cond = prediction.chunk(2)
                prediction = uncond + guidance_scale * (cond - uncond)
            if hooks.on_clean_estimate is not None:
                clean = backbone.clean_estimate(latents, prediction, t)
                steered = hooks.on_clean_estimate(i, int(t), clean)
                if steered is not clean:
                    prediction = backbone.with_clean_estimate(latents, steered, t)
            latents = self.scheduler.step(prediction, t, latents, **(extra_step_kwargs or {})).prev_sample
            if hooks.after_step is not None:
                latents = hooks.after_step(i, int(t), latents)
            return latents

        with self.progress_bar(total=len(timesteps)) as progress_bar:
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
