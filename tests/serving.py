"""Test helpers: a tiny-corpus app with the fake encoder, a real uvicorn server on loopback in a thread or a process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from indexer.build import build_index
from retriever.batching import BatchingEncoder
from retriever.pipeline import Retriever
from server.app import create_app
from server.settings import Settings
from tests.conftest import ROOT, FakeEncoder


def tiny_index(corpus: Path, index_dir: Path) -> Path:
    build_index(corpus, index_dir, encoder=FakeEncoder(), progress=False)
    return index_dir


def fake_loader(settings: Settings) -> Retriever:
    """Opens the index with the fake encoder behind the same batching wrapper the server uses."""
    return Retriever.open(settings.index_dir, encoder=BatchingEncoder(FakeEncoder(), settings.max_batch))


@contextmanager
def live_server(settings: Settings, load=fake_loader) -> Iterator[str]:
    """The app served by uvicorn on 127.0.0.1 (a free port) in a background thread; yields its URL."""
    import uvicorn

    app = create_app(settings, load=load)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@contextmanager
def server_process(index_dir: Path, *extra: str, fake: bool = True, env: dict | None = None,
                   log: Path | None = None) -> Iterator[tuple[subprocess.Popen, str]]:
    """A server as its own process on 127.0.0.1 (a free port): ``python -m server``, or the same with the
    fake encoder (tests/fake_cli.py). Yields the process and its URL (from the discovery file); stops it."""
    from indexer.paths import server_file

    command = ["-m", "tests.fake_cli", "server"] if fake else ["-m", "server"]
    out = open(log, "wb") if log else subprocess.DEVNULL
    proc = subprocess.Popen([sys.executable, *command, "--index-dir", str(index_dir), "--port", "0",
                             "--no-access-log", *extra], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                            env={**os.environ, **(env or {})})
    try:
        deadline = time.monotonic() + 240
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the server exited with {proc.returncode}")
            try:
                info = json.loads(server_file(index_dir).read_text())
                if info["pid"] == proc.pid:
                    break
            except (OSError, ValueError, KeyError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not advertise itself in 240 s")
            time.sleep(0.05)
        yield proc, info["url"]
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if log:
            out.close()
