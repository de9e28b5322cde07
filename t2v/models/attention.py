"""Attention backends of UNet pipelines: PyTorch SDPA (diffusers' default processors) or xFormers.

diffusers also has a process-wide ``set_attention_backend`` (flash, sage, flex, ...), but only models built
on its attention dispatcher (the transformer video models) read it: a UNet's attention processors call
SDPA directly and ignore it, while the setting stays on for everything else in the process. So on UNet
models those names are refused rather than silently doing nothing.

xFormers runs only with the package installed and the pipeline on a CUDA device; otherwise the
pipeline keeps SDPA and a warning says why, once per process.
"""

from __future__ import annotations

import logging
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


def check_attention(attention: Any) -> str:
    """``attention`` if it is a backend UNet pipelines can use; a ValueError naming ``attention`` (and saying
    why a diffusers dispatcher backend does not apply) otherwise."""
    if attention in ATTENTION_BACKENDS:
        return attention
    allowed = " or ".join(repr(name) for name in ATTENTION_BACKENDS)
    if isinstance(attention, str) and attention in _diffusers_backend_names():
        raise ValueError(
            f"attention {attention!r} is a diffusers dispatcher backend, which UNet models do not use: "
            f"set_attention_backend leaves their attention processors as they are yet switches the backend for "
            f"the whole process; use {allowed}")
    raise ValueError(f"attention must be {allowed}, got {attention!r}")


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


def set_attention(pipe, attention: str = "sdpa") -> str:
    """Put ``pipe``'s UNet (and VAE) on the ``attention`` backend; returns the backend in use.

    ``"sdpa"`` keeps the processors the pipeline has (diffusers' defaults call PyTorch's
    ``scaled_dot_product_attention``). ``"xformers"`` calls ``enable_xformers_memory_efficient_attention``;
    when xFormers cannot run, a warning is logged once and the processors stay as they were.
    """
    check_attention(attention)
    if attention == "sdpa":
        return "sdpa"
    if not hasattr(pipe, "unet"):
        raise ValueError(f"attention {attention!r} is for UNet pipelines; {type(pipe).__name__} has no UNet")
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
