"""Stage ``data`` and ``encode``: rendered clips of the training split, their captions, and their latents.

Held-out attribute combinations (:mod:`t2v.world.holdout`) never enter the training data.
"""

from __future__ import annotations

import logging
import random
import time
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

from ...models.architecture import TEXT_MAX_LENGTH, load_text_encoder, load_tokenizer
from ...world.captions import captions
from ...world.holdout import sample_training_spec
from ...world.render import render
from ...world.spec import NOUN_ATTRIBUTES, WorldSpec
from ..common import encode_clips, encode_text
from .config import TrainConfig
from .run_folder import run_vae

logger = logging.getLogger(__name__)


def make_dataset(cfg: TrainConfig, folder: Path) -> None:
    """Render ``cfg.clips`` clips of random scenes, held-out attribute combinations excluded."""
    rng = random.Random(cfg.seed)
    preset = cfg.model
    clips = np.empty((cfg.clips, preset.frames, preset.size, preset.size, 3), dtype=np.uint8)
    lines = []
    start = time.time()
    i = 0
    while i < cfg.clips:
        spec = sample_training_spec(rng, frames=preset.frames, size=preset.size, two_objects=cfg.two_objects)
        clips[i] = render(spec)
        lines.append(spec.to_json())
        i += 1
        if i % 2000 == 0:
            logger.info("rendered %d/%d clips (%.0f s)", i, cfg.clips, time.time() - start)
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / "clips.tmp.npy", clips)
    (folder / "specs.tmp.jsonl").write_text("\n".join(lines) + "\n")
    (folder / "specs.tmp.jsonl").replace(folder / "specs.jsonl")
    (folder / "clips.tmp.npy").replace(folder / "clips.npy")


def caption_dataset(cfg: TrainConfig, folder: Path) -> list[list[str]]:
    """Several training-vocabulary phrasings of every clip's scene (never the held-out synonyms)."""
    rng = random.Random(cfg.seed + 1)
    tokenizer = load_tokenizer(TEXT_MAX_LENGTH)

    def fits(text: str) -> bool:  # a truncated caption would teach the model a scene it does not show
        return len(tokenizer(text).input_ids) <= TEXT_MAX_LENGTH

    specs = [WorldSpec.from_json(line) for line in (folder / "specs.jsonl").read_text().splitlines()]
    per_clip = []
    for spec in specs:
        phrasings = captions(spec, rng, n=cfg.captions_per_clip, vocabulary="train", keep=fits)
        # Exactly captions_per_clip each (repeating if a scene has fewer phrasings): training indexes by it.
        chosen = [phrasings[i % len(phrasings)] for i in range(cfg.captions_per_clip)]
        if cfg.attribute_dropout > 0:  # off, it draws nothing more from rng: the data of earlier runs
            for i in range(len(chosen)):
                if rng.random() < cfg.attribute_dropout:
                    omit = [rng.choice(NOUN_ATTRIBUTES)]
                    shorter = captions(spec, rng, n=1, vocabulary="train", keep=fits, omit=omit)
                    chosen[i] = shorter[0] if shorter else chosen[i]
        per_clip.append(chosen)
    return per_clip


def encode_dataset(cfg: TrainConfig, run: Path, clips: np.ndarray, captions: list[list[str]]) -> None:
    from diffusers import AutoencoderKL

    vae = AutoencoderKL.from_pretrained(run_vae(run)).eval()
    latents = [encode_clips(vae, clips[start:start + 64]) for start in range(0, len(clips), 64)]
    tokenizer, text_encoder = load_tokenizer(TEXT_MAX_LENGTH), load_text_encoder()
    flat = [c for per_clip in captions for c in per_clip] + [""]
    embeds = []
    start_time = time.time()
    for start in range(0, len(flat), 128):
        embeds.append(encode_text(tokenizer, text_encoder, flat[start:start + 128]).half())
        if start % 6400 == 0:
            logger.info("encoded %d/%d captions (%.0f s)", start, len(flat), time.time() - start_time)
    save_file(
        {"latents": torch.cat(latents), "text": torch.cat(embeds)},
        str(run / "data" / "encoded.tmp.safetensors"),
    )
    (run / "data" / "encoded.tmp.safetensors").replace(run / "data" / "encoded.safetensors")
