"""Training pieces every trainer shares: the LR schedule, optimiser steps, EMA, the diffusion loss, and
encoding of clips and captions exactly as the pipelines do it.

The embedded model's stages (:mod:`t2v.training.tiny_shapes`) and reward fine-tuning both build on these,
so the two train against the same loss, schedule and conditioning.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F


def apply_gradients(loss: torch.Tensor, model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> None:
    """One optimiser step on ``loss``, gradients clipped to norm 1 (single-process stages)."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()


LR_SCHEDULES = ("cosine", "constant")


def lr_at(step: int, peak: float, warmup: int, total: int, schedule: str = "cosine") -> float:
    """Linear warm-up, then cosine decay to a tenth of the peak (``schedule="constant"``: the peak throughout)."""
    if schedule not in LR_SCHEDULES:
        raise ValueError(f"lr_schedule must be one of {LR_SCHEDULES}, got {schedule!r}")
    if step < warmup:
        return peak * (step + 1) / warmup
    if schedule == "constant":
        return peak
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return peak * (0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * progress)))


def to_model_range(frames_uint8: np.ndarray) -> torch.Tensor:
    """uint8 (..., H, W, 3) → float (..., 3, H, W) in [-1, 1], the VAE's input range."""
    x = torch.from_numpy(np.array(frames_uint8)).float().div(127.5).sub(1.0)  # a copy: clips are mapped read-only
    return x.movedim(-1, -3)


def video_in_model_range(frames_uint8: np.ndarray) -> torch.Tensor:
    """uint8 frames ``(F, H, W, 3)`` as one video ``(1, 3, F, H, W)`` in [-1, 1], the layout of a decoded video."""
    return to_model_range(frames_uint8).transpose(0, 1)[None]


def psnr_db(recon: torch.Tensor, target: torch.Tensor) -> float:
    """PSNR of images in [-1, 1], in dB."""
    mse = F.mse_loss(recon.clamp(-1, 1), target).item() / 4.0  # rescale to [0, 1]
    return 10.0 * math.log10(1.0 / max(mse, 1e-12))


def encode_text(tokenizer, text_encoder, texts: list[str]) -> torch.Tensor:
    """MiniLM hidden states exactly as ``AnimateDiffPipeline.encode_prompt`` computes them."""
    tokens = tokenizer(texts, padding="max_length", max_length=tokenizer.model_max_length, truncation=True,
                       return_tensors="pt")
    with torch.no_grad():
        return text_encoder(tokens.input_ids, attention_mask=tokens.attention_mask)[0]


def encode_clips(vae, clips: np.ndarray) -> torch.Tensor:
    """uint8 clips (N, F, H, W, 3) → scaled VAE latents (N, C, F, h, w), the UNet's (and the pipeline's) layout."""
    frames = clips.shape[1]
    pixels = to_model_range(clips.reshape(-1, *clips.shape[2:]))
    with torch.no_grad():
        z = vae.encode(pixels).latent_dist.mode() * vae.config.scaling_factor
    return z.reshape(-1, frames, *z.shape[1:]).permute(0, 2, 1, 3, 4).contiguous()


def min_snr_weights(scheduler, timesteps: torch.Tensor, gamma: float) -> torch.Tensor:
    """Min-SNR-γ loss weights for v-prediction (or ε-prediction)."""
    from diffusers.training_utils import compute_snr

    snr = compute_snr(scheduler, timesteps)
    clipped = torch.clamp(snr, max=gamma)
    if scheduler.config.prediction_type == "v_prediction":
        return clipped / (snr + 1.0)
    return clipped / snr


def diffusion_loss(unet, scheduler, x0: torch.Tensor, noise: torch.Tensor, timesteps: torch.Tensor,
                   cond: torch.Tensor, snr_gamma: float) -> torch.Tensor:
    """The denoising loss of one batch of latent clips (v- or epsilon-prediction, optional min-SNR weights)."""
    noisy = scheduler.add_noise(x0, noise, timesteps)
    target = scheduler.get_velocity(x0, noise, timesteps) if scheduler.config.prediction_type == "v_prediction" \
        else noise
    pred = unet(noisy, timesteps, encoder_hidden_states=cond).sample
    per_sample = F.mse_loss(pred.float(), target, reduction="none").mean(dim=(1, 2, 3, 4))
    if snr_gamma > 0:
        per_sample = per_sample * min_snr_weights(scheduler, timesteps, snr_gamma)
    return per_sample.mean()


@torch.no_grad()
def ema_update(ema_params: list[torch.Tensor], params: list[torch.Tensor], step: int, max_decay: float) -> None:
    """Move the EMA copy towards ``params``; the decay warms up as ``(1 + step) / (10 + step)`` so early
    weights do not linger."""
    decay = min(max_decay, (1 + step) / (10 + step))
    torch._foreach_lerp_(ema_params, params, 1.0 - decay)


def reconstruct(vae, frames: np.ndarray) -> np.ndarray:
    """uint8 frames ``(F, H, W, 3)`` through the VAE (posterior mode) and back, as uint8: what anything
    decoded by this VAE can at best look like."""
    with torch.no_grad():
        recon = vae.decode(vae.encode(to_model_range(frames)).latent_dist.mode()).sample
    return recon.clamp(-1, 1).add(1).mul(127.5).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
