"""Path traversal: no request makes the server read a file outside its index and its own page files.

Requests are sent as raw HTTP/1.1 (no client normalises ``..`` or percent-escapes away), to a live
server in this process, while an audit hook (``sys.addaudithook``) records every file Python opens
or lists. Targets: ``GET /context``'s ``source`` (the one parameter that names a document) and the
static files under ``/static/`` (plus ``/`` and unknown paths).
"""

from __future__ import annotations

import os
import socket
import sys
import threading
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import pytest

from server import app as app_module
from server.settings import Settings
from tests.conftest import TINY, write_corpus
from tests.serving import live_server, tiny_index

SECRET = "TOP-SECRET-7f3a"  # in a file outside the corpus; no response may ever hold it
_RECORDING = threading.Event()
_OPENED: list[str] = []


def _hook(event: str, args: tuple) -> None:
    if _RECORDING.is_set() and event in ("open", "os.listdir", "os.scandir", "sqlite3.connect"):
        path = args[0] if args else None
        if isinstance(path, (str, bytes, os.PathLike)):
            path = os.fsdecode(path)
            if event == "sqlite3.connect" and path.startswith("file:"):  # a URI: its path
                path = unquote(urlsplit(path).path)
            _OPENED.append(path)


sys.addaudithook(_hook)  # hooks cannot be removed: this one only records while _RECORDING is set


def raw_get(url: str, target: str) -> tuple[int, bytes]:
    """GET ``target`` exactly as written (the bytes after the method), on a new connection."""
    u = urlsplit(url)
    with socket.create_connection((u.hostname, u.port), timeout=60) as s:
        s.sendall(f"GET {target} HTTP/1.1\r\nHost: {u.netloc}\r\nConnection: close\r\n\r\n".encode("latin-1"))
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


@pytest.fixture
def setup(tmp_path, monkeypatch):
    """A corpus with symlinks pointing out of it, a static folder (a copy) with one too, a live server."""
    secret = tmp_path / "outside" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text(SECRET)
    corpus = write_corpus(tmp_path / "corpus", TINY)
    (corpus / "outside-dir").symlink_to(secret.parent)  # directory links are never followed by the indexer
    index_dir = tiny_index(corpus, tmp_path / "idx")
    (corpus / "late.txt").symlink_to(secret)  # appears after indexing: not in the index
    static = tmp_path / "static"
    static.mkdir()
    for f in app_module.STATIC.iterdir():
        (static / f.name).write_bytes(f.read_bytes())
    (static / "leak.txt").symlink_to(secret)
    (static / "up").symlink_to(tmp_path)
    monkeypatch.setattr(app_module, "STATIC", static)
    with live_server(Settings(index_dir=index_dir, watch_seconds=0)) as url:
        yield url, corpus, index_dir, static, secret


def context(source: str, encode: bool = True) -> str:
    return f"/context?source={quote(source, safe='') if encode else source}&start_char=0&end_char=1"


def attempts(corpus: Path, secret: Path) -> list[str]:
    names = ["../secret.txt", "../../outside/secret.txt", "../" * 12 + "etc/passwd", "/etc/passwd", str(secret),
             str(corpus / "space.txt"), "animals/../space.txt", "./space.txt", "animals//cats.txt",
             "..\\..\\etc\\passwd", "space.txt\x00", "\x00", "space.txt\x00.png", "late.txt", "outside-dir/secret.txt",
             "outside-dir", "animals", "", "%2e%2e/secret.txt", "file:///etc/passwd", "~/.ssh/id_rsa"]
    targets = [context(n) for n in names]
    targets += [context("..%2fsecret.txt", encode=False), context("%2e%2e%2f%2e%2e%2fetc%2fpasswd", encode=False),
                context("%252e%252e%252fsecret.txt", encode=False), context("%c0%ae%c0%ae/secret.txt", encode=False),
                context("space.txt%00", encode=False), context("%ff%fe", encode=False)]
    for path in ["../../outside/secret.txt", "..%2f..%2foutside%2fsecret.txt", "%2e%2e/%2e%2e/outside/secret.txt",
                 "%252e%252e/secret.txt", "..\\..\\outside\\secret.txt", "/etc/passwd", "//etc/passwd",
                 f"{secret}", "leak.txt", "up/outside/secret.txt", "up/idx/manifest.json", "app.js%00", "app.js%00.png",
                 "%00", "app.js/..", ".", "..", "%c0%ae%c0%ae/%c0%ae%c0%ae/outside/secret.txt", "%ff"]:
        targets.append(f"/static/{path}")
    targets += ["/../../outside/secret.txt", "/%2e%2e/%2e%2e/outside/secret.txt", "//etc/passwd",
                "/documents/../../outside/secret.txt", "/static/../server/app.py", "/docs/../../etc/passwd"]
    return targets


def test_traversal_attempts_read_nothing_outside(setup):
    url, corpus, index_dir, static, secret = setup
    # warm up every route (lazy imports, per-thread connections) before recording
    assert raw_get(url, context("space.txt"))[0] == 200 and raw_get(url, "/static/app.js")[0] == 200
    assert raw_get(url, "/")[0] == 200
    targets = attempts(corpus, secret)
    _OPENED.clear()
    _RECORDING.set()
    try:
        results = {t: raw_get(url, t) for t in targets}
        control = raw_get(url, "/static/style.css")  # proves the hook sees the server's own reads
    finally:
        _RECORDING.clear()
    for target, (status, body) in results.items():
        assert SECRET.encode() not in body, target
        assert b"root:" not in body and b"def create_app" not in body, target
        assert 400 <= status < 500, (target, status, body[:200])
    assert control[0] == 200
    allowed = [os.path.realpath(static), os.path.realpath(index_dir)]
    outside = [p for p in _OPENED
               if not any(os.path.commonpath([os.path.realpath(p), a]) == a for a in allowed)]
    assert outside == []
    assert any(p.endswith("style.css") for p in _OPENED)  # the control read was recorded
    assert not any("secret" in p or "passwd" in p for p in _OPENED)


def test_context_finds_documents_by_their_exact_indexed_name_only(setup):
    url, *_ = setup
    status, body = raw_get(url, context("animals/cats.txt"))
    assert status == 200 and b'"text":"C"' in body
    for name in ["animals/./cats.txt", "animals/cats.txt/", "/animals/cats.txt", "Animals/cats.txt"]:
        status, body = raw_get(url, context(name))
        assert status == 404 and b"no indexed document is named" in body, name
