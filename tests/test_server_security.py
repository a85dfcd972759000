"""Host header checks against DNS rebinding, security headers, HEAD, and plain validation messages."""

from __future__ import annotations

import pytest

from server.security import allowed_hosts, host_name, is_loopback
from tests.test_server_api import make_client, retriever  # noqa: F401  (the fixture)


def test_a_loopback_server_answers_only_to_loopback_names(retriever):  # noqa: F811
    client = make_client(retriever)
    assert client.get("/documents").status_code == 200
    for host in ("127.0.0.1:8000", "localhost", "[::1]:8000", "LOCALHOST:1"):
        assert client.get("/documents", headers={"Host": host}).status_code == 200, host
    for host in ("evil.example", "evil.example:8000", "127.0.0.1.evil.example", ""):
        r = client.get("/documents", headers={"Host": host})
        assert r.status_code == 400 and "unknown Host header" in r.text, host
    assert client.post("/ask", json={"question": "cats?"}, headers={"Host": "evil.example"}).status_code == 400


def test_listed_host_names_are_accepted(retriever):  # noqa: F811
    client = make_client(retriever, allowed_hosts=("quarry.lan",))
    assert client.get("/health", headers={"Host": "quarry.lan:8000"}).status_code == 200
    assert client.get("/health", headers={"Host": "other.lan"}).status_code == 400


def test_allowed_hosts_by_bind_address():
    assert allowed_hosts("0.0.0.0") is None  # any: the user chose to serve the network
    assert allowed_hosts("0.0.0.0", ("a.lan",)) == {"a.lan", "0.0.0.0"}
    assert {"localhost", "127.0.0.1", "::1"} <= allowed_hosts("127.0.0.2")
    assert is_loopback("::1") and is_loopback("127.3.4.5") and not is_loopback("10.0.0.1")
    assert host_name("[::1]:8000") == "::1" and host_name("Example.org:80") == "example.org"


def test_every_response_carries_security_headers(retriever):  # noqa: F811
    client = make_client(retriever)
    for r in (client.get("/"), client.get("/health"), client.get("/static/app.js"),
              client.get("/documents", headers={"Host": "evil.example"})):
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
        assert "script-src 'self'" in r.headers["content-security-policy"]
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY" and r.headers["referrer-policy"] == "no-referrer"


def test_the_page_has_no_inline_script_or_style():
    from server.app import STATIC

    page = (STATIC / "index.html").read_text()
    assert "<style" not in page and " style=" not in page and "onclick=" not in page
    assert all("src=" in tag for tag in page.split("<script")[1:])


def test_head_on_the_page_is_200(retriever):  # noqa: F811
    client = make_client(retriever)
    assert client.head("/").status_code == 200
    assert client.head("/health").status_code in (200, 405)  # FastAPI answers HEAD only where asked


@pytest.mark.parametrize("body", [{"question": "   "}, {"question": ""}])
def test_a_blank_question_message_is_plain(retriever, body):  # noqa: F811
    r = make_client(retriever).post("/ask", json=body)
    assert r.status_code == 422 and "Value error" not in r.json()["detail"]
    assert "the question is empty" in r.json()["detail"]
