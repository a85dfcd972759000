"""`python -m server --workers N`: N processes on one port, switched to a rebuilt index and stopped together."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from indexer.build import build_index
from indexer.paths import server_file
from tests.conftest import ROOT, FakeEncoder
from tests.serving import server_process, tiny_index

pytestmark = pytest.mark.slow  # processes, servers or clusters of their own: seconds each


def workers_of(pid: int) -> list[int]:
    """Live worker processes of the server ``pid`` (Linux /proc; not multiprocessing's resource tracker)."""
    out = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(f"/proc/{entry.name}/stat").read_text().rsplit(")", 1)[1].split()
                cmdline = Path(f"/proc/{entry.name}/cmdline").read_bytes()
            except OSError:
                continue
            if int(stat[1]) == pid and stat[0] != "Z" and b"spawn_main" in cmdline:
                out.append(int(entry.name))
    return out


def versions(url: str, workers: list[int], seconds: float = 60) -> dict[int, str]:
    """The index version each worker serves, asked over fresh connections until every worker has answered."""
    seen: dict[int, str] = {}
    deadline = time.monotonic() + seconds
    while set(seen) != set(workers):
        assert time.monotonic() < deadline, f"only workers {sorted(seen)} of {workers} answered"
        with httpx.Client(base_url=url, timeout=30) as c:
            health = c.get("/health").json()
        seen[health["pid"]] = health["version"]
    return seen


def switched(url: str, workers: list[int], before: dict[int, str], seconds: float) -> dict[int, str]:
    """The versions once no worker serves one of ``before`` any more (fails after ``seconds``)."""
    deadline = time.monotonic() + seconds
    while set((now := versions(url, workers)).values()) & set(before.values()):
        assert time.monotonic() < deadline, f"a worker still serves the old index after {seconds} s: {now}"
        time.sleep(0.1)
    return now


@contextlib.contextmanager
def two_workers(index_dir: Path, watch: str, log: Path):
    """A ``--workers 2`` server on ``index_dir``: its process, URL and the two workers' pids."""
    with server_process(index_dir, "--workers", "2", "--watch", watch, log=log) as (proc, url):
        workers = workers_of(proc.pid)
        assert len(workers) == 2, log.read_text()
        yield proc, url, workers


def rebuild_with_new_cat_fact(corpus: Path, index_dir: Path) -> None:
    # short, so that the fake encoder's answer is a sure one: an unsure answer no closer to the folder than
    # the probe "When is the next full moon?" (the tiny corpus speaks of the Moon) is withheld
    (corpus / "animals/cats.txt").write_text("Cats sleep for twenty hours.\n")
    assert build_index(corpus, index_dir, encoder=FakeEncoder(), progress=False).written


def test_workers_answer_switch_and_stop_together(tiny_corpus, tmp_path):
    index_dir = tiny_index(tiny_corpus, tmp_path / "idx")
    log = tmp_path / "server.log"
    with two_workers(index_dir, "0.2", log) as (proc, url, workers):
        with httpx.Client(base_url=url, timeout=30) as c:
            r = c.post("/ask", json={"question": "How long do cats sleep?", "k": 3})
        assert r.status_code == 200 and "sixteen hours" in r.json()["answer"]["text"]
        before = versions(url, workers)
        assert len(set(before.values())) == 1

        rebuild_with_new_cat_fact(tiny_corpus, index_dir)
        now = switched(url, workers, before, 60)  # each switches on its own
        assert len(set(now.values())) == 1
        with httpx.Client(base_url=url, timeout=30) as c:
            answers = {c.post("/ask", json={"question": "How long do cats sleep?"}).json()["answer"]["text"]
                       for _ in range(6)}
        assert answers == {"Cats sleep for twenty hours."}

        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0
    deadline = time.monotonic() + 30
    while any(Path(f"/proc/{w}").exists() for w in workers):
        assert time.monotonic() < deadline, "a worker outlived the server"
        time.sleep(0.1)
    assert not server_file(index_dir).exists()
    assert "Traceback" not in log.read_text()


def test_bad_workers_count_is_refused():
    r = subprocess.run([sys.executable, "-m", "server", "--workers", "0"], capture_output=True, text=True)
    assert r.returncode == 2 and "--workers" in r.stderr and "Traceback" not in r.stderr


def test_a_port_in_use_stops_the_workers_with_one_line(tiny_corpus, tmp_path):
    index_dir = tiny_index(tiny_corpus, tmp_path / "idx")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        r = subprocess.run([sys.executable, "-m", "tests.fake_cli", "server", "--index-dir", str(index_dir),
                            "--port", str(port), "--workers", "2"], cwd=ROOT, capture_output=True, text=True,
                           timeout=120)
    assert r.returncode == 1, r.stdout + r.stderr
    assert f"error: cannot listen on 127.0.0.1:{port}" in r.stderr
    assert "Traceback" not in r.stdout + r.stderr and not server_file(index_dir).exists()


def test_a_missing_index_stops_the_workers_before_they_start(tmp_path):
    r = subprocess.run([sys.executable, "-m", "server", "--index-dir", str(tmp_path / "nothing"), "--port", "0",
                        "--workers", "2"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 1 and len(lines) == 1, r.stderr
    assert lines[0].startswith(f"error: cannot serve {tmp_path / 'nothing'}") and "no index at" in lines[0]


def test_a_second_server_cannot_join_the_port_of_a_running_one(tiny_corpus, tmp_path):
    """SO_REUSEPORT must not let a second server (same user) share a port and split the connections."""
    index_dir = tiny_index(tiny_corpus, tmp_path / "idx")
    with server_process(index_dir, "--workers", "2") as (_, url):
        port = int(url.rsplit(":", 1)[1])
        r = subprocess.run([sys.executable, "-m", "tests.fake_cli", "server", "--index-dir", str(index_dir),
                            "--port", str(port), "--workers", "2"], cwd=ROOT, capture_output=True, text=True,
                           timeout=120)
        assert r.returncode == 1 and f"error: cannot listen on 127.0.0.1:{port}" in r.stderr, r.stderr
        with httpx.Client(base_url=url, timeout=30) as c:  # the first server still answers
            assert c.get("/health").status_code == 200



def test_admin_reload_switches_every_worker(tiny_corpus, tmp_path):
    """With the watch off, one POST /admin/reload (reaching one worker) switches all of them."""
    index_dir = tiny_index(tiny_corpus, tmp_path / "idx")
    log = tmp_path / "server.log"
    with two_workers(index_dir, "0", log) as (proc, url, workers):
        before = versions(url, workers)
        rebuild_with_new_cat_fact(tiny_corpus, index_dir)
        time.sleep(1)
        assert versions(url, workers) == before  # nothing switches on its own
        with httpx.Client(base_url=url, timeout=30) as c:
            r = c.post("/admin/reload")
        assert r.status_code == 200 and r.json()["reloaded"], r.text
        now = switched(url, workers, before, 10)
        assert len(set(now.values())) == 1 and workers_of(proc.pid) == workers  # switched, none restarted
        # a second reload with nothing new changes nothing and stops nobody
        with httpx.Client(base_url=url, timeout=30) as c:
            assert c.post("/admin/reload").json()["reloaded"] is False
        time.sleep(1)
        assert versions(url, workers) == now and sorted(workers_of(proc.pid)) == sorted(workers)
    assert "Traceback" not in log.read_text()
