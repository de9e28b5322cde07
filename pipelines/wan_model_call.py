"""One Wan denoiser call, shared by every t2v loop on Wan (sampling, continuity, inpainting, reward training).

It is the body of diffusers' ``WanPipeline`` loop: the expert for the timestep (Wan 2.2 A14B hands the
low-noise steps, ``t < boundary_ratio · 1000``, to ``transformer_2``), per-token timesteps for
``expand_timesteps`` models (TI2V-5B), the conditional and unconditional passes inside ``cache_context``
(FirstBlockCache and other diffusers caches need it) and classifier-free guidance.
"""

from __future__ import annotations

import torch


def wan_denoiser(pipe) -> torch.nn.Module:
    """The Wan pipeline's transformer (the high-noise expert on two-expert models), for what every expert
    shares: its config, patch size, channels."""
    model = getattr(pipe, "transformer", None)
    if model is None:
        model = getattr(pipe, "transformer_2", None)
    if model is None:
        raise ValueError(f"{type(pipe).__name__} has no transformer: not a Wan pipeline")
    return model


def expert_for(pipe, timestep: torch.Tensor | float) -> tuple[torch.nn.Module, bool]:
    """The transformer that denoises ``timestep`` and whether it is the low-noise expert."""
    ratio = pipe.config.get("boundary_ratio")
    if ratio is None or pipe.transformer_2 is None:
        return wan_denoiser(pipe), False
    boundary = ratio * pipe.scheduler.config.num_train_timesteps
    return (pipe.transformer, False) if float(timestep) >= boundary else (pipe.transformer_2, True)


def wan_velocity(
    pipe,
    latents: torch.Tensor,
    timestep: torch.Tensor,
    prompt_embeds: torch.Tensor,
    negative_embeds: torch.Tensor | None,
    guidance_scale: float,
    *,
    guidance_scale_2: float | None = None,
    step_index: int = 0,
    num_steps: int = 1,
    attention_kwargs: dict | None = None,
) -> torch.Tensor:
    """The guided velocity for ``latents`` ``(B, C, F', h, w)`` at ``timestep``; no guidance when
    ``negative_embeds`` is None."""
    model, low_noise = expert_for(pipe, timestep)
    scale = guidance_scale_2 if (low_noise and guidance_scale_2 is not None) else guidance_scale
    model_input = latents.to(model.dtype)
    t = torch.as_tensor(timestep, device=latents.device).reshape(())
    if pipe.config.get("expand_timesteps"):
        patch_h, patch_w = model.config.patch_size[1:]
        tokens = latents.shape[2] * (latents.shape[3] // patch_h) * (latents.shape[4] // patch_w)
        t_model = t.expand(latents.shape[0], tokens)
    else:
        t_model = t.expand(latents.shape[0])
    sigmas = getattr(pipe.scheduler, "sigmas", None)
    context = {"step_index": step_index, "num_inference_steps": num_steps,
               "sigma": float(sigmas[step_index]) if sigmas is not None and step_index < len(sigmas) else 0.0}

    def run(embeds: torch.Tensor, name: str) -> torch.Tensor:
        with model.cache_context(name, **context):
            return model(hidden_states=model_input, timestep=t_model, encoder_hidden_states=embeds.to(model.dtype),
                         attention_kwargs=attention_kwargs, return_dict=False)[0]

    velocity = run(prompt_embeds, "cond")
    if negative_embeds is not None:
        uncond = run(negative_embeds, "uncond")
        velocity = uncond + scale * (velocity - uncond)
    return velocity
