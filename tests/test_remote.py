"""`ask` and a running quarry server: found through its server file, used, and silently skipped when unfit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import retriever.query_encoder as query_encoder
from indexer.build import build_index
from indexer.paths import server_file
from indexer.schema import Answer, Passage, Result
from retriever.cli import main as ask_main
from retriever.remote import ask_server, find_server
from tests.conftest import FakeEncoder

REMOTE = Result(
    "Who runs the zoo?",
    Answer("The zoo is run by Ada.", "zoo.txt", 0, 22, 1, 1, score=0.97, passage=0),
    (Passage("The zoo is run by Ada. It opened in 1901.", "zoo.txt", 0, 41, 1, 1, score=0.9, chunk_id=7),),
)


class StandIn:
    """A tiny HTTP server on 127.0.0.1 with the server contract: POST /ask -> Result.to_dict()."""

    def __init__(self, status: int = 200, body: object = None, delay: float = 0.0, reload_status: int = 200):
        self.requests: list[tuple[dict, dict]] = []
        self.reloads = 0
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length", 0))
                payload = self.rfile.read(length)
                if self.path == "/admin/reload":  # asked first: switch to the index on disk if it changed
                    stand_in.reloads += 1
                    data = json.dumps({"reloaded": False, "version": "v1", "previous": "v1"}).encode()
                    self.send_response(reload_status)
                else:
                    stand_in.requests.append((json.loads(payload), dict(self.headers)))
                    time.sleep(delay)
                    data = json.dumps(REMOTE.to_dict() if body is None else body).encode()
                    self.send_response(status if self.path == "/ask" else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def announce(self, index_dir: Path, changes: dict | None = None) -> Path:
        info = {"url": self.url, "pid": os.getpid(), "index_dir": str(Path(index_dir).resolve()), "api_key": False}
        info.update(changes or {})
        path = server_file(index_dir)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(info))
        return path

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def index_dir(tiny_corpus, tmp_path, fake_encoder, monkeypatch):
    """A tiny index; in process, questions are embedded by the fake encoder."""
    path = tmp_path / "idx"
    build_index(tiny_corpus, path, encoder=fake_encoder, progress=False)
    monkeypatch.setattr(query_encoder, "open_query_encoder", lambda index, **options: FakeEncoder())
    return path


@pytest.fixture
def stand_in():
    server = StandIn()
    yield server
    server.close()


def test_server_file_is_keyed_by_the_resolved_index_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert server_file("idx") == server_file(tmp_path / "idx")
    assert server_file(tmp_path / "idx").parent == tmp_path / "cache" / "quarry" / "servers"
    assert server_file(tmp_path / "idx") != server_file(tmp_path / "other")


def test_ask_uses_a_running_server(index_dir, stand_in, capsys, monkeypatch):
    stand_in.announce(index_dir)
    monkeypatch.setenv("QUARRY_API_KEY", "s3cret")
    assert ask_main(["--json", "-k", "3", "--index-dir", str(index_dir), "Who runs the zoo?"]) == 0
    assert json.loads(capsys.readouterr().out) == REMOTE.to_dict()
    body, headers = stand_in.requests[0]
    assert body == {"question": "Who runs the zoo?", "k": 3}
    assert headers["X-API-Key"] == "s3cret"
    # for a person: the same rendering as a local answer
    assert ask_main(["--index-dir", str(index_dir), "Who runs the zoo?"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Answer (confidence 0.97):") and "-- zoo.txt:1" in out
    assert ">>The zoo is run by Ada.<<" in out


def local_answer(index_dir, capsys) -> dict:
    assert ask_main(["--json", "--index-dir", str(index_dir), "How long do cats sleep?"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["passages"][0]["source"] == "animals/cats.txt"  # answered here, from the index
    return body


@pytest.mark.parametrize("status, body", [(500, None), (422, {"detail": "bad"}), (200, {"answer": "x"}),
                                          (200, {"question": "q", "answer": None, "passages": [{"text": 1}]})])
def test_a_failing_server_falls_back_silently(index_dir, capsys, status, body):
    server = StandIn(status=status, body=body)
    try:
        server.announce(index_dir)
        local_answer(index_dir, capsys)
        assert len(server.requests) == 1
    finally:
        server.close()
    assert capsys.readouterr().err == ""


def test_the_server_is_asked_to_switch_to_an_updated_index_first(index_dir, capsys):
    # `quarry index` may have just updated the index, and the server not have looked yet (--watch seconds)
    server = StandIn()
    try:
        server.announce(index_dir)
        assert ask_server(index_dir, "Who runs the zoo?", 5) == REMOTE.to_dict()
        assert server.reloads == 1 and len(server.requests) == 1
    finally:
        server.close()
    # a server that cannot switch to the index on disk (409) serves an older one: answered here
    server = StandIn(reload_status=409)
    try:
        server.announce(index_dir)
        local_answer(index_dir, capsys)
        assert server.reloads == 1 and server.requests == []
    finally:
        server.close()


def test_unfit_announcements_are_ignored(index_dir, stand_in, tmp_path, capsys):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    for changes in ({"pid": dead.pid}, {"url": "http://example.com:80"}, {"url": "https://127.0.0.1:1"},
                    {"index_dir": str(tmp_path / "another-index")}, {"pid": "not a pid"}):
        stand_in.announce(index_dir, changes)
        assert find_server(index_dir) is None, changes
        local_answer(index_dir, capsys)
    stand_in.announce(index_dir, {"api_key": True})  # a key is needed and QUARRY_API_KEY is not set
    local_answer(index_dir, capsys)
    server_file(index_dir).write_text("{not json")
    assert find_server(index_dir) is None
    local_answer(index_dir, capsys)
    assert stand_in.requests == []


def test_no_server_flag_and_nobody_listening(index_dir, stand_in, capsys):
    stand_in.announce(index_dir)
    assert ask_main(["--no-server", "--json", "--index-dir", str(index_dir), "How long do cats sleep?"]) == 0
    assert json.loads(capsys.readouterr().out)["passages"][0]["source"] == "animals/cats.txt"
    assert stand_in.requests == []
    stand_in.close()  # the file is left behind by a server that died: connection refused
    local_answer(index_dir, capsys)


def test_a_slow_server_times_out(index_dir):
    server = StandIn(delay=1.0)
    try:
        server.announce(index_dir)
        assert ask_server(index_dir, "Who runs the zoo?", 5, timeout=0.2) is None
        assert ask_server(index_dir, "Who runs the zoo?", 5, timeout=5) == REMOTE.to_dict()
    finally:
        server.close()


@pytest.mark.parametrize("how", ["--reader", "--cross-encoder", "QUARRY_READER", "QUARRY_CROSS_ENCODER"])
def test_a_question_for_another_model_is_answered_here(index_dir, stand_in, capsys, monkeypatch, how):
    """The running server may not have the reader or cross-encoder asked for: ask answers in process."""
    import numpy as np

    from retriever import cross, reader

    opened = []

    class Reader:
        def read(self, question, passages, sentences):
            return reader.Reading([np.zeros(len(s), dtype=np.float32) for s in sentences])

    class Cross:
        def score(self, question, texts):
            return np.zeros(len(texts), dtype=np.float32)

    monkeypatch.setattr(reader, "open_reader", lambda p: opened.append(("reader", p)) or (Reader() if p else None))
    monkeypatch.setattr(cross, "open_cross_encoder", lambda p: opened.append(("cross", p)) or (Cross() if p else None))
    stand_in.announce(index_dir)
    args = ["--json", "--index-dir", str(index_dir), "How long do cats sleep?"]
    if how.startswith("--"):
        args = [how, "/models/m", *args]
    else:
        monkeypatch.setenv(how, "/models/m")
    assert ask_main(args) == 0
    assert json.loads(capsys.readouterr().out)["passages"][0]["source"] == "animals/cats.txt"
    assert stand_in.requests == []
    kind = "reader" if "READER" in how.upper() else "cross"
    assert (kind, "/models/m") in opened
