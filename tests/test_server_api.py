"""The HTTP API through FastAPI's test client, the retriever swapped in with dependency_overrides (fake encoder)."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from fastapi.testclient import TestClient

from retriever.pipeline import Retriever
from server.app import create_app
from server.context import context_bounds
from server.deps import get_retriever
from server.settings import Settings
from tests.conftest import TINY, FakeEncoder
from tests.serving import tiny_index


@pytest.fixture
def retriever(tiny_corpus, tmp_path) -> Retriever:
    enc = FakeEncoder()
    return Retriever.open(tiny_index(tiny_corpus, tmp_path / "idx"), encoder=enc)


def make_client(retriever: Retriever, **settings) -> TestClient:
    # no lifespan (no `with`): nothing is loaded, the dependency is replaced
    app = create_app(Settings(index_dir="/nonexistent", warm_up=False, **settings),
                     load=lambda s: pytest.fail("the lifespan must not run here"))
    app.dependency_overrides[get_retriever] = lambda: retriever
    return TestClient(app, base_url="http://127.0.0.1")


@pytest.fixture
def client(retriever) -> TestClient:
    return make_client(retriever)


def test_ask_returns_the_contract(client, retriever, tiny_corpus):
    r = client.post("/ask", json={"question": "How long do cats sleep?", "k": 2})
    assert r.status_code == 200
    body = r.json()
    assert body == retriever.ask("How long do cats sleep?", k=2).to_dict()
    assert set(body) == {"question", "answer", "passages"}
    a = body["answer"]
    assert (a["text"], a["source"], a["start_char"], a["end_char"], a["start_line"], a["end_line"]) == \
        ("Cats sleep for sixteen hours a day.", "animals/cats.txt", 0, 35, 1, 1)
    assert len(body["passages"]) == 2
    for span in [a, *body["passages"]]:  # verbatim slices of the files
        doc = (tiny_corpus / span["source"]).read_bytes().decode("utf-8")
        assert doc[span["start_char"]:span["end_char"]] == span["text"]


def test_ask_default_k_and_abstention(client):
    body = client.post("/ask", json={"question": "Who painted the Mona Lisa?"}).json()
    assert body["answer"] is None
    assert 1 <= len(body["passages"]) <= 5
    assert body["question"] == "Who painted the Mona Lisa?"


@pytest.mark.parametrize(("body", "status", "says"), [
    ({"question": ""}, 422, "question"),
    ({"question": "   \n\t"}, 422, "the question is empty"),
    ({"question": "x" * 1001}, 422, "at most 1000 characters"),
    ({"question": "cats", "k": 0}, 422, "k: Input should be greater than or equal to 1"),
    ({"question": "cats", "k": 51}, 422, "k: Input should be less than or equal to 50"),
    ({"question": "cats", "k": "5"}, 422, "k: Input should be a valid integer"),
    ({"question": "cats", "k": True}, 422, "k: Input should be a valid integer"),
    ({"question": 5}, 422, "question: Input should be a valid string"),
    ({"k": 5}, 422, "question: Field required"),
    ({"question": "cats", "q": 1}, 422, "unknown field 'q'"),
    ([1, 2], 422, "JSON object"),
])
def test_bad_input_is_a_4xx_naming_the_problem(client, body, status, says):
    r = client.post("/ask", json=body)
    assert r.status_code == status
    assert says in r.json()["detail"]
    assert client.post("/ask", json={"question": "cats"}).status_code == 200  # still serving


@pytest.mark.parametrize(("content", "says"), [
    (b'{"question": "cats",', "not valid JSON"),
    (b"not json at all", "not valid JSON"),
    (b"", "JSON object"),
])
def test_malformed_json(client, content, says):
    r = client.post("/ask", content=content, headers={"Content-Type": "application/json"})
    assert r.status_code in (400, 422)
    assert says in r.json()["detail"]
    if content:
        assert r.status_code == 400


def test_exactly_1000_characters_is_accepted(client):
    assert client.post("/ask", json={"question": "cats " * 200}).status_code == 200


def test_oversized_body_announced_or_streamed(retriever):
    client = make_client(retriever, max_body_bytes=2048)
    big = json.dumps({"question": "cats", "pad": "x" * 5000}).encode()
    r = client.post("/ask", content=big, headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    assert r.json() == {"detail": "the request body is too large: the limit is 2048 bytes"}
    r = client.post("/ask", content=iter([big[:1000], big[1000:]]),  # chunked: no Content-Length
                    headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    assert "limit is 2048 bytes" in r.json()["detail"]
    assert client.post("/ask", json={"question": "cats"}).status_code == 200


def test_api_key(retriever):
    client = make_client(retriever, api_key="s3cret")
    for path, method in [("/ask", "post"), ("/documents", "get"),
                         ("/context?source=space.txt&start_char=0&end_char=5", "get")]:
        kw = {"json": {"question": "cats"}} if method == "post" else {}
        r = getattr(client, method)(path, **kw)
        assert r.status_code == 401, path
        assert "X-API-Key" in r.json()["detail"]
        r = getattr(client, method)(path, headers={"X-API-Key": "wrong"}, **kw)
        assert r.status_code == 401
        assert "does not match" in r.json()["detail"]
        assert getattr(client, method)(path, headers={"X-API-Key": "s3cret"}, **kw).status_code == 200
    # open: liveness, the page, its assets, the API docs
    for path in ["/health", "/", "/static/app.js", "/docs", "/openapi.json"]:
        assert client.get(path).status_code == 200, path


def test_no_key_configured_means_open(client):
    assert client.get("/documents").status_code == 200


def test_health_names_the_cross_encoder_in_use(retriever):
    class Named:
        name = "my-cross-encoder"

        def score(self, question, texts):
            return [0.5] * len(texts)

    with_cross = retriever.with_config()
    with_cross.cross_encoder = Named()
    client = make_client(with_cross)
    assert client.get("/health").json()["cross_encoder"] == "my-cross-encoder"
    assert client.get("/health").json()["reader"] is None
    assert client.post("/ask", json={"question": "How long do cats sleep?"}).json()["answer"]["source"] == \
        "animals/cats.txt"

    class Reader:
        name = "my-reader"

        def read(self, question, passages, sentences):
            from retriever.reader import Reading

            return Reading([np.zeros(len(s), dtype=np.float32) for s in sentences], no_answer=0.9)

    for abstain in (False, True):
        with_reader = retriever.with_config(reader_abstain=abstain)
        with_reader.reader = Reader()
        client = make_client(with_reader)
        health = client.get("/health").json()
        assert health["reader"] == "my-reader" and health["reader_abstain"] is abstain
        answer = client.post("/ask", json={"question": "How long do cats sleep?"}).json()["answer"]
        assert (answer is None) is abstain  # the reader sees no answer: quarry abstains only when asked to


def test_health_and_documents(client):
    health = client.get("/health").json()
    version, updated = health.pop("version"), health.pop("updated_at")
    assert health == {"status": "ok", "documents": 4, "chunks": 4, "model": "fake-bow", "cross_encoder": None,
                      "reader": None, "reader_abstain": False, "reload_error": None,
                      "pid": os.getpid()}  # the test client runs the app in this process
    assert len(version) == 12 and int(version, 16) >= 0 and updated.endswith("+00:00")
    docs = client.get("/documents").json()["documents"]
    assert [d["source"] for d in docs] == sorted(TINY)
    assert {d["source"]: d["size"] for d in docs} == {k: len(v.encode()) for k, v in TINY.items()}
    assert all(d["chunks"] == 1 and len(d["sha256"]) == 64 for d in docs)


def test_context_serves_indexed_text_only(client, tiny_corpus):
    doc = TINY["space.txt"]
    start = doc.index("Mars")
    r = client.get("/context", params={"source": "space.txt", "start_char": start, "end_char": len(doc)})
    assert r.status_code == 200
    c = r.json()
    assert c["text"] == doc[start:]
    assert c["before"] + c["text"] + c["after"] == doc[c["context_start"]:c["context_end"]]
    assert (c["context_start"], c["context_end"], c["document_chars"]) == (0, len(doc), len(doc))
    for source in ["../corpus/space.txt", "/etc/passwd", str(tiny_corpus / "space.txt"), "animals", "SPACE.TXT"]:
        r = client.get("/context", params={"source": source, "start_char": 0, "end_char": 1})
        assert r.status_code == 404, source
        assert "no indexed document" in r.json()["detail"]
    r = client.get("/context", params={"source": "space.txt", "start_char": 5, "end_char": 1000})
    assert r.status_code == 422
    assert client.get("/context", params={"source": "space.txt", "start_char": -1, "end_char": 3}).status_code == 422


def test_context_bounds_cut_at_lines_then_words():
    text = "alpha beta\ngamma delta epsilon\nzeta eta theta\niota kappa"
    s = text.index("delta")
    e = s + len("delta")
    got = {chars: text[slice(*context_bounds(text, s, e, chars))] for chars in (4, 8, 14, 20, 1000)}
    assert got == {
        4: "delta",  # no line break or space within reach: nothing is cut mid-word
        8: "gamma delta",  # a line break in the outer half before; a space after
        14: "gamma delta epsilon",  # line breaks in the outer halves: the whole line
        20: "alpha beta\ngamma delta epsilon\nzeta eta",  # the document's start; a space after
        1000: text,
    }
    word = "x" * 50 + "abc" + "y" * 50  # one long word: cut exactly at the window
    assert context_bounds(word, 50, 53, 10) == (40, 63)


def test_openapi_and_offline_docs(client):
    spec = client.get("/openapi.json").json()
    assert {"/ask", "/health", "/documents", "/context"} <= set(spec["paths"])
    ask = spec["paths"]["/ask"]["post"]
    assert {"200", "400", "401", "413", "422"} <= set(ask["responses"])
    html = client.get("/docs").text
    assert "swagger-ui-bundle.js" in html and "cdn" not in html.lower()


def test_page_is_served_and_self_contained(client):
    from server.app import STATIC

    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert 'id="question"' in page.text
    for f in STATIC.iterdir():  # nothing fetched from elsewhere: the page works offline
        text = f.read_text()
        assert "http://" not in text and "https://" not in text and "//cdn" not in text, f.name
        assert client.get(f"/static/{f.name}").status_code == 200


def test_lifespan_loads_once_and_serves(tiny_corpus, tmp_path):
    index_dir = tiny_index(tiny_corpus, tmp_path / "idx")
    loads = []

    def load(settings):
        loads.append(settings.index_dir)
        return Retriever.open(settings.index_dir, encoder=FakeEncoder())

    app = create_app(Settings(index_dir=index_dir), load=load)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        assert client.get("/health").status_code == 200
        for _ in range(3):
            assert client.post("/ask", json={"question": "How many moons does Mars have?"}).json()["answer"]["text"] \
                == "Mars has two moons, Phobos and Deimos."
    assert loads == [index_dir]


def test_an_index_deleted_by_hand_is_a_503_saying_how_to_rebuild(retriever):
    import shutil

    shutil.rmtree(retriever.index.path)  # not through the indexer: no lease protects threads that never read it
    r = make_client(retriever).post("/ask", json={"question": "How long do cats sleep?"})
    assert r.status_code == 503, r.text
    assert "cannot be opened" in r.json()["detail"] and "--rebuild" in r.json()["detail"]
