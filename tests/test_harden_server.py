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
    assert body["index_dir"] is None
    assert "/nonexistent" not in client.get("/health").text
    assert body["reload_error"].startswith("cannot switch to the index now at INDEX_DIR: cannot read "
                                           "INDEX_DIR/chunks.faiss")


def test_health_shows_the_index_path_to_the_key_holder_only(retriever):  # noqa: F811
    client = _with_reload_error(make_client(retriever, api_key="s3cret"), "/nonexistent")
    for headers in ({}, {"X-API-Key": "wrong"}, {"X-API-Key": ""}):
        r = client.get("/health", headers=headers)
        assert r.status_code == 200 and "/nonexistent" not in r.text, headers
        assert r.json()["index_dir"] is None
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
