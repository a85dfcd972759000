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
