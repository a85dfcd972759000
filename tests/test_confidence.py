"""Low-confidence answers: the flag in the contract, its wording in `ask`, titles in /documents, and
the measurement of the threshold (eval/confidence.py)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from eval.confidence import crossing, isotonic, split_at
from indexer.indexdir.store import document_title
from indexer.schema import Answer, Passage, Result
from retriever.cli import render
from retriever.pipeline import Retriever, RetrieverConfig
from retriever.remote import result_from_dict
from server.app import create_app
from server.deps import get_retriever
from server.settings import Settings
from tests.conftest import FakeEncoder
from tests.serving import tiny_index


def open_tiny(tiny_corpus, tmp_path, **config) -> Retriever:
    return Retriever.open(tiny_index(tiny_corpus, tmp_path / "idx"), encoder=FakeEncoder(),
                          config=RetrieverConfig(**config))


def test_answers_under_the_threshold_are_flagged(tiny_corpus, tmp_path):
    r = open_tiny(tiny_corpus, tmp_path)
    a = r.ask("How long do cats sleep?").answer
    assert a is not None and a.low_confidence is (a.score < RetrieverConfig().low_confidence)
    above, below = r.with_config(low_confidence=a.score - 0.01), r.with_config(low_confidence=a.score + 0.01)
    assert above.ask("How long do cats sleep?").answer.low_confidence is False
    flagged = below.ask("How long do cats sleep?")
    assert flagged.answer.low_confidence is True
    body = flagged.to_dict()
    assert body["answer"]["low_confidence"] is True  # the JSON contract, additive
    assert result_from_dict(body).answer.low_confidence is True  # and back, as `ask` reads a server's reply
    assert r.ask("Who painted the Mona Lisa?").to_dict()["answer"] is None


def test_the_server_sends_the_flag_and_titles(tiny_corpus, tmp_path):
    r = open_tiny(tiny_corpus, tmp_path, low_confidence=1.0)
    app = create_app(Settings(index_dir="/nonexistent", warm_up=False), load=lambda s: None)
    app.dependency_overrides[get_retriever] = lambda: r
    client = TestClient(app, base_url="http://127.0.0.1")
    a = client.post("/ask", json={"question": "How long do cats sleep?"}).json()["answer"]
    assert a["low_confidence"] is True
    docs = {d["source"]: d["title"] for d in client.get("/documents").json()["documents"]}
    # a first line that is a sentence names nothing: only dogs.md has a title
    assert docs == {"animals/cats.txt": None, "animals/dogs.md": "Dogs", "money.txt": None, "space.txt": None}
    some = client.get("/documents", params=[("source", "animals/dogs.md"), ("source", "nope.txt")]).json()
    assert [(d["source"], d["title"]) for d in some["documents"]] == [("animals/dogs.md", "Dogs")]
    spec = client.get("/openapi.json").json()["components"]["schemas"]
    assert "low_confidence" in spec["AnswerOut"]["properties"] and "title" in spec["DocumentOut"]["properties"]


def result(low: bool) -> Result:
    a = Answer("Cats sleep a lot.", "cats.txt", 0, 17, 1, 1, score=0.14 if low else 0.86, passage=0,
               low_confidence=low)
    return Result("q?", a, (Passage("Cats sleep a lot.", "cats.txt", 0, 17, 1, 1, score=0.5, chunk_id=0),))


def test_ask_says_low_confidence_in_words():
    low, sure = render(result(True)), render(result(False))
    assert low.splitlines()[0] == "Low-confidence answer (0.14; check it against the passages):"
    assert sure.splitlines()[0] == "Answer (confidence 0.86):"
    assert "Low-confidence" not in sure


def test_document_titles():
    assert document_title("# Install\nText") == "Install"
    assert document_title("intro line\n\n## Later heading ##\n") == "Later heading"
    assert document_title("\n\n   First  line   here\nsecond") == "First line here"
    # a licence's opening sentence wrapped over two lines is a paragraph, not a title
    assert document_title("This program and the accompanying materials are made available under\n"
                          "the terms of the Eclipse Public License 2.0 which is available at\n") is None
    assert document_title("\n321\nAI Models Are Becoming Commodities\nText.") == "AI Models Are Becoming Commodities"
    assert document_title("Why You Care\nAre you ready?") == "Why You Care"
    # a first line that is no title: a sentence, a clause, a table row, a paragraph on one line
    for text in ("Cats sleep for sixteen hours a day.\nA cat purrs.", "Last October, there was a line,\nmore",
                 "| a | b |\n|---|---|\n", "word " * 100, "Do this:\n  make"):
        assert document_title(text) is None, text
    assert document_title("---\n\n") is None and document_title("") is None
    # reStructuredText: its :title: field, else its first title after its fields and comments
    assert document_title(":title: AWS CLI S3 FAQ\n:category: S3\n\nS3 FAQ\n======\n") == "AWS CLI S3 FAQ"
    assert document_title(".. _s3-faq:\n\n:orphan:\n\nS3 FAQ\n======\n") == "S3 FAQ"


def test_isotonic_crossing_and_split():
    pairs = [(0.1, False), (0.2, False), (0.3, True), (0.35, False), (0.6, True), (0.7, True), (0.9, True)]
    fit = isotonic(pairs)
    assert [p for _, _, p, _ in fit] == sorted(p for _, _, p, _ in fit)  # monotone
    assert sum(n for *_, n in fit) == len(pairs)
    assert crossing(pairs) == 0.25  # between 0.2 (last of the P=0 block) and 0.3 (first of the P=0.5 block)
    assert crossing([(0.5, True)]) is None and crossing([(0.5, False)]) is None
    s = split_at(pairs, 0.5)
    assert (s["below"], s["below_right"], s["above"], s["above_right"]) == (4, 1, 3, 3)
