"""Train the embedded ``tiny-shapes`` text-to-video model on rendered shapes-world clips.

    python -m t2v.training.tiny_shapes --out runs/tiny-shapes            # all stages, resumes if interrupted
    accelerate launch -m t2v.training.tiny_shapes --out runs/tiny-shapes # the same on several processes
    python -m t2v.training.tiny_shapes --out runs/tiny-shapes --stage export --export t2v/weights/tiny-shapes

Stages, each skipped when its output exists, each resumable from its last checkpoint:
1. ``data``: render clips of random scenes (held-out attribute combinations excluded) and caption them;
2. ``vae``: train the small VAE on single frames, then fix its latent scaling factor;
   ``decoder`` (when ``--decoder-steps`` > 0): sharpen the decoder with the encoder frozen, object pixels
   weighted up (:mod:`t2v.training.tiny_shapes.decoder`); the latents, and so any trained UNet, stay valid;
3. ``encode``: encode every clip to latents and every caption to MiniLM hidden states, once;
4. ``direction`` (when ``--direction-steps`` > 0): a short warm-up on centred clips at high noise that
   makes direction words steer (:mod:`t2v.training.tiny_shapes.direction`); the ``unet`` stage goes on from it;
5. ``unet``: train the video UNet (v-prediction, min-SNR weighting, EMA) on the cached latents;
6. ``export``: write a diffusers folder (EMA UNet, VAE with the fine-tuned decoder if any, scheduler) that
   :func:`t2v.models.load_pipeline` loads.
"""

from __future__ import annotations

import argparse
import json
import logging
from dataclasses import asdict, fields
from pathlib import Path

import numpy as np
import torch

from ...processes import process_state
from ..checkpoint import find_state
from .config import STAGES, TrainConfig
from .data import caption_dataset, encode_dataset, make_dataset
from .decoder import finetune_decoder
from .direction import DirectionBatches, warm_up_directions
from .export import export
from .run_folder import DIRECTION_DATA, TUNED_VAE, warmed_up_unet
from .unet import direction_clips_per_batch, initial_unet, train_unet
from .vae import train_vae

logger = logging.getLogger(__name__)


def refuse_stale_latents(run: Path) -> None:
    """A new encoder would leave this run's cached latents and UNets on the old latent space, and
    the stages that make them skip once their output exists: ask for a fresh run folder instead."""
    made = (run / "data" / "encoded.safetensors", run / DIRECTION_DATA, warmed_up_unet(run),
            find_state(run / "unet_checkpoint"))
    stale = [p for p in made if p is not None and p.exists()]
    if stale:
        raise ValueError(f"decoder_encoder_lr > 0 would change the latent space under {', '.join(map(str, stale))}; "
                         "train the encoder in a fresh --out folder (it can start from --init-from)")


def run(cfg: TrainConfig, stages: tuple[str, ...] = STAGES, export_to: Path | None = None) -> None:
    """Run ``stages`` in order. Under ``accelerate launch`` the UNet stage trains on every process;
    the others write shared files, so the main process runs them while the rest wait."""
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    state = process_state()
    run_dir = Path(cfg.out)
    if state.is_main_process:
        prepare(cfg, run_dir, stages)
    state.wait_for_everyone()
    if "unet" in stages:
        train_unet(cfg, run_dir)
    if "export" in stages and state.is_main_process:
        path = export(cfg, run_dir, export_to or run_dir / "tiny-shapes")
        logger.info("exported %s", path)


def prepare(cfg: TrainConfig, run_dir: Path, stages: tuple[str, ...]) -> None:
    """The single-process stages before the UNet stage: data, VAE, decoder, encode, direction warm-up."""
    data_dir = run_dir / "data"
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "config.json").write_text(json.dumps(asdict(cfg), indent=2))
    if "data" in stages and not (data_dir / "clips.npy").exists():
        make_dataset(cfg, data_dir)
    tune_decoder = "decoder" in stages and cfg.decoder_steps > 0 and not (run_dir / TUNED_VAE / "config.json").exists()
    if tune_decoder and cfg.decoder_encoder_lr > 0:
        refuse_stale_latents(run_dir)
    needs_data = tune_decoder or any(s in stages for s in ("vae", "encode"))
    clips = np.load(data_dir / "clips.npy", mmap_mode="r") if needs_data else None
    vae_source = cfg.vae_from or cfg.init_from
    if vae_source and not (run_dir / "vae" / "config.json").exists():
        from diffusers import AutoencoderKL

        AutoencoderKL.from_pretrained(Path(vae_source) / "vae").save_pretrained(run_dir / "vae")
    if "vae" in stages and not (run_dir / "vae" / "config.json").exists():
        train_vae(cfg, run_dir, np.asarray(clips))
    if tune_decoder:
        finetune_decoder(cfg, run_dir, clips)
    if "encode" in stages and not (data_dir / "encoded.safetensors").exists():
        caps = caption_dataset(cfg, data_dir)
        encode_dataset(cfg, run_dir, np.asarray(clips), caps)
    if "direction" in stages and cfg.direction_steps > 0 and warmed_up_unet(run_dir) is None:
        warm_up_directions(cfg, run_dir, initial_unet(cfg))
    if "unet" in stages and direction_clips_per_batch(cfg):
        DirectionBatches.build(cfg, run_dir)  # cached here, so the UNet stage's processes only read it


def parse_args(argv: list[str] | None = None) -> tuple[TrainConfig, tuple[str, ...], Path | None]:
    parser = argparse.ArgumentParser(prog="python -m t2v.training.tiny_shapes", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    for f in fields(TrainConfig):
        parser.add_argument(f"--{f.name.replace('_', '-')}", type=type(f.default), default=f.default,
                            help=f.metadata.get("help"))
    parser.add_argument("--stage", action="append", choices=STAGES,
                        help="run only these stages (repeatable); default: all")
    parser.add_argument("--export", type=Path, default=None, help="folder to export the model to")
    args = parser.parse_args(argv)
    values = {f.name: getattr(args, f.name) for f in fields(TrainConfig)}
    return TrainConfig(**values), tuple(args.stage or STAGES), args.export


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    cfg, stages, export_to = parse_args(argv)
    run(cfg, stages, export_to)
