"""The server for real: uvicorn on loopback under 32 concurrent clients, and `python -m server` as a process."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time

import httpx
import pytest

from indexer.paths import server_file
from server.settings import Settings
from tests.conftest import ROOT
from tests.serving import live_server, tiny_index

QUESTIONS = ["How long do cats sleep?", "What were dogs domesticated from?", "How many moons does Mars have?",
             "How much did the company spend on data centers?", "Who painted the Mona Lisa?"]


def test_32_concurrent_clients_10_requests_each(tiny_corpus, tmp_path):
    settings = Settings(index_dir=tiny_index(tiny_corpus, tmp_path / "idx"), max_batch=32)
    with live_server(settings) as url:
        with httpx.Client(base_url=url) as c:
            expected = {q: c.post("/ask", json={"question": q, "k": 3}).json() for q in QUESTIONS}

        async def client(n: int, http: httpx.AsyncClient) -> list[tuple[str, int, dict]]:
            out = []
            for i in range(10):
                q = QUESTIONS[(n + i) % len(QUESTIONS)]
                r = await http.post("/ask", json={"question": q, "k": 3})
                out.append((q, r.status_code, r.json()))
            return out

        async def main():
            limits = httpx.Limits(max_connections=32)
            async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as http:
                return await asyncio.gather(*(client(n, http) for n in range(32)))

        results = [r for per_client in asyncio.run(main()) for r in per_client]
    assert len(results) == 320
    assert [s for _, s, _ in results if s != 200] == []
    assert all(body == expected[q] for q, _, body in results)  # concurrency changes no answer


def start(index_dir, *extra, env=None):
    return subprocess.Popen([sys.executable, "-m", "server", "--index-dir", str(index_dir), "--port", "0", *extra],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, **(env or {})})


def wait_advertised(proc, index_dir, seconds=240) -> dict:
    path = server_file(index_dir)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the server exited with {proc.returncode}:\n{proc.stdout.read()}")
        try:
            info = json.loads(path.read_text())
            if info["pid"] == proc.pid:
                return info
        except (OSError, ValueError):
            pass
        time.sleep(0.1)
    proc.kill()
    pytest.fail("the server never advertised itself")


@pytest.mark.parametrize("make", ["missing", "empty", "truncated"])
def test_refuses_to_start_on_a_missing_or_broken_index(tiny_corpus, tmp_path, make):
    index_dir = tmp_path / "idx"
    if make == "empty":
        index_dir.mkdir()
    elif make == "truncated":
        tiny_index(tiny_corpus, index_dir)
        with open(index_dir / "chunks.faiss", "r+b") as f:
            f.truncate(100)
    proc = start(index_dir)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 1
    lines = out.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: cannot serve {index_dir}"), out
    assert "Traceback" not in out
    assert ("no index at" if make == "missing" else "--rebuild") in lines[0]
    assert not server_file(index_dir).exists()


@pytest.mark.model
def test_real_server_process_answers_a_seeds_question(seeds_index):
    proc = start(seeds_index, "--no-access-log", env={"QUARRY_API_KEY": "k3y"})
    try:
        info = wait_advertised(proc, seeds_index)
        assert info["url"].startswith("http://127.0.0.1:") and info["api_key"] is True
        assert info["index_dir"] == str(seeds_index.resolve())
        with httpx.Client(base_url=info["url"], timeout=60) as c:
            assert c.get("/health").json()["documents"] == 5
            assert c.post("/ask", json={"question": "Who is the CEO of Anthropic?"}).status_code == 401
            r = c.post("/ask", json={"question": "Who is the CEO of Anthropic?"}, headers={"X-API-Key": "k3y"})
            assert r.status_code == 200
            answer = r.json()["answer"]
            assert "Dario Amodei" in answer["text"] and answer["source"] == "000_7964c127cd96d91a.txt"
            doc = (ROOT / "seeds" / answer["source"]).read_bytes().decode()
            assert doc[answer["start_char"]:answer["end_char"]] == answer["text"]
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
    assert "Traceback" not in out, out
    assert not server_file(seeds_index).exists()  # withdrawn at shutdown


@pytest.mark.parametrize("client", ["raw", "httpx"])
def test_load_benchmark_clients_count_requests_and_errors(tiny_corpus, tmp_path, client):
    from eval.bench.load import percentile, run_level

    assert percentile([5.0, 1.0, 3.0, 2.0, 4.0], 50) == 3.0 and percentile([1.0, 2.0], 99) == 2.0
    settings = Settings(index_dir=tiny_index(tiny_corpus, tmp_path / "idx"), api_key="k")
    with live_server(settings) as url:
        ok = asyncio.run(run_level(url, 4, 20, 3, {"X-API-Key": "k"}, client))
        refused = asyncio.run(run_level(url, 2, 4, 3, {}, client))
        t0 = time.perf_counter()
        timed = asyncio.run(run_level(url, 3, 1, 3, {"X-API-Key": "k"}, client, duration=0.5))
        took = time.perf_counter() - t0
    assert timed["errors"] == 0 and timed["requests"] > 3 and 0.5 <= took < 30  # until the time is up, not 1 each
    assert (ok["requests"], ok["errors"], ok["concurrency"]) == (20, 0, 4)
    assert ok["rps"] > 0 and ok["p50_ms"] <= ok["p95_ms"] <= ok["p99_ms"]
    assert (refused["requests"], refused["errors"]) == (4, 4)  # 401s are counted as errors
