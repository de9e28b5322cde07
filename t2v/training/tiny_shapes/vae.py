"""Stage ``vae``: train the small VAE on single frames, then fix its latent scaling factor."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ...models.architecture import build_vae
from ..checkpoint import resume_step, save_state
from ..common import apply_gradients, lr_at, psnr_db, to_model_range
from .config import TrainConfig

logger = logging.getLogger(__name__)


def train_vae(cfg: TrainConfig, run: Path, clips: np.ndarray) -> None:
    vae = build_vae(cfg.model)
    optimizer = torch.optim.AdamW(vae.parameters(), lr=cfg.vae_lr, weight_decay=0.0)
    ckpt = run / "vae_checkpoint"
    step = resume_step(ckpt, models={"vae": vae}, optimizer=optimizer, stage="the VAE")
    gen = torch.Generator().manual_seed(cfg.seed + step)
    frames = clips.reshape(-1, *clips.shape[2:])
    vae.train()
    running = 0.0
    while step < cfg.vae_steps:
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step, cfg.vae_lr, cfg.warmup, cfg.vae_steps)
        idx = torch.randint(0, len(frames), (cfg.vae_batch,), generator=gen).numpy()
        x = to_model_range(frames[idx])
        posterior = vae.encode(x).latent_dist
        recon = vae.decode(posterior.sample(generator=gen)).sample
        loss = F.mse_loss(recon, x) + 0.5 * F.l1_loss(recon, x) + cfg.vae_kl * posterior.kl().mean()
        apply_gradients(loss, vae, optimizer)
        step += 1
        running += loss.item()
        if step % cfg.log_every == 0:
            psnr = psnr_db(recon.detach(), x)
            logger.info("vae step %d/%d loss %.4f psnr %.1f dB", step, cfg.vae_steps, running / cfg.log_every, psnr)
            running = 0.0
        if step % cfg.checkpoint_every == 0 or step == cfg.vae_steps:
            save_state(ckpt, models={"vae": vae}, optimizer=optimizer, meta={"step": step})
    vae.eval()
    psnr = set_scaling_factor(vae, frames, cfg.seed)
    logger.info("VAE done: PSNR %.1f dB, scaling factor %.3f", psnr, vae.config.scaling_factor)
    vae.save_pretrained(run / "vae")


def set_scaling_factor(vae, frames: np.ndarray, seed: int) -> float:
    """Scale latents to unit variance over 512 random frames, as the UNet's noise schedule assumes;
    returns the PSNR of those frames' reconstructions."""
    with torch.no_grad():
        picked = np.random.default_rng(seed).choice(len(frames), min(512, len(frames)), replace=False)
        sample = to_model_range(frames[picked])
        latents = vae.encode(sample).latent_dist.mode()
        recon = vae.decode(latents).sample
    vae.register_to_config(scaling_factor=float(1.0 / latents.std()))
    return psnr_db(recon, sample)
