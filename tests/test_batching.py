"""BatchingEncoder: concurrent callers share batches, get exactly their own vectors, and see errors."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from retriever.batching import BatchingEncoder
from tests.conftest import FakeEncoder


class GatedEncoder(FakeEncoder):
    """Every encode call blocks until ``gate`` is set, so callers pile up behind the running ones."""

    def __init__(self, fail_on: str | None = None):
        super().__init__()
        self.gate = threading.Event()
        self.lock = threading.Lock()
        self.batches: list[list[str]] = []
        self.fail_on = fail_on

    def encode(self, texts, batch_size=64):
        with self.lock:
            self.batches.append(list(texts))
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
    big = [f"t{i}" for i in range(20)]  # more than max_batch: one batch all the same
    np.testing.assert_array_equal(enc.encode(big), FakeEncoder().encode(big))
    assert enc.encode([]).shape == (0, inner.dim)
    assert enc.batches == 2 and inner.calls == 3
    for bad in [{"max_batch": 0}, {"workers": 0}, {"max_wait_ms": -1}]:
        with pytest.raises(ValueError):
            BatchingEncoder(inner, **bad)


class CountingEncoder(FakeEncoder):
    """Records how many encode calls ran at the same time."""

    def __init__(self):
        super().__init__()
        self.running = self.most = 0
        self.lock = threading.Lock()

    def encode(self, texts, batch_size=64):
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            time.sleep(0.001)
            return super().encode(texts, batch_size)
        finally:
            with self.lock:
                self.running -= 1


def test_workers_run_batches_in_parallel_and_no_more():
    inner = GatedEncoder()
    enc = BatchingEncoder(inner, max_batch=32, workers=2)
    first_two = [threading.Thread(target=enc.encode, args=([f"first {i}"],)) for i in range(2)]
    for t in first_two:
        t.start()
    wait_for(lambda: len(inner.batches) == 2)  # both run at once (the first waits at the gate)
    third = threading.Thread(target=enc.encode, args=(["third"],))
    third.start()
    wait_for(lambda: len(enc._queue) == 1)  # both workers busy: it queues
    inner.gate.set()
    for t in [*first_two, third]:
        t.join(30)
    assert len(inner.batches) == 3 and enc._active == 0 and not enc._queue


@pytest.mark.parametrize("workers", [1, 3])
def test_many_threads_many_calls_all_correct(workers):
    inner = CountingEncoder()
    enc = BatchingEncoder(inner, max_batch=16, max_wait_ms=1, workers=workers)
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
    assert 1 <= inner.most <= workers and enc._active == 0 and not enc._queue


@pytest.mark.model
def test_real_model_in_parallel_batches_matches_one_at_a_time(real_encoder):
    enc = BatchingEncoder(real_encoder, max_batch=8, workers=2)
    questions = [f"How much did company number {i} invest in data centers?" for i in range(24)]
    expected = {q: real_encoder.encode([q])[0] for q in questions}
    got: dict[str, np.ndarray] = {}
    failures = []

    def worker(w):
        try:
            for q in questions[w::6]:
                got[q] = enc.encode([q])[0]
        except Exception as e:  # collected: the assertion below names it
            failures.append(repr(e))

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert failures == []
    for q in questions:  # padding inside a batch may move the last float digits, nothing more
        np.testing.assert_allclose(got[q], expected[q], atol=1e-5)
