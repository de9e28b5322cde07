"""The demo's own temp folder: every file the app writes or serves lives under it, and old runs are removed.

Gradio serves a file from its cache folder (``GRADIO_TEMP_DIR``); pointing that at a folder made for this
app, and writing each request's outputs into a fresh run folder inside it, means nothing outside the app's
folder is ever served, and one user's run never overwrites another's. Gradio's ``delete_cache`` ages out
the copies it makes; the janitor here ages out the run folders the handlers write.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
import time
import uuid
from pathlib import Path

logger = logging.getLogger(__name__)


class Workspace:
    """A fresh temp folder with ``gradio/`` (Gradio's cache and uploads), ``runs/`` and ``samples/``."""

    def __init__(self, parent: str | os.PathLike | None = None) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="t2v-demo-", dir=parent)).resolve()
        self.gradio = self.root / "gradio"
        self.runs = self.root / "runs"
        self.samples = self.root / "samples"
        for folder in (self.gradio, self.runs, self.samples):
            folder.mkdir()
        self._stop = threading.Event()

    def use_for_gradio(self) -> None:
        """Make Gradio keep its cache and uploads here; call before building the Blocks, which read it."""
        os.environ["GRADIO_TEMP_DIR"] = str(self.gradio)

    def new_run(self, kind: str) -> Path:
        """A new empty folder for one request's outputs."""
        folder = self.runs / f"{kind}-{uuid.uuid4().hex[:12]}"
        folder.mkdir()
        return folder

    def holds(self, path: str | os.PathLike) -> bool:
        """Whether ``path`` (links resolved) lies inside this workspace."""
        return Path(path).resolve().is_relative_to(self.root)

    def is_upload(self, path: str | os.PathLike) -> bool:
        """Whether ``path`` is a file Gradio received as an upload (its cache folder), not some other path."""
        resolved = Path(path).resolve()
        return resolved.is_relative_to(self.gradio) and resolved.is_file()

    def clean(self, max_age_s: float) -> int:
        """Remove run folders older than ``max_age_s``; return how many went."""
        removed = 0
        cutoff = time.time() - max_age_s
        for folder in self.runs.iterdir():
            try:
                if folder.stat().st_mtime < cutoff:
                    shutil.rmtree(folder, ignore_errors=True)
                    removed += 1
            except FileNotFoundError:
                continue
        return removed

    def start_janitor(self, every_s: float, max_age_s: float) -> threading.Thread:
        """Clean every ``every_s`` seconds in a daemon thread, until :meth:`close`."""
        def loop() -> None:
            while not self._stop.wait(every_s):
                removed = self.clean(max_age_s)
                if removed:
                    logger.info("removed %d old run folder(s)", removed)

        thread = threading.Thread(target=loop, name="t2v-demo-janitor", daemon=True)
        thread.start()
        return thread

    def close(self) -> None:
        """Stop the janitor and remove the whole folder."""
        self._stop.set()
        shutil.rmtree(self.root, ignore_errors=True)
