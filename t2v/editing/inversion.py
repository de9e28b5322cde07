"""DDIM inversion of video latents: the noise that a deterministic sampler would turn into this clip.

Each step asks the model for the noise at the next (noisier) timestep and moves the latents along the
DDIM path in reverse: ``x0 = (x − σ_prev·ε)/α_prev``, ``x_next = α_next·x0 + σ_next·ε``. The prompt it is
inverted under is the one the clip will be regenerated with. Continuity uses it to bring a scene's last
frame back to noise; editing inverts whole clips, with an attention control installed that records what
the edit needs from the source branch (``on_step`` tells it the step), so the edit runs no source branch.

Sampling from the inverted noise with guidance drifts from the source; null-text optimisation (Mokady et
al.; Video-P2P's decoupled guidance) fits one unconditional embedding per step so that the guided sampler
retraces the inversion path. It costs gradient steps through the UNet, so its time is reported apart.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch


@torch.no_grad()
def ddim_invert(unet, backbone, latents: torch.Tensor, prompt_embeds: torch.Tensor, timesteps: torch.Tensor,
                *, added_cond_kwargs: dict | None = None,
                on_step: Callable[[int, int], None] | None = None) -> list[torch.Tensor]:
    """The latents at each of ``timesteps`` (the sampler's order, noisiest first), from clean ``latents``
    ``(B, C, F, h, w)``; ``prompt_embeds`` has one row per frame, no guidance half. ``on_step(i, t)`` runs
    before each model call with ``i`` the index of ``t`` in the sampler's order."""
    order = [int(t) for t in timesteps]
    x, previous = latents, None
    path = []
    for index in reversed(range(len(order))):
        t = order[index]
        if on_step is not None:
            on_step(index, t)
        prediction = unet(x, t, encoder_hidden_states=prompt_embeds, added_cond_kwargs=added_cond_kwargs).sample
        noise = backbone.noise_estimate(x, prediction, t)
        alpha_prev, sigma_prev = backbone.level(previous, x)
        clean = (x - sigma_prev * noise) / alpha_prev
        alpha, sigma = backbone.level(t, x)
        x = alpha * clean + sigma * noise
        path.append(x)
        previous = t
    return list(reversed(path))


@dataclass
class NullTextResult:
    """One unconditional embedding per step (sampler order) and the seconds the fitting took."""

    embeds: list[torch.Tensor]
    seconds: float
    final_error: float


def null_text_optimise(unet, scheduler, path: list[torch.Tensor], clean: torch.Tensor, cond: torch.Tensor,
                       uncond: torch.Tensor, timesteps: torch.Tensor, guidance_scale: float, *,
                       inner_steps: int = 5, lr: float = 1e-2, added_cond_kwargs: dict | None = None
                       ) -> NullTextResult:
    """Fit the unconditional embedding of each step so that a guided DDIM step from the current latents
    lands on the next latents of the inversion ``path`` (the clean latents after the last step).

    ``cond`` and ``uncond``: per-frame embeddings ``(F, L, D)``. Each step's embedding starts from the
    previous step's fit; the sampled latents then follow the fitted guidance, as sampling will.
    """
    if inner_steps < 1:
        raise ValueError(f"inner_steps must be >= 1, got {inner_steps}")
    start = time.perf_counter()
    with torch.enable_grad(), frozen(unet):
        return _fit(unet, scheduler, path, clean, cond, uncond, timesteps, guidance_scale, inner_steps, lr,
                    added_cond_kwargs, start)


@contextmanager
def frozen(module: torch.nn.Module) -> Iterator[None]:
    """No gradients for ``module``'s weights inside the block; each weight's own flag comes back after."""
    flags = [p.requires_grad for p in module.parameters()]
    module.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag in zip(module.parameters(), flags, strict=True):
            p.requires_grad_(flag)


def _fit(unet, scheduler, path, clean, cond, uncond, timesteps, guidance_scale, inner_steps, lr, added_cond_kwargs,
         start) -> NullTextResult:
    targets = [*path[1:], clean]
    latents = path[0]
    embedding = uncond.detach().clone()
    fitted: list[torch.Tensor] = []
    error = 0.0
    for t, target in zip(timesteps, targets, strict=True):
        with torch.no_grad():
            conditional = unet(latents, t, encoder_hidden_states=cond, added_cond_kwargs=added_cond_kwargs).sample
        embedding = embedding.detach().requires_grad_(True)
        optimiser = torch.optim.Adam([embedding], lr=lr)
        for _ in range(inner_steps):
            unconditional = unet(latents, t, encoder_hidden_states=embedding,
                                 added_cond_kwargs=added_cond_kwargs).sample
            guided = unconditional + guidance_scale * (conditional - unconditional)
            stepped = scheduler.step(guided, t, latents).prev_sample
            loss = torch.nn.functional.mse_loss(stepped, target)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
        error = float(loss.detach())
        embedding = embedding.detach()
        fitted.append(embedding)
        with torch.no_grad():
            unconditional = unet(latents, t, encoder_hidden_states=embedding,
                                 added_cond_kwargs=added_cond_kwargs).sample
            guided = unconditional + guidance_scale * (conditional - unconditional)
            latents = scheduler.step(guided, t, latents).prev_sample
    return NullTextResult(embeds=fitted, seconds=time.perf_counter() - start, final_error=error)
