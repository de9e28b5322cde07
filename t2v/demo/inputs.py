"""Form values checked on the server: a request through the API can send anything the page would not."""

from __future__ import annotations

import math
from typing import Any

MAX_SEED = 2**31 - 1
MAX_STEPS = 100
MAX_GUIDANCE = 20.0


def text(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name}: give some text")
    return value.strip()


def integer(value: Any, name: str, low: int, high: int) -> int:
    """``value`` (a number field gives a float) as an int in ``[low, high]``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or int(value) != value or not low <= value <= high:
        raise ValueError(f"{name} must be a whole number in [{low}, {high}], got {value!r}")
    return int(value)


def number(value: Any, name: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ValueError(f"{name} must be a number in [{low:g}, {high:g}], got {value!r}")
    return float(value)


def sampling(seed: Any, steps: Any, guidance: Any) -> tuple[int, int, float]:
    """The seed, denoising steps and guidance every generating tab takes."""
    return (integer(seed, "Seed", 0, MAX_SEED), integer(steps, "Steps", 1, MAX_STEPS),
            number(guidance, "Guidance", 0.0, MAX_GUIDANCE))


def session(request: Any) -> str:
    """The browser session a request belongs to (the cancel button finds its run by it)."""
    return getattr(request, "session_hash", None) or "anonymous"
