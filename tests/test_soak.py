"""A short soak (eval/bench/soak.py) against a server process on loopback: mixed valid and invalid requests, no 5xx."""

from __future__ import annotations

import asyncio

import pytest

from eval.bench.soak import kinds, soak
from tests.serving import server_process, tiny_index

pytestmark = pytest.mark.slow  # processes, servers or clusters of their own: seconds each


def test_short_soak_has_no_server_error(tiny_corpus, tmp_path):
    index_dir = tiny_index(tiny_corpus, tmp_path / "idx")
    with server_process(index_dir, log=tmp_path / "server.log") as (proc, url):
        result = asyncio.run(soak(url, seconds=6, concurrency=16, max_requests=3000, pid=proc.pid))
    log = (tmp_path / "server.log").read_text()
    assert result["server_errors"] == 0 and result["failures"] == {}, (result, log[-3000:])
    assert 0 < result["requests"] <= 3000
    assert result["statuses"].get(200, 0) > 0 and sum(n for s, n in result["statuses"].items() if s >= 400) > 0
    assert result["rss_mb"]["samples"] >= 1
    assert "Traceback" not in log and "ERROR" not in log


def test_the_mix_expects_errors_from_invalid_requests():
    mix = kinds("a.txt", 100)
    assert len({k.name for k in mix}) == len(mix)
    assert {k.name for k in mix if k.expect == (200,)} >= {"health", "documents", "context", "page", "static"}
    assert all(400 <= s < 500 for k in mix if k.expect != (200,) for s in k.expect)


def test_made_up_words_do_not_grow_a_cache(tiny_corpus, tmp_path):
    """What the soak's random-word questions look for: nothing kept per distinct word that was asked."""
    import random

    from eval.bench.soak import random_words
    from retriever.pipeline import Retriever
    from tests.conftest import FakeEncoder

    retriever = Retriever.open(tiny_index(tiny_corpus, tmp_path / "idx"), encoder=FakeEncoder())
    retriever.ask("How long do cats sleep?")
    known = len(retriever.index._idf_cache)
    rng = random.Random(1)
    for _ in range(200):
        retriever.ask(random_words(rng))
    assert len(retriever.index._idf_cache) == known
