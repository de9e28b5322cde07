"""Direction warm-up: a short UNet stage that makes direction words steer which way objects move.

Why it exists: a UNet trained only on the ordinary clips lets "left"/"right", "up"/"down" and
"grow"/"shrink" decide nothing (:mod:`t2v.training.tiny_shapes.steering` measures a steer of 0). At low noise the
direction is already visible in the noisy clip; at high noise, with objects starting anywhere,
the mean clip of "moving up" barely moves, so the path from the words to the frame index (the
motion modules' positional embedding) gets almost no gradient and never leaves its saddle. Here
every path is centred in the frame, so the mean clip of a direction clearly moves that way, and
only the noisiest timesteps are trained, where the words are all the model has to go on. A few
hundred steps leave the saddle; the ordinary ``unet`` stage then goes on from these weights.
"""

from __future__ import annotations

import logging
import os
import random
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from ...models.architecture import TEXT_MAX_LENGTH, build_train_scheduler, load_text_encoder, load_tokenizer
from ...world.captions import captions
from ...world.holdout import spec_is_heldout
from ...world.render import render
from ...world.sampling import sample_spec
from ...world.spec import TRANSLATIONS, TRAVEL, WorldSpec
from ..checkpoint import StageProgress, resume_step, save_pretrained_atomically
from ..common import apply_gradients, diffusion_loss, encode_clips, encode_text
from .run_folder import DIRECTION_DATA, WARMUP_UNET, run_vae

logger = logging.getLogger(__name__)

DIRECTIONAL_MOTIONS = ("left", "right", "up", "down", "grow", "shrink")



def centred_direction_specs(n: int, seed: int, frames: int, size: int) -> list[WorldSpec]:
    """``n`` one-object scenes with a directional motion whose path is centred in the frame.

    Held-out attribute combinations are excluded, as in the ordinary data, and the camera stays still.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    rng = random.Random(seed)
    specs: list[WorldSpec] = []
    while len(specs) < n:
        spec = sample_spec(rng, frames=frames, size=size, two_objects=0.0, camera_pan=0.0)
        obj = spec.objects[0]
        if obj.motion not in DIRECTIONAL_MOTIONS or spec_is_heldout(spec):
            continue
        dx, dy = TRANSLATIONS.get(obj.motion, (0.0, 0.0))  # growing and shrinking shapes sit at the centre
        centred = replace(obj, x=0.5 - dx * TRAVEL / 2, y=0.5 - dy * TRAVEL / 2)
        specs.append(replace(spec, objects=(centred,)))
    return specs


@dataclass
class DirectionBatches:
    """The centred clips, encoded once, and batches of them at the noisiest timesteps."""

    latents: torch.Tensor  # (clips, C, F, h, w)
    text: torch.Tensor  # (clips, tokens, dim): one phrasing per clip
    empty: torch.Tensor  # the empty caption's states, for caption dropout
    min_timestep: int
    caption_dropout: float

    @classmethod
    def build(cls, cfg, run: Path) -> DirectionBatches:
        """The run's cached centred clips, or else render, caption and encode ``cfg.direction_clips`` of them
        with the run's VAE (the same on each resume) and cache them, for the UNet stage and its processes."""
        cache = run / DIRECTION_DATA
        key = {"clips": str(cfg.direction_clips), "seed": str(cfg.seed), "frames": str(cfg.model.frames),
               "size": str(cfg.model.size)}
        if cache.exists():
            with safe_open(str(cache), "pt") as f:
                if f.metadata() == key:
                    tensors = {name: f.get_tensor(name) for name in f.keys()}
                    return cls(tensors["latents"], tensors["text"], tensors["empty"], cfg.direction_min_timestep,
                               cfg.caption_dropout)
        data = cls._encode(cfg, run)
        partial = cache.with_name(f"{cache.name}.{os.getpid()}.tmp")  # processes may race: each its own file
        save_file({"latents": data.latents, "text": data.text, "empty": data.empty}, str(partial), metadata=key)
        partial.replace(cache)
        return data

    @classmethod
    def _encode(cls, cfg, run: Path) -> DirectionBatches:
        from diffusers import AutoencoderKL


        preset = cfg.model
        specs = centred_direction_specs(cfg.direction_clips, cfg.seed + 2, preset.frames, preset.size)
        vae = AutoencoderKL.from_pretrained(run_vae(run)).eval()
        tokenizer, text_encoder = load_tokenizer(TEXT_MAX_LENGTH), load_text_encoder()
        rng = random.Random(cfg.seed + 3)
        latents, texts = [], []
        with torch.no_grad():
            for start in range(0, len(specs), 64):
                batch = specs[start:start + 64]
                latents.append(encode_clips(vae, np.stack([render(s) for s in batch])))
                phrasings = [captions(s, rng, n=1, vocabulary="train")[0] for s in batch]
                texts.append(encode_text(tokenizer, text_encoder, phrasings))
            empty = encode_text(tokenizer, text_encoder, [""])[0]
        return cls(torch.cat(latents), torch.cat(texts), empty, cfg.direction_min_timestep, cfg.caption_dropout)

    def draw(self, n: int, gen: torch.Generator, num_train_timesteps: int):
        """``n`` clips, their caption states (one per clip), noise, and timesteps from ``min_timestep`` up."""
        idx = torch.randint(0, len(self.latents), (n,), generator=gen)
        cond = self.text[idx].float()
        cond[torch.rand(n, generator=gen) < self.caption_dropout] = self.empty.float()
        x0 = self.latents[idx]
        noise = torch.randn(x0.shape, generator=gen)
        timesteps = torch.randint(self.min_timestep, num_train_timesteps, (n,), generator=gen)
        return x0, cond, noise, timesteps


def warm_up_directions(cfg, run: Path, initial_unet) -> Path:
    """Train ``initial_unet`` for ``cfg.direction_steps`` steps on centred clips at high noise; save it.

    The learning rate is constant: the point is to leave a saddle, not to settle in a minimum.
    """
    data = DirectionBatches.build(cfg, run)
    unet = initial_unet
    optimizer = torch.optim.AdamW(unet.parameters(), lr=cfg.direction_lr, weight_decay=1e-2)
    scheduler = build_train_scheduler(cfg.model)
    ckpt = run / "direction_checkpoint"
    step = resume_step(ckpt, models={"unet": unet}, optimizer=optimizer, stage="the direction warm-up")
    progress = StageProgress("direction warm-up", cfg.direction_steps, ckpt, {"unet": unet}, optimizer,
                             log_every=cfg.log_every, checkpoint_every=cfg.checkpoint_every)
    gen = torch.Generator().manual_seed(cfg.seed * 1000 + 1 + step * 7)
    frames = data.latents.shape[2]
    unet.train()
    while step < cfg.direction_steps:
        x0, cond, noise, timesteps = data.draw(cfg.unet_batch, gen, scheduler.config.num_train_timesteps)
        loss = diffusion_loss(unet, scheduler, x0, noise, timesteps, cond.repeat_interleave(frames, dim=0),
                              snr_gamma=0.0)
        apply_gradients(loss, unet, optimizer)
        step += 1
        progress.after(step, loss.item())
    unet.eval()
    return save_pretrained_atomically(unet, run / WARMUP_UNET)
