"""The documented three-line use of the library (docs/python-api.md), exactly as a user writes it."""

from __future__ import annotations

import pytest

from indexer.build import build_index
from indexer.errors import SettingsError


def test_the_three_line_use(tiny_corpus, tmp_path, fake_encoder, monkeypatch):
    build_index(tiny_corpus, tmp_path / "index-dir", encoder=fake_encoder, progress=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("QUARRY_ENCODER", "torch")  # the index has no ONNX export: the fake encoder made it
    monkeypatch.setattr("retriever.query_encoder.SentenceTransformerEncoder", lambda model=None: fake_encoder)

    from retriever import Retriever
    r = Retriever.open("index-dir")
    result = r.ask("What were dogs domesticated from?")

    assert result.answer is not None and "wolves" in result.answer.text
    assert result.answer.source == "animals/dogs.md"
    assert result.passages[0].source == "animals/dogs.md"


def test_tuning_internals_are_not_on_the_users_class():
    from retriever import Retriever

    for name in ("problems", "answer_span", "scored_sentences", "best_sentence"):
        assert not hasattr(Retriever, name), name


def test_open_refuses_a_reader_abstention_without_a_reader(tiny_corpus, tmp_path, fake_encoder, monkeypatch):
    from retriever import Retriever

    build_index(tiny_corpus, tmp_path / "idx", encoder=fake_encoder, progress=False)
    with pytest.raises(SettingsError, match="--reader-abstain needs a reader"):
        Retriever.open(tmp_path / "idx", encoder=fake_encoder, reader_abstain=True)
    monkeypatch.setenv("QUARRY_READER_ABSTAIN", "1")
    with pytest.raises(SettingsError, match="needs a reader"):
        Retriever.open(tmp_path / "idx", encoder=fake_encoder)
