"""BatchingEncoder: concurrent callers share batches, get exactly their own vectors, and see errors."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from retriever.batching import BatchingEncoder
from tests.conftest import FakeEncoder


class GatedEncoder(FakeEncoder):
    """The first encode call blocks until ``gate`` is set, so callers pile up behind it."""

    def __init__(self, fail_on: str | None = None):
        super().__init__()
        self.gate = threading.Event()
        self.batches: list[list[str]] = []
        self.fail_on = fail_on

    def encode(self, texts, batch_size=64):
        self.batches.append(list(texts))
        if len(self.batches) == 1:
            assert self.gate.wait(30)
        if self.fail_on in texts:
            raise RuntimeError("the model broke")
        return super().encode(texts, batch_size)


def wait_for(predicate, seconds=30):
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.005)


def run_concurrently(enc: BatchingEncoder, inner: GatedEncoder, texts: list[list[str]]):
    """First call runs (and blocks); the rest queue behind it; then the gate opens."""
    results: dict[int, object] = {}

    def call(i):
        try:
            results[i] = enc.encode(texts[i])
        except Exception as e:  # collected for the assertions
            results[i] = e

    threads = [threading.Thread(target=call, args=(0,))]
    threads[0].start()
    wait_for(lambda: len(inner.batches) == 1)
    for i in range(1, len(texts)):
        threads.append(threading.Thread(target=call, args=(i,)))
        threads[-1].start()
    wait_for(lambda: len(enc._queue) == len(texts) - 1)
    inner.gate.set()
    for t in threads:
        t.join(30)
    return results


def test_queued_callers_share_one_batch_and_get_their_own_vectors():
    inner = GatedEncoder()
    enc = BatchingEncoder(inner, max_batch=32)
    texts = [[f"question number {i} about cats"] for i in range(10)] + [["two texts", "in one call"]]
    results = run_concurrently(enc, inner, texts)
    assert len(inner.batches) == 2  # the first call alone, then everything that queued behind it
    assert sorted(map(len, inner.batches)) == [1, 11]
    reference = FakeEncoder()
    for i, t in enumerate(texts):
        np.testing.assert_array_equal(results[i], reference.encode(t))
    assert enc.batches == 2 and enc.texts == 12


def test_max_batch_splits_the_queue():
    inner = GatedEncoder()
    enc = BatchingEncoder(inner, max_batch=4)
    results = run_concurrently(enc, inner, [[f"q{i}"] for i in range(10)])
    assert [len(b) for b in inner.batches] == [1, 4, 4, 1]
    assert all(isinstance(r, np.ndarray) and r.shape == (1, inner.dim) for r in results.values())


def test_an_error_reaches_every_caller_of_its_batch_and_the_next_calls_work():
    inner = GatedEncoder(fail_on="bad")
    enc = BatchingEncoder(inner, max_batch=32)
    results = run_concurrently(enc, inner, [["first"], ["ok 1"], ["bad"], ["ok 2"]])
    assert isinstance(results[0], np.ndarray)
    assert all(isinstance(results[i], RuntimeError) for i in (1, 2, 3))
    assert enc.encode(["after"]).shape == (1, inner.dim)  # not stuck


def test_alone_it_is_a_pass_through():
    inner = FakeEncoder()
    enc = BatchingEncoder(inner, max_batch=8)
    assert (enc.name, enc.dim, enc.fingerprint) == (inner.name, inner.dim, inner.fingerprint)
    np.testing.assert_array_equal(enc.encode(["a cat"]), FakeEncoder().encode(["a cat"]))
    big = [f"t{i}" for i in range(8)]  # max_batch or more: straight through
    np.testing.assert_array_equal(enc.encode(big), FakeEncoder().encode(big))
    assert enc.encode([]).shape == (0, inner.dim)
    assert enc.batches == 1 and inner.calls == 3
    with pytest.raises(ValueError):
        BatchingEncoder(inner, max_batch=0)


def test_many_threads_many_calls_all_correct():
    inner = FakeEncoder()
    enc = BatchingEncoder(inner, max_batch=16, max_wait_ms=1)
    reference = FakeEncoder()
    errors = []

    def worker(w):
        for i in range(25):
            t = [f"worker {w} question {i}"]
            if not np.array_equal(enc.encode(t), reference.encode(t)):
                errors.append((w, i))

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert enc.texts == 400 and enc.batches <= 400
