"""Indexing progress: bytes done of bytes to do, rate and ETA, on a bar, in the log and to a callback."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

LOG_EVERY_S = 30.0  # seconds between progress lines in the log
LINE_EVERY_S = 10.0  # seconds between progress lines on stderr when there is no bar (not a terminal)


@dataclass(frozen=True)
class ProgressInfo:
    """A snapshot of an indexer run; ``eta_s`` is None until there is a rate to go by."""

    done_bytes: int
    total_bytes: int
    chunks: int
    texts_embedded: int
    elapsed_s: float
    eta_s: float | None

    @property
    def fraction(self) -> float:
        return self.done_bytes / self.total_bytes if self.total_bytes else 1.0


class Progress:
    """Tracks the bytes of documents that are fully embedded and written.

    Shows a tqdm bar (bytes, with tqdm's rate and ETA) when ``show`` is true (None: on a TTY),
    logs a line with the ETA every ``LOG_EVERY_S`` seconds at INFO, and calls ``callback`` with a
    :class:`ProgressInfo` at every update. The ETA is the bytes still to do at the average rate
    since the first update (so the model's loading, before it, does not count).
    """

    def __init__(self, total_bytes: int, show: bool | None = None,
                 callback: Callable[[ProgressInfo], None] | None = None, desc: str = "indexing",
                 phases: Phases | None = None):
        from tqdm.auto import tqdm

        self.total = total_bytes
        self.done = self.chunks = self.texts = 0
        self.callback = callback
        self._bar = tqdm(total=total_bytes, unit="B", unit_scale=True, unit_divisor=1024, desc=desc,
                         disable=(None if show is None else not show), leave=False, dynamic_ncols=True)
        self._t0 = time.perf_counter()
        self._first: tuple[float, int] | None = None  # time and bytes at the first update
        self._last_log = self._last_line = self._t0
        # without a bar (stderr not a terminal), ``phases`` gets a progress line now and then
        self.phases = phases if phases is not None and phases.show and self._bar.disable else None

    def update(self, nbytes: int, chunks: int = 0, texts: int = 0) -> None:
        now = time.perf_counter()
        self.done += nbytes
        self.chunks += chunks
        self.texts += texts
        self._bar.update(nbytes)
        self._bar.set_postfix(chunks=self.chunks, refresh=False)
        info = self.info(now)
        if self._first is None:
            self._first = (now, self.done)  # the rate is measured from here: model loading is not work
        if now - self._last_log >= LOG_EVERY_S:
            self._last_log = now
            log.info("indexed %.1f of %.1f MB (%.0f%%), %d chunks, %.0f s elapsed, ETA %s",
                     info.done_bytes / 1e6, info.total_bytes / 1e6, 100 * info.fraction, info.chunks,
                     info.elapsed_s, "?" if info.eta_s is None else f"{info.eta_s:.0f} s")
        if self.phases is not None and now - self._last_line >= LINE_EVERY_S:
            self._last_line = now
            self.phases(f"  {info.done_bytes / 1e6:.1f} of {info.total_bytes / 1e6:.1f} MB read and embedded "
                        f"({100 * info.fraction:.0f}%), {info.chunks} chunks, ETA "
                        + ("?" if info.eta_s is None else f"{info.eta_s:.0f} s"))
        if self.callback is not None:
            self.callback(info)

    def info(self, now: float | None = None) -> ProgressInfo:
        now = time.perf_counter() if now is None else now
        elapsed = now - self._t0
        eta = None
        if self._first is not None and self.done > self._first[1] and now > self._first[0]:
            rate = (self.done - self._first[1]) / (now - self._first[0])
            eta = max(self.total - self.done, 0) / rate
        elif self.done >= self.total:
            eta = 0.0
        return ProgressInfo(self.done, self.total, self.chunks, self.texts, elapsed, eta)

    def close(self) -> None:
        self._bar.close()


class Phases:
    """One line on stderr as each phase of a run starts ("loading the embedding model", "writing
    the index"), stamped with the seconds since the run began, so a long step is never silent.

    ``show``: True prints, False does not, None prints when stderr is a terminal.
    """

    def __init__(self, show: bool | None = None, stream=None):
        import sys

        self.stream = stream if stream is not None else sys.stderr
        if show is None:
            show = bool(getattr(self.stream, "isatty", lambda: False)())
        self.show = show
        self._t0 = time.perf_counter()
        self.seen: list[str] = []

    def __call__(self, message: str) -> None:
        self.seen.append(message)
        log.info("%s", message)
        if self.show:
            from tqdm import tqdm

            # tqdm.write keeps an open bar intact below the line
            tqdm.write(f"[{time.perf_counter() - self._t0:6.1f} s] {message}", file=self.stream)
            self.stream.flush()
