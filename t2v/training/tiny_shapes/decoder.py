"""Decoder fine-tune: sharpen the VAE's decoder with its encoder frozen, so the UNet's latents stay valid.

Why it exists: the first VAE (1,000 steps, 30 dB PSNR) rounds small squares and triangles into
blobs and splits a shape into patches of neighbouring hues, so the oracle reads the wrong shape and
extra objects even on *reconstructions of rendered clips*: that caps every model decoded by it
(``benchmarks/tiny_shapes_quality.py`` prints the cap as ``vae_ceiling``). PSNR averages over frames
that are mostly background, so the objects, a few percent of the pixels, get little of the loss;
here pixels of an object and its rim weigh ``decoder_object_weight`` times more. Only the decoder
(and its post-quantisation conv) trains: the encoder, the latent scaling factor and so every
cached latent and every trained UNet are unchanged, and the export ships the sharper decoder.

With ``decoder_encoder_lr`` above 0 the encoder (and its quantisation conv) trains too, under the
same object-weighted loss plus the VAE stage's KL term, so it can keep what a small shape looks
like in its one or two latent cells. That changes the latent space: the scaling factor is measured
again, and the run must re-encode its clips and train its UNet on the new latents.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..checkpoint import StageProgress, resume_step, save_pretrained_atomically
from ..common import apply_gradients, lr_at, psnr_db, reconstruct, to_model_range
from .run_folder import TUNED_VAE
from .vae import set_scaling_factor

logger = logging.getLogger(__name__)

# Every background of the world is grey-scale, every object colour saturated: a pixel whose channels
# spread by more than this (0-255) belongs to an object.
OBJECT_SPREAD = 30.0



def object_weights(frames: torch.Tensor, object_weight: float) -> torch.Tensor:
    """Per-pixel loss weights ``(N, 1, H, W)`` for uint8-valued frames ``(N, H, W, 3)``: 1 on the
    background, ``1 + object_weight`` on object pixels and the one-pixel rim around them."""
    spread = frames.amax(dim=-1) - frames.amin(dim=-1)
    mask = (spread > OBJECT_SPREAD).float().unsqueeze(1)
    return 1.0 + object_weight * F.max_pool2d(mask, kernel_size=3, stride=1, padding=1)



def random_frames(clips: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` frames of random clips (read in clip order: ``clips`` may be a memory map)."""
    picks = np.sort(rng.choice(len(clips), count, replace=len(clips) < count))
    return np.stack([clips[c, f] for c, f in zip(picks, rng.integers(0, clips.shape[1], count), strict=True)])


def dissolves(first: np.ndarray, second: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """uint8 frames mixed pairwise at a uniform random weight each: a dissolve's in-between frames."""
    weight = rng.uniform(0.0, 1.0, (len(first), 1, 1, 1))
    return np.rint((1 - weight) * first + weight * second).astype(np.uint8)


def finetune_decoder(cfg, run: Path, clips: np.ndarray) -> Path:
    """Train the decoder of ``run``'s VAE (and its encoder if ``cfg.decoder_encoder_lr`` > 0) for
    ``cfg.decoder_steps`` steps on random training frames; save the whole VAE to ``run / TUNED_VAE``.
    Resumes from its own checkpoint."""
    from diffusers import AutoencoderKL

    vae = AutoencoderKL.from_pretrained(run / "vae")
    vae.requires_grad_(False)
    decoder = torch.nn.ModuleList([vae.decoder, vae.post_quant_conv])
    encoder = torch.nn.ModuleList([vae.encoder, vae.quant_conv])
    tune_encoder = cfg.decoder_encoder_lr > 0
    trained = torch.nn.ModuleList([decoder, encoder] if tune_encoder else [decoder])
    trained.requires_grad_(True)
    groups = [{"params": list(decoder.parameters()), "peak": cfg.decoder_lr}]
    if tune_encoder:
        groups.append({"params": list(encoder.parameters()), "peak": cfg.decoder_encoder_lr})
    optimizer = torch.optim.AdamW(groups, lr=cfg.decoder_lr, weight_decay=0.0)
    ckpt = run / "decoder_checkpoint"
    step = resume_step(ckpt, models={"decoder": trained}, optimizer=optimizer, stage="the decoder fine-tune")
    progress = StageProgress("decoder", cfg.decoder_steps, ckpt, {"decoder": trained}, optimizer,
                             log_every=cfg.log_every, checkpoint_every=cfg.checkpoint_every)
    rng = np.random.default_rng(cfg.seed * 1000 + 2 + step)
    gen = torch.Generator().manual_seed(cfg.seed * 1000 + 3 + step)
    n_clips = len(clips)
    vae.train()
    while step < cfg.decoder_steps:
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step, group["peak"], min(cfg.warmup, cfg.decoder_steps), cfg.decoder_steps)
        frames = random_frames(clips, cfg.vae_batch, rng)
        blends = int(round(cfg.decoder_blend_share * len(frames)))
        if blends:
            frames[:blends] = dissolves(frames[:blends], random_frames(clips, blends, rng), rng)
        x = to_model_range(frames)
        weights = object_weights(torch.from_numpy(frames).float(), cfg.decoder_object_weight)
        with torch.set_grad_enabled(tune_encoder):
            posterior = vae.encode(x).latent_dist
            latents = posterior.sample(generator=gen) if tune_encoder else posterior.mode()
        error = vae.decode(latents).sample - x
        loss = ((error.square() + 0.5 * error.abs()) * weights).mean() / weights.mean()
        if tune_encoder:
            loss = loss + cfg.vae_kl * posterior.kl().mean()
        apply_gradients(loss, trained, optimizer)
        step += 1
        progress.after(step, loss.item())
    vae.eval()
    if tune_encoder:
        set_scaling_factor(vae, clips[:, 0], cfg.seed)
    sample = np.asarray(clips[: min(n_clips, 16), 0])
    logger.info("decoder fine-tune done: PSNR %.1f dB, scaling factor %.3f",
                psnr_db(to_model_range(reconstruct(vae, sample)), to_model_range(sample)), vae.config.scaling_factor)
    return save_pretrained_atomically(vae, run / TUNED_VAE)
