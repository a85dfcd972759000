"""Issue 20, server side: /health shows where the index is only to the API key holder, and the HTTP
server caps headers, connections and slow or idle clients."""

from __future__ import annotations

from types import SimpleNamespace

from tests.test_server_api import make_client, retriever  # noqa: F401  (the fixture)


def _with_reload_error(client, settings_dir: str):
    client.app.state.live = SimpleNamespace(
        reload_error=f"cannot switch to the index now at {settings_dir}: cannot read {settings_dir}/chunks.faiss "
                     "(permission denied) (still serving version abc)")
    return client


def test_health_hides_the_index_path_without_the_key(retriever):  # noqa: F811
    client = _with_reload_error(make_client(retriever), "/nonexistent")
    body = client.get("/health").json()
    assert "index_dir" not in body
    assert "/nonexistent" not in client.get("/health").text
    assert body["reload_error"].startswith("cannot switch to the index now at INDEX_DIR: cannot read "
                                           "INDEX_DIR/chunks.faiss")


def test_health_shows_the_index_path_to_the_key_holder_only(retriever):  # noqa: F811
    client = _with_reload_error(make_client(retriever, api_key="s3cret"), "/nonexistent")
    for headers in ({}, {"X-API-Key": "wrong"}, {"X-API-Key": ""}):
        r = client.get("/health", headers=headers)
        assert r.status_code == 200 and "/nonexistent" not in r.text, headers
        assert "index_dir" not in r.json()
    body = client.get("/health", headers={"X-API-Key": "s3cret"}).json()
    assert body["index_dir"] == "/nonexistent"
    assert "at /nonexistent: cannot read /nonexistent/chunks.faiss" in body["reload_error"]


# -- `ask` prints no terminal escape sequence or control character from a document

def test_ask_output_strips_escape_sequences_and_control_characters(tmp_path, capsys):
    import json

    from indexer.build import build_index
    from retriever.cli import main
    from tests.conftest import FakeEncoder, write_corpus

    nasty = ("Owls hunt at night\x1b[2J\x1b]0;pwned\x07 and sleep\x1b[31m by day\x9b1m.\x01\x07\x08\x7f"
             " Bats\u202e hang upside down.\r\nMoles dig tunnels.\tReally.\n")
    src = write_corpus(tmp_path / "src", {"owls.txt": nasty, "evil\x1b[1mname\x07.txt": "Owls hoot loudly at dusk.\n"})
    idx = tmp_path / "idx"
    build_index(src, idx, encoder=FakeEncoder(), progress=False, onnx=False)
    import retriever.query_encoder as qe

    real = qe.open_query_encoder
    qe.open_query_encoder = lambda index, **k: FakeEncoder()
    try:
        assert main(["When do owls hunt and sleep?", "--index-dir", str(idx), "--no-server", "-k", "2"]) == 0
        shown = capsys.readouterr().out
        assert main(["When do owls hunt and sleep?", "--index-dir", str(idx), "--no-server", "--json"]) == 0
        body = json.loads(capsys.readouterr().out)
    finally:
        qe.open_query_encoder = real
    bad = [c for c in shown if (ord(c) < 32 and c not in "\n\t") or 0x7f <= ord(c) <= 0x9f or c == "\u202e"]
    assert bad == [], repr(shown)
    assert "Owls hunt at night and sleep by day." in " ".join(shown.split()) and "pwned" not in shown
    assert "evil[1m" not in shown and "evilname.txt" in shown
    # --json keeps the verbatim text (JSON escapes the controls)
    assert any("\x1b[2J" in p["text"] for p in body["passages"])


# -- HTTP availability: header cap, header deadline, connection cap (a real uvicorn server)

import socket  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from contextlib import contextmanager  # noqa: E402

import pytest  # noqa: E402


