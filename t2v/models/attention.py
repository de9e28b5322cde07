"""Attention backends: PyTorch SDPA, xFormers, and on Wan's transformer diffusers' dispatcher backends.

UNet models (AnimateDiff, tiny-shapes) take ``"sdpa"`` (diffusers' default processors) or ``"xformers"``.
diffusers' process-wide dispatcher backends (flash, sage, flex, ...) are refused there: a UNet's attention
processors call SDPA directly and ignore them, while ``set_attention_backend`` would switch the backend for
everything else in the process.

Wan's transformer is built on the dispatcher, so it takes any of diffusers' backend names
(``transformer.set_attention_backend``, on both experts); ``"sdpa"`` keeps diffusers' ``native`` SDPA and
``"xformers"`` is the dispatcher's xFormers. A backend can be accepted on a machine and still fail in the
forward pass (``_native_cudnn`` on a CPU, flash attention in fp32), so the choice is probed with one tiny
attention forward on the pipeline's device and dtype; when setting or probing fails, the processors go back as
they were, one warning per process says why, and SDPA runs. The process-wide active backend, which
``set_attention_backend`` also switches, is put back: only the Wan processors change. The ``*_hub`` backends
download their kernels from the Hugging Face Hub at load time, so offline (``HF_HUB_OFFLINE``) they are refused.

xFormers on a UNet runs only with the package installed and the pipeline on a CUDA device; otherwise the
pipeline keeps SDPA and a warning says why, once per process.
"""

from __future__ import annotations

import logging
import os
from typing import Any

logger = logging.getLogger(__name__)

ATTENTION_BACKENDS: tuple[str, ...] = ("sdpa", "xformers")

_warned: set[str] = set()


def _diffusers_backend_names() -> tuple[str, ...]:
    try:
        from diffusers.models.attention_dispatch import AttentionBackendName
    except ImportError:  # an older diffusers without the dispatcher
        return ()
    return tuple(backend.value for backend in AttentionBackendName)


def _offline() -> bool:
    """Whether the Hugging Face Hub is off limits (``HF_HUB_OFFLINE``, read now, or as huggingface_hub read it)."""
    if os.environ.get("HF_HUB_OFFLINE", "").strip().upper() in ("1", "ON", "YES", "TRUE"):
        return True
    try:
        from huggingface_hub import constants
    except ImportError:
        return False
    return bool(constants.HF_HUB_OFFLINE)


def check_attention(attention: Any, *, transformer: bool | None = None) -> str:
    """``attention`` if it is a backend the model can use; a ValueError naming ``attention`` otherwise.

    ``transformer``: True for a transformer (Wan) model, which takes diffusers' backend names too; False for a
    UNet, which refuses them saying why; None when the kind is not known yet (both kinds' names pass).
    """
    if attention in ATTENTION_BACKENDS:
        return attention
    allowed = " or ".join(repr(name) for name in ATTENTION_BACKENDS)
    dispatcher = _diffusers_backend_names()
    if isinstance(attention, str) and attention in dispatcher:
        if transformer is False:
            raise ValueError(
                f"attention {attention!r} is a diffusers dispatcher backend, which UNet models do not use: "
                f"set_attention_backend leaves their attention processors as they are yet switches the backend "
                f"for the whole process; use {allowed}")
        if attention.endswith("_hub") and _offline():
            raise ValueError(f"attention {attention!r} downloads its kernel from the Hugging Face Hub, which is "
                             f"offline here (HF_HUB_OFFLINE); use {allowed} or an installed backend (flash, sage)")
        return attention
    public = ", ".join(name for name in dispatcher if not name.startswith("_"))
    raise ValueError(f"attention must be {allowed}" + (f", or on Wan models one of diffusers' backends ({public})"
                                                       if public else "") + f", got {attention!r}")


def _warn_once(message: str) -> None:
    if message not in _warned:
        _warned.add(message)
        logger.warning(message)


def _xformers_unavailable(pipe) -> str | None:
    """Why xFormers cannot run for ``pipe``, or None when it can."""
    import torch
    from diffusers.utils import is_xformers_available

    if not is_xformers_available():
        return "xformers is not installed (pip install 't2v[xformers]')"
    if not torch.cuda.is_available():
        return "xformers needs CUDA, which is not available"
    device = pipe._execution_device
    if torch.device(device).type != "cuda":
        return f"xformers needs the pipeline on a CUDA device, and it runs on {device}"
    return None


def _attention_models(pipe) -> dict[str, Any]:
    """The pipeline's models that have attention processors, by component name."""
    return {name: module for name, module in pipe.components.items() if hasattr(module, "attn_processors")}


