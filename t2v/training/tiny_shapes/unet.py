"""Stage ``unet``: train the video UNet (v-prediction, min-SNR weighting, EMA) on the cached latents,
data-parallel under ``accelerate launch``."""

from __future__ import annotations

import copy
import logging
import time
from dataclasses import asdict
from pathlib import Path

import torch
from safetensors.torch import load_file

from ...models.architecture import build_train_scheduler, build_unet
from ...processes import uses_cpu
from ..checkpoint import find_state, load_state, save_state
from ..common import diffusion_loss, ema_update, lr_at
from .config import TrainConfig
from .direction import DirectionBatches
from .run_folder import warmed_up_unet

logger = logging.getLogger(__name__)


def initial_unet(cfg: TrainConfig, run: Path | None = None):
    """Where the UNet stage starts: the direction warm-up's UNet if the run has one, else the warm-start
    model (its architecture and weights, in float32), else the preset's fresh UNet."""
    from diffusers import UNetMotionModel

    warmed = warmed_up_unet(run) if run is not None else None
    if warmed is not None:
        return UNetMotionModel.from_pretrained(warmed, dtype=torch.float32)
    if cfg.init_from:
        return UNetMotionModel.from_pretrained(Path(cfg.init_from) / "unet", dtype=torch.float32)
    return build_unet(cfg.model)


def direction_clips_per_batch(cfg: TrainConfig) -> int:
    """Clips of each UNet-stage batch drawn from the direction warm-up's centred clips."""
    return round(cfg.direction_share * cfg.unet_batch)


def train_unet(cfg: TrainConfig, run: Path) -> None:
    from accelerate import Accelerator

    accelerator = Accelerator(cpu=uses_cpu())
    data = load_file(str(run / "data" / "encoded.safetensors"))
    latents, text = data["latents"], data["text"]
    empty_index = len(text) - 1
    per_clip = cfg.captions_per_clip
    torch.manual_seed(cfg.seed)
    unet = initial_unet(cfg, run)
    ema = copy.deepcopy(unet).requires_grad_(False)
    optimizer = torch.optim.AdamW(unet.parameters(), lr=cfg.unet_lr, weight_decay=1e-2)
    scheduler = build_train_scheduler(cfg.model)
    ckpt = run / "unet_checkpoint"
    step = 0
    if find_state(ckpt) is not None:
        step = load_state(ckpt, models={"unet": unet, "ema": ema}, optimizer=optimizer)["step"]
        logger.info("resumed UNet at step %d", step)
    elif warmed_up_unet(run) is not None:
        logger.info("started the UNet from the direction warm-up (%s)", warmed_up_unet(run))
    elif cfg.init_from:
        logger.info("warm-started the UNet from %s", cfg.init_from)
    unet, optimizer = accelerator.prepare(unet, optimizer)
    gen = torch.Generator().manual_seed(cfg.seed * 1000 + step * 7 + accelerator.process_index)
    frames = latents.shape[2]
    mixed = direction_clips_per_batch(cfg)
    direction = DirectionBatches.build(cfg, run) if mixed else None
    unet.train()
    running, t0 = 0.0, time.time()
    ema_params = list(ema.parameters())
    while step < cfg.unet_steps:
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step, cfg.unet_lr, cfg.warmup, cfg.unet_steps)
        idx = torch.randint(0, len(latents), (cfg.unet_batch,), generator=gen)
        caption_idx = idx * per_clip + torch.randint(0, per_clip, (cfg.unet_batch,), generator=gen)
        drop = torch.rand(cfg.unet_batch, generator=gen) < cfg.caption_dropout
        caption_idx[drop] = empty_index
        x0, cond = latents[idx], text[caption_idx].float()
        noise = torch.randn(x0.shape, generator=gen)
        timesteps = torch.randint(0, scheduler.config.num_train_timesteps, (cfg.unet_batch,), generator=gen)
        if mixed:  # off, nothing more is drawn from gen: the batches of earlier runs
            drawn = direction.draw(mixed, gen, scheduler.config.num_train_timesteps)
            x0, cond, noise, timesteps = (torch.cat([d, b[mixed:]]) for d, b in zip(drawn, (x0, cond, noise, timesteps),
                                                                                   strict=True))
        cond = cond.repeat_interleave(frames, dim=0)  # the pipeline gives each frame its prompt
        loss = diffusion_loss(unet, scheduler, x0, noise, timesteps, cond, cfg.snr_gamma)
        optimizer.zero_grad(set_to_none=True)
        accelerator.backward(loss)
        accelerator.clip_grad_norm_(unet.parameters(), 1.0)
        optimizer.step()
        step += 1
        ema_update(ema_params, list(accelerator.unwrap_model(unet).parameters()), step, cfg.ema_decay)
        running += loss.item()
        if step % cfg.log_every == 0 and accelerator.is_main_process:
            rate = cfg.log_every / (time.time() - t0)
            logger.info("unet step %d/%d loss %.4f lr %.2e %.2f steps/s", step, cfg.unet_steps,
                        running / cfg.log_every, optimizer.param_groups[0]["lr"], rate)
            running, t0 = 0.0, time.time()
        if (step % cfg.checkpoint_every == 0 or step == cfg.unet_steps) and accelerator.is_main_process:
            save_state(ckpt, models={"unet": accelerator.unwrap_model(unet), "ema": ema}, optimizer=optimizer,
                       meta={"step": step, "config": asdict(cfg)})
    accelerator.wait_for_everyone()
