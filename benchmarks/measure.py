"""Measuring helpers the benchmarks share."""

from __future__ import annotations

import threading
import time


class PeakMemory:
    """Peak resident memory added while the block runs, sampled from /proc every few milliseconds."""

    def __enter__(self) -> PeakMemory:
        self.base = self.peak = self._rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    @staticmethod
    def _rss() -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * 4096

    def _watch(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._rss())
            time.sleep(0.002)

    @property
    def added_mb(self) -> float:
        return (self.peak - self.base) / 2**20
