"""The ``accelerate`` process group that multi-process commands (batch evaluation, training) share."""

from __future__ import annotations

from typing import Any


def process_state() -> Any:
    """The ``accelerate`` process state; processes launched on a machine without CUDA (or with
    ``ACCELERATE_USE_CPU``) join a CPU (gloo) group instead of running alone."""
    from accelerate import PartialState

    return PartialState(cpu=uses_cpu())


def uses_cpu() -> bool:
    """True when processes should compute (and communicate) on the CPU."""
    import torch
    from accelerate.utils import parse_flag_from_env

    return parse_flag_from_env("ACCELERATE_USE_CPU") or not torch.cuda.is_available()
