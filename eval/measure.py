"""Measuring a benchmark's own process: resident memory now, at its peak, and sampled over time."""

from __future__ import annotations

import resource
import threading
import time


def rss_mb(key: str = "VmRSS") -> float:
    """Current resident memory of this process (``VmRSS``, or ``RssAnon``/``RssFile``), in MB."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class MemorySampler:
    """Samples this process's resident memory (anonymous and file-backed) every ``every`` seconds."""

    def __init__(self, every: float = 0.05):
        self.samples: list[tuple[float, float, float]] = []  # time, RssAnon MB, RssFile MB
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(every,), daemon=True)

    def _run(self, every: float) -> None:
        while not self._stop.is_set():
            self.samples.append((time.perf_counter(), rss_mb("RssAnon"), rss_mb("RssFile")))
            self._stop.wait(every)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def peak(self, until: float | None = None) -> tuple[float, float]:
        """Peak anonymous and peak total (anonymous + file-backed) RSS, in MB, up to ``until``."""
        chosen = [s for s in self.samples if until is None or s[0] <= until] or self.samples
        return max(s[1] for s in chosen), max(s[1] + s[2] for s in chosen)
