"""The optional cross-encoder: how it re-scores answer sentences, and loading one."""

from __future__ import annotations

import numpy as np
import pytest

from indexer.errors import ModelError
from retriever.cross import CrossEncoderScorer, open_cross_encoder
from retriever.pipeline import scored_sentences
from server.settings import Settings

QUESTION = "How much will big tech spend on AI data centers this year?"


class Prefers:
    """A stand-in cross-encoder: probability 1 for texts ending with one sentence, 0 for the rest."""

    def __init__(self, sentence: str):
        self.sentence = sentence
        self.calls = []

    def score(self, question, texts):
        self.calls.append((question, list(texts)))
        return np.array([1.0 if t.endswith(self.sentence) else 0.0 for t in texts], dtype=np.float32)


@pytest.mark.model
def test_the_cross_encoder_reorders_answer_sentences(seeds_retriever):
    plain = seeds_retriever.ask(QUESTION)
    candidates = scored_sentences(seeds_retriever, QUESTION)
    assert plain.answer is not None and len(candidates) > 1
    # the best candidate the plain scorer ranks below the answer
    other = next(s for s in candidates[1:] if not (s.sentence.start_char >= plain.answer.start_char
                                                   and s.sentence.end_char <= plain.answer.end_char))
    cross = Prefers(other.sentence.text)
    r = seeds_retriever.with_config(cross_weight=5.0)
    r.cross_encoder = cross
    result = r.ask(QUESTION)
    assert result.answer is not None
    assert result.answer.start_char <= other.sentence.start_char and other.sentence.end_char <= result.answer.end_char
    assert result.answer.source == other.chunk.source
    # the best 16 sentences are read once each, after the sentence before it in its passage
    (question, texts), = cross.calls
    assert question == QUESTION and len(texts) == len(set(texts)) == 16
    own = seeds_retriever.index.store.sentences_of(other.chunk)
    i = next(j for j, x in enumerate(own) if x.id == other.sentence.id)
    assert i > 0  # the chosen sentence has one before it in its passage: the test reads both
    assert f"{own[i - 1].text} {other.sentence.text}" in texts
    # only as many as cross_sentences
    few = seeds_retriever.with_config(cross_sentences=2)
    few.cross_encoder = Prefers(other.sentence.text)
    few.ask(QUESTION)
    assert len(few.cross_encoder.calls[0][1]) == 2
    # weight 0 (or no sentences) leaves quarry's own choice, without asking the cross-encoder
    for changes in ({"cross_weight": 0.0}, {"cross_sentences": 0}):
        off = seeds_retriever.with_config(**changes)
        off.cross_encoder = Prefers(other.sentence.text)
        assert off.ask(QUESTION).answer == plain.answer and off.cross_encoder.calls == []


@pytest.mark.model
def test_with_config_keeps_the_cross_encoder(seeds_retriever):
    r = seeds_retriever.with_config(rrf_k=30.0)
    assert r.cross_encoder is None
    r.cross_encoder = Prefers("x")
    assert r.with_config(rrf_k=60.0).cross_encoder is r.cross_encoder


@pytest.mark.slow
def test_a_folder_that_is_no_cross_encoder_is_a_clear_error(tmp_path):
    with pytest.raises(ModelError, match="not a cross-encoder model folder"):
        CrossEncoderScorer(tmp_path)
    assert open_cross_encoder(None) is None and open_cross_encoder("") is None
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ModelError, match="of no stated architecture"):
        CrossEncoderScorer(tmp_path)
    (tmp_path / "config.json").write_text("not json")
    with pytest.raises(ModelError, match="cannot read the cross-encoder's config.json"):
        CrossEncoderScorer(tmp_path)
    # the packaged embedding model would get a random scoring head
    from indexer.encoder import default_model_path

    with pytest.raises(ModelError, match="not a cross-encoder .* is BertModel"):
        CrossEncoderScorer(default_model_path())
    # a stated classifier without weights fails when opened, not on the first question
    (tmp_path / "config.json").write_text('{"architectures": ["BertForSequenceClassification"]}')
    with pytest.raises(ModelError, match="cannot load the cross-encoder"):
        open_cross_encoder(tmp_path)


