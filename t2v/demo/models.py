"""The models the server knows: a fixed list set when the app starts, each loaded once, on first use.

The page offers only these names; a name from a request that is not on the list is refused, so no request
can make the server load a path or hub id of its choosing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any

logger = logging.getLogger(__name__)


class ModelRegistry:
    """``load_pipeline`` names (``"tiny-shapes"``, folders or hub ids the operator listed), loaded lazily."""

    def __init__(self, names: Sequence[str], device: str | None = None) -> None:
        if not names:
            raise ValueError("models: list at least one model")
        self.names: tuple[str, ...] = tuple(dict.fromkeys(names))
        self.device = device
        self._loaded: dict[str, Any] = {}
        self._lock = threading.Lock()

    @property
    def default(self) -> str:
        return self.names[0]

    def get(self, name: str | None) -> Any:
        """The loaded base pipeline for ``name`` (the default when None)."""
        from t2v.models import load_pipeline

        name = self.default if name is None else name
        if name not in self.names:
            raise ValueError(f"model must be one of {list(self.names)}, got {name!r}")
        with self._lock:
            if name not in self._loaded:
                logger.info("loading model %s", name)
                self._loaded[name] = load_pipeline(name, device=self.device)
            return self._loaded[name]