@contextmanager
def _capped_server(tmp_path, **limits):
    import uvicorn

    from server.app import create_app
    from server.protocol import uvicorn_options
    from server.settings import Settings
    from tests.conftest import TINY, write_corpus
    from tests.serving import fake_loader, tiny_index

    index_dir = tiny_index(write_corpus(tmp_path / "src", TINY), tmp_path / "idx")
    settings = Settings(index_dir=index_dir, warm_up=False, access_log=False, watch_seconds=0, **limits)
    options = uvicorn_options(settings)
    server = uvicorn.Server(uvicorn.Config(create_app(settings, load=fake_loader), host="127.0.0.1", port=0,
                                           log_level="warning", access_log=False, **options))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the test server did not start"
        time.sleep(0.02)
    try:
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def _request(port: int, raw: bytes, timeout: float = 10) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        try:
            s.sendall(raw)
        except (BrokenPipeError, ConnectionResetError):
            pass
        return _read_all(s)


def _read_all(s: socket.socket) -> bytes:
    out = b""
    try:
        while chunk := s.recv(65536):
            out += chunk
    except (ConnectionResetError, TimeoutError):
        pass
    return out


HEALTH = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"


def test_huge_or_too_many_headers_get_431(tmp_path):
    with _capped_server(tmp_path, max_header_bytes=4096, max_headers=20) as port:
        assert _request(port, HEALTH + b"\r\n").startswith(b"HTTP/1.1 200")
        big = HEALTH + b"X-Big: " + b"a" * 1_000_000 + b"\r\n\r\n"
        assert _request(port, big).startswith(b"HTTP/1.1 431"), "a 1 MB header is refused"
        many = HEALTH + b"".join(b"X-%d: 1\r\n" % i for i in range(30)) + b"\r\n"
        assert _request(port, many).startswith(b"HTTP/1.1 431")
        ok = HEALTH + b"".join(b"X-%d: 1\r\n" % i for i in range(10)) + b"\r\n"
        assert _request(port, ok).startswith(b"HTTP/1.1 200")  # under both caps
        # keep-alive: the second request's headers are capped too
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            first = s.recv(65536)
            assert first.startswith(b"HTTP/1.1 200")
            s.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n")
            assert b"431" in _read_all(s)[:20]


def test_slow_and_idle_connections_are_closed(tmp_path):
    with _capped_server(tmp_path, header_timeout_seconds=1.0, keep_alive_seconds=1.0) as port:
        idle = socket.create_connection(("127.0.0.1", port), timeout=10)
        slow = socket.create_connection(("127.0.0.1", port), timeout=10)
        t0 = time.monotonic()
        slow.sendall(b"GET /health HTTP/1.1\r\n")
        got = b""
        for _ in range(40):  # one header byte every 0.1 s: every byte would re-arm a keep-alive timer
            try:
                slow.sendall(b"X")
            except (BrokenPipeError, ConnectionResetError):
                break
            slow.settimeout(0.1)
            try:
                got += slow.recv(1024)
                if got:
                    break
            except TimeoutError:
                pass
        slow.settimeout(10)
        got += _read_all(slow)
        assert got.startswith(b"HTTP/1.1 408"), got[:60]
        assert time.monotonic() - t0 < 3
        assert _read_all(idle) == b"" and time.monotonic() - t0 < 3  # closed by the server, no answer
        idle.close()
        slow.close()
        assert _request(port, HEALTH + b"\r\n").startswith(b"HTTP/1.1 200")


def test_connections_over_the_cap_get_503_until_idle_ones_time_out(tmp_path):
    with _capped_server(tmp_path, max_connections=4, header_timeout_seconds=1.5) as port:
        held = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(4)]
        time.sleep(0.2)
        assert _request(port, HEALTH + b"\r\n").startswith(b"HTTP/1.1 503")
        time.sleep(2.0)  # the idle ones pass their header deadline and are closed
        assert _request(port, HEALTH + b"\r\n").startswith(b"HTTP/1.1 200")
        for s in held:
            s.close()


def test_without_httptools_h11_caps_the_headers(tmp_path, monkeypatch):
    import server.protocol as protocol
    from server.settings import Settings

    monkeypatch.setattr(protocol, "HttpToolsProtocol", None)
    options = protocol.uvicorn_options(Settings())
    assert options["http"] == "h11" and options["h11_max_incomplete_event_size"] == 32_768
    with _capped_server(tmp_path, max_header_bytes=4096) as port:
        status = _request(port, HEALTH + b"X-Big: " + b"a" * 1_000_000 + b"\r\n\r\n")[:12]
        assert status in (b"HTTP/1.1 400", b"HTTP/1.1 431"), status


pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