def test_settings_read_the_cross_encoder_from_the_environment(monkeypatch):
    monkeypatch.setenv("QUARRY_CROSS_ENCODER", "/models/ce")
    assert Settings.from_env().cross_encoder == "/models/ce"
    assert Settings.from_env(cross_encoder="/other").cross_encoder == "/other"
    # the server's worker processes get their settings this way
    monkeypatch.delenv("QUARRY_CROSS_ENCODER")
    assert Settings.from_env(**Settings.from_env(cross_encoder="/other").to_dict()).cross_encoder == "/other"


@pytest.mark.model
def test_the_server_refuses_a_broken_cross_encoder_with_a_message(seeds_index, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    (tmp_path / "config.json").write_text('{"architectures": ["BertForSequenceClassification"]}')
    done = subprocess.run([sys.executable, "-m", "server", "--index-dir", str(seeds_index), "--port", "0",
                           "--cross-encoder", str(tmp_path)], cwd=Path(__file__).parent.parent,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "cannot load the cross-encoder" in done.stderr and "Traceback" not in done.stderr + done.stdout


@pytest.mark.model
def test_a_cross_encoder_folder_loads_and_scores(tmp_path):
    """A sentence-transformers CrossEncoder saved to a folder (here the packaged model with a new,
    untrained one-output head) loads offline and gives one probability per text."""
    from sentence_transformers import CrossEncoder

    from indexer.encoder import default_model_path

    CrossEncoder(str(default_model_path()), num_labels=1, local_files_only=True).save_pretrained(str(tmp_path / "ce"))
    p = CrossEncoderScorer(tmp_path / "ce").score("Who founded Acme?", ["Acme was founded by Jane Roe.", "Rain."])
    assert p.shape == (2,) and p.dtype == np.float32 and np.all((p > 0) & (p < 1))
    assert CrossEncoderScorer(tmp_path / "ce").score("q", []).shape == (0,)
    assert open_cross_encoder(tmp_path / "ce") is open_cross_encoder(str(tmp_path / "ce"))


@pytest.mark.model
def test_a_cross_encoder_with_several_outputs_is_refused(tmp_path):
    from sentence_transformers import CrossEncoder

    from indexer.encoder import default_model_path

    CrossEncoder(str(default_model_path()), num_labels=3, local_files_only=True).save_pretrained(str(tmp_path / "ce"))
    with pytest.raises(ModelError, match="has 3 outputs"):
        CrossEncoderScorer(tmp_path / "ce").score("q", ["t"])


@pytest.mark.model
def test_ask_with_a_missing_cross_encoder_says_so(seeds_index, tmp_path, capsys):
    from retriever.cli import main as ask_main

    assert ask_main(["--index-dir", str(seeds_index), "--cross-encoder", str(tmp_path / "none"), QUESTION]) == 1
    assert "not a cross-encoder model folder" in capsys.readouterr().err


def test_eval_with_a_missing_cross_encoder_says_so(tmp_path, capsys):
    from eval.cli import main as eval_main

    assert eval_main(["--split", "test", "--config", "hybrid", "--cross-encoder", str(tmp_path / "none")]) == 1
    assert "not a cross-encoder model folder" in capsys.readouterr().err


def test_cross_settings_are_checked():
    from retriever.pipeline import RetrieverConfig

    for bad in ({"cross_weight": -1.0}, {"cross_sentences": -1}):
        with pytest.raises(ValueError, match="at least 0"):
            RetrieverConfig(**bad)


def test_questions_go_through_the_model_one_at_a_time(tmp_path):
    """The server asks from several threads; the scorer lets one question at a time into the model."""
    import threading
    import time

    (tmp_path / "config.json").write_text('{"architectures": ["BertForSequenceClassification"]}')
    scorer = CrossEncoderScorer(tmp_path)
    inside, most = [0], [0]
    guard = threading.Lock()

    class Model:
        def predict(self, pairs, **kwargs):
            with guard:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
            time.sleep(0.02)
            with guard:
                inside[0] -= 1
            return np.zeros(len(pairs))

    scorer._model = Model()
    threads = [threading.Thread(target=scorer.score, args=("q", ["a", "b"])) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most[0] == 1
    assert np.allclose(scorer.score("q", ["a"]), 0.5)
