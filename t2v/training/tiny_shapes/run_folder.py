"""Where a tiny-shapes run keeps what its stages made, and how a stage knows another has finished.

Each stage writes its output atomically, so "the folder has a ``config.json``" means "that stage is done".
"""

from __future__ import annotations

from pathlib import Path

TUNED_VAE = "vae_decoder"
WARMUP_UNET = "direction_unet"
DIRECTION_DATA = "direction_data.safetensors"


def run_vae(run: Path) -> Path:
    """The VAE folder a run exports: the fine-tuned decoder's once that stage has saved it."""
    tuned = run / TUNED_VAE
    return tuned if (tuned / "config.json").exists() else run / "vae"


def warmed_up_unet(run: Path) -> Path | None:
    """The run's direction-warm-up UNet folder, once the warm-up has saved it; else None."""
    folder = run / WARMUP_UNET
    return folder if (folder / "config.json").exists() else None
