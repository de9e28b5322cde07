"""A small on-disk cache of JSON values keyed by content hashes.

LLM calls are slow and often repeated verbatim (the same prompt evaluated twice, a re-run of a
batch), so their answers are kept as one JSON file per request. Files are written to a temporary
name and renamed, so an interrupted run never leaves a half-written entry behind.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

CACHE_ENV = "T2V_CACHE"


def cache_root() -> Path:
    """t2v's cache folder: ``$T2V_CACHE`` when set, else ``~/.cache/t2v``."""
    env = os.environ.get(CACHE_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "t2v"


def content_key(payload: Any) -> str:
    """A stable SHA-256 hex digest of a JSON-serialisable payload (dict keys sorted)."""
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class JsonCache:
    """JSON values stored as ``<folder>/<key[:2]>/<key>.json``; unreadable entries count as misses."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder).expanduser()
        if self.folder.exists() and not self.folder.is_dir():
            raise ValueError(f"cache_dir must be a folder, got the file {str(self.folder)!r}")

    def path(self, key: str) -> Path:
        if len(key) < 3 or not all(c in "0123456789abcdef" for c in key):
            raise ValueError(f"key must be a lowercase hex digest, got {key!r}")
        return self.folder / key[:2] / f"{key}.json"

    def get(self, key: str) -> Any | None:
        """The value stored under ``key``, or None when absent or unreadable."""
        file = self.path(key)
        try:
            with file.open(encoding="utf-8") as handle:
                return json.load(handle)["value"]
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as err:
            logger.warning("ignoring unreadable cache entry %s: %s", file, err)
            return None

    def put(self, key: str, value: Any) -> Path:
        """Store ``value`` atomically (temp file in the same folder, then rename)."""
        file = self.path(key)
        file.parent.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=file.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump({"value": value}, out, ensure_ascii=False)
            os.replace(tmp, file)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return file
