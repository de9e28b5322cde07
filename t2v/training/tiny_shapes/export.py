"""Stage ``export``: the shippable folder (EMA UNet, VAE, sampling scheduler, model card)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import torch

from ...models.architecture import TEXT_MAX_LENGTH, build_sample_scheduler
from ...models.tiny_shapes import model_card, save_tiny_shapes_format
from ..checkpoint import find_state, load_state
from .config import TrainConfig
from .run_folder import run_vae, warmed_up_unet
from .unet import initial_unet


def export(cfg: TrainConfig, run: Path, target: Path) -> Path:
    """Write the shippable folder: EMA UNet, VAE, sampling scheduler and the model card."""
    from diffusers import AutoencoderKL

    ema = initial_unet(cfg, run)  # only the EMA weights are shipped
    if find_state(run / "unet_checkpoint") is None and cfg.init_from and warmed_up_unet(run) is None:
        # No UNet stage in this run (say, only a new decoder): the warm-start model's UNet ships unchanged.
        if cfg.decoder_encoder_lr > 0:
            raise ValueError("decoder_encoder_lr > 0 changed the latent space, so the warm-start UNet no longer "
                             "fits it: run the encode and unet stages before exporting")
        init_card = model_card(cfg.init_from)
        unet_steps = init_card["unet_steps"]
        unet_config = init_card.get("unet_train_config", init_card["train_config"])
    else:
        unet_config = None
        unet_steps = load_state(run / "unet_checkpoint", models={"ema": ema}, optimizer=None)["step"]
    ema.to(torch.float16)  # half the download; loading computes in float32
    card = {
        "name": "tiny-shapes",
        "size": cfg.model.size,
        "frames": cfg.model.frames,
        "fps": 8,
        "text_max_length": TEXT_MAX_LENGTH,
        "unet_steps": unet_steps,
        "train_config": asdict(cfg),
    }
    if unet_config is not None:
        card["unet_train_config"] = unet_config  # the run that trained the shipped UNet
    return save_tiny_shapes_format(target, unet=ema, vae=AutoencoderKL.from_pretrained(run_vae(run)),
                                   scheduler=build_sample_scheduler(cfg.model), card=card)