def _transformers(pipe) -> list[Any]:
    """The pipeline's dispatcher-based transformers (both experts of a two-expert Wan model)."""
    if getattr(pipe, "unet", None) is not None:
        return []
    return [model for name in ("transformer", "transformer_2")
            if (model := getattr(pipe, name, None)) is not None and hasattr(model, "set_attention_backend")]


def _dispatch_processors(model) -> list[Any]:
    return [module.processor for module in model.modules()
            if hasattr(getattr(module, "processor", None), "_attention_backend")]


def _probe(model, backend: str, device) -> None:
    """One attention forward of a tiny random Wan attention module with ``backend``, on ``device`` and in the
    model's dtype, with the model's head size; raises what the backend raises. Cheap at any model size, and it
    runs where the model will run even when offloading keeps the weights on the CPU."""
    import torch
    from diffusers.models.transformers.transformer_wan import WanAttention, WanAttnProcessor

    head_dim = int(getattr(model.config, "attention_head_dim", 64))
    heads = 2
    processor = WanAttnProcessor()
    processor._attention_backend = backend  # on the instance: the class default stays None
    probe = WanAttention(dim=heads * head_dim, heads=heads, dim_head=head_dim, eps=1e-6, processor=processor)
    probe = probe.to(device=device, dtype=model.dtype).eval()
    generator = torch.Generator().manual_seed(0)
    video = torch.randn(1, 16, heads * head_dim, generator=generator).to(device=device, dtype=model.dtype)
    text = torch.randn(1, 8, heads * head_dim, generator=generator).to(device=device, dtype=model.dtype)
    with torch.no_grad():
        for out in (probe(video), probe(video, encoder_hidden_states=text)):
            if not torch.isfinite(out).all():
                raise RuntimeError("the probe's output is not finite")


def _set_transformer_backend(pipe, models: list[Any], attention: str) -> str:
    """``set_attention_backend`` on every transformer and a probe; SDPA and one warning when either fails."""
    from diffusers.models.attention_dispatch import _AttentionBackendRegistry

    backend = {"sdpa": "native"}.get(attention, attention)
    found = [(processor, processor.__dict__.get("_attention_backend", None), "_attention_backend" in
              processor.__dict__) for model in models for processor in _dispatch_processors(model)]
    active = _AttentionBackendRegistry._active_backend
    try:
        for model in models:
            model.set_attention_backend(backend)
            _probe(model, backend, pipe._execution_device)
        return attention
    except Exception as err:  # noqa: BLE001 - any failure of a backend means it cannot run here
        for processor, value, own in found:  # every processor back as it was
            if own:
                processor._attention_backend = value
            else:
                processor.__dict__.pop("_attention_backend", None)
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        _warn_once(f"attention {attention!r} cannot run here ({reason}); using PyTorch SDPA attention")
        return "sdpa"
    finally:
        _AttentionBackendRegistry.set_active_backend(active)  # the process-wide default stays as it was


def set_attention(pipe, attention: str = "sdpa") -> str:
    """Put ``pipe``'s attention on the ``attention`` backend; returns the backend in use (``"sdpa"`` after a
    fallback).

    UNet pipelines: ``"sdpa"`` keeps the processors the pipeline has (diffusers' defaults call PyTorch's
    ``scaled_dot_product_attention``); ``"xformers"`` calls ``enable_xformers_memory_efficient_attention``, and
    when xFormers cannot run, a warning is logged once and the processors stay as they were.

    Transformer (Wan) pipelines: ``"sdpa"`` keeps diffusers' native SDPA; ``"xformers"`` or a diffusers backend
    name goes to ``set_attention_backend`` on each expert, probed with one tiny forward; when it cannot run, the
    processors stay as they were and one warning says why.
    """
    models = _transformers(pipe)
    check_attention(attention, transformer=True if models else (False if hasattr(pipe, "unet") else None))
    if attention == "sdpa":
        return "sdpa"
    if models:
        return _set_transformer_backend(pipe, models, attention)
    if not hasattr(pipe, "unet"):
        raise ValueError(f"attention {attention!r} is for UNet or Wan pipelines; {type(pipe).__name__} has neither")
    reason = _xformers_unavailable(pipe)
    if reason is None:
        found = {name: dict(model.attn_processors) for name, model in _attention_models(pipe).items()}
        try:
            pipe.enable_xformers_memory_efficient_attention()
            return "xformers"
        except (ImportError, ValueError, RuntimeError, NotImplementedError) as err:
            for name, processors in found.items():  # a model half switched goes back as it was
                getattr(pipe, name).set_attn_processor(processors)
            reason = f"xformers could not run ({str(err).splitlines()[0] if str(err) else type(err).__name__})"
    _warn_once(f"attention 'xformers': {reason}; using PyTorch SDPA attention")
    return "sdpa"
