"""DDIM inversion of video latents: the noise that a deterministic sampler would turn into this clip.

Each step asks the model for the noise at the next (noisier) timestep and moves the latents along the
DDIM path in reverse: ``x0 = (x − σ_prev·ε)/α_prev``, ``x_next = α_next·x0 + σ_next·ε``. The prompt it is
inverted under is the one the clip will be regenerated with. Continuity uses it to bring a scene's last
frame back to noise; editing inverts whole clips.
"""

from __future__ import annotations

import torch


@torch.no_grad()
def ddim_invert(unet, backbone, latents: torch.Tensor, prompt_embeds: torch.Tensor, timesteps: torch.Tensor,
                *, added_cond_kwargs: dict | None = None) -> list[torch.Tensor]:
    """The latents at each of ``timesteps`` (the sampler's order, noisiest first), from clean ``latents``
    ``(B, C, F, h, w)``; ``prompt_embeds`` has one row per frame, no guidance half."""
    ascending = list(reversed([int(t) for t in timesteps]))
    x, previous = latents, None
    path = []
    for t in ascending:
        prediction = unet(x, t, encoder_hidden_states=prompt_embeds, added_cond_kwargs=added_cond_kwargs).sample
        noise = backbone.noise_estimate(x, prediction, t)
        alpha_prev, sigma_prev = backbone.level(previous, x)
        clean = (x - sigma_prev * noise) / alpha_prev
        alpha, sigma = backbone.level(t, x)
        x = alpha * clean + sigma * noise
        path.append(x)
        previous = t
    return list(reversed(path))
