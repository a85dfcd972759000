"""Test helpers: a tiny-corpus app with the fake encoder, and a real uvicorn server in a thread on loopback."""

from __future__ import annotations

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
from tests.conftest import FakeEncoder


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
