"""An encoder wrapper that coalesces concurrent ``encode`` calls from many threads into one batch."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Sequence

import numpy as np

from indexer.encoder import Encoder

log = logging.getLogger(__name__)


class _Pending:
    """One caller's texts, waiting for their vectors (or for its turn to run a batch)."""

    __slots__ = ("texts", "event", "result", "error", "lead")

    def __init__(self, texts: list[str]):
        self.texts = texts
        self.event = threading.Event()
        self.result: np.ndarray | None = None
        self.error: BaseException | None = None
        self.lead = False


class BatchingEncoder:
    """Wraps an :class:`~indexer.encoder.Encoder`; threads calling ``encode`` at once share batches.

    One short question costs a transformer almost as much CPU as several do together, so a server
    that embeds each request's question on its own wastes most of its CPU under load. Here up to
    ``workers`` callers run their texts at once, each as its own batch (no added latency when
    alone); callers arriving while all workers are busy queue up, and when a batch ends the oldest
    of them runs everything queued (up to ``max_batch`` texts) as the next batch. Each batch is run
    by a thread whose own texts are in it. ``max_wait_ms`` > 0 makes a caller that finds a worker
    free wait that long for company first.

    ``workers`` > 1 runs batches in parallel (give the model one thread each, e.g.
    ``torch.set_num_threads(1)``): with few cores this beats intra-op threads. Thread-safe; an error
    raised by the wrapped encoder is raised in every caller of that batch.
    """

    def __init__(self, encoder: Encoder, max_batch: int = 32, max_wait_ms: float = 0.0, workers: int = 1):
        if max_batch < 1 or workers < 1:
            raise ValueError("max_batch and workers must be at least 1")
        if max_wait_ms < 0:
            raise ValueError("max_wait_ms must be >= 0")
        self.encoder = encoder
        self.max_batch = max_batch
        self.max_wait = max_wait_ms / 1000.0
        self.workers = workers
        self.name = encoder.name
        self.dim = encoder.dim
        self._lock = threading.Lock()
        self._queue: deque[_Pending] = deque()  # never holds a running caller's own item
        self._active = 0  # batches running; the queue is empty unless this equals workers
        self.batches = 0  # statistics, for tests and logs
        self.texts = 0

    @property
    def fingerprint(self) -> str:
        return self.encoder.fingerprint

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return self.encoder.encode(texts, batch_size=batch_size)
        item = _Pending(texts)
        with self._lock:
            lead = self._active < self.workers
            if lead:
                self._active += 1
            else:
                self._queue.append(item)
        if not lead:
            item.event.wait()
            if not item.lead:  # a batch that held our texts has run
                return _outcome(item)
        elif self.max_wait:
            time.sleep(self.max_wait)
        self._run_batch(item, batch_size)
        return _outcome(item)

    def _run_batch(self, own: _Pending, batch_size: int) -> None:
        """Encode ``own`` texts with what is queued, hand the results out, pass the turn on."""
        with self._lock:
            batch, n = [own], len(own.texts)
            while self._queue and n + len(self._queue[0].texts) <= self.max_batch:
                it = self._queue.popleft()
                batch.append(it)
                n += len(it.texts)
        try:
            vecs = self.encoder.encode([t for it in batch for t in it.texts], batch_size=max(batch_size, n))
            i = 0
            for it in batch:
                it.result = vecs[i:i + len(it.texts)]
                i += len(it.texts)
        except BaseException as e:  # every waiter must wake up, with the error
            for it in batch:
                it.error = e
        with self._lock:
            self.batches += 1
            self.texts += n
            nxt = self._queue.popleft() if self._queue else None
            if nxt is None:
                self._active -= 1
            else:
                nxt.lead = True  # our worker slot passes to the oldest waiter
        if len(batch) > 1:
            log.debug("encoded %d texts of %d callers in one batch", n, len(batch))
        for it in batch[1:]:
            it.event.set()
        if nxt is not None:
            nxt.event.set()

    def __getattr__(self, name: str):
        # anything else (path, model, device, ...) is the wrapped encoder's
        if name == "encoder":
            raise AttributeError(name)
        return getattr(self.encoder, name)


def _outcome(item: _Pending) -> np.ndarray:
    if item.error is not None:
        raise item.error
    assert item.result is not None
    return item.result
