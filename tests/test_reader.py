"""The optional extractive reader: span probabilities, how it scores answer sentences, loading one."""

from __future__ import annotations

import numpy as np
import pytest

from indexer.errors import ModelError
from retriever.pipeline import scored_sentences
from retriever.reader import ReaderScorer, Reading, open_reader, span_probabilities
from server.settings import Settings

QUESTION = "How much will big tech spend on AI data centers this year?"


def test_span_probabilities_by_hand():
    # [CLS] q [SEP] t0 t1 t2 t3 [SEP]: passage tokens at 3..6, two sentences: t0 t1 (chars 0-9), t2 t3 (10-19)
    seq = [None, 0, None, 1, 1, 1, 1, None]
    offsets = [(0, 0), (0, 1), (0, 0), (0, 4), (5, 9), (10, 14), (15, 19), (0, 0)]
    start = np.array([0.0, 9, 9, 0, np.log(3), 0, 0, 9])  # the question and [SEP] tokens do not count
    end = np.array([0.0, 9, 9, 0, 0, 0, np.log(3), 9])
    # softmax over [CLS] and t0..t3: start probabilities 1/7, 1/7, 3/7, 1/7, 1/7 (end alike, t3 3/7)
    got, null = span_probabilities(start, end, seq, offsets, [(0, 9), (10, 19)])
    # sentence 1: best span t1..t1 or t0..t1: start(t1) 3/7 x end(t1) 1/7; sentence 2: t2..t3: 1/7 x 3/7
    assert got == pytest.approx([3 / 49, 3 / 49])
    assert null == pytest.approx(1 / 49)  # [CLS] as start 1/7 x as end 1/7
    # a span may not end before it starts: sentence 1 alone with the end mass on t0 (before t1)
    end_first = np.array([0.0, 9, 9, np.log(3), 0, 0, 0, 9])
    assert span_probabilities(start, end_first, seq, offsets, [(0, 9)])[0] == pytest.approx([3 / 49])
    # nor be longer than max_tokens: t0..t1 needs 2 tokens
    start_t0 = np.array([0.0, 9, 9, np.log(3), 0, 0, 0, 9])
    end_t1 = np.array([0.0, 9, 9, 0, np.log(3), 0, 0, 9])
    assert span_probabilities(start_t0, end_t1, seq, offsets, [(0, 9)])[0] == pytest.approx([9 / 49])
    assert span_probabilities(start_t0, end_t1, seq, offsets, [(0, 9)], max_tokens=1)[0] == pytest.approx([3 / 49])
    # padded on the left: the "no answer" token is the first real one, not position 0
    pad = 2
    left = span_probabilities(np.r_[[50.0] * pad, start], np.r_[[50.0] * pad, end], [None] * pad + seq,
                              [(0, 0)] * pad + offsets, [(0, 9), (10, 19)], null_index=pad)
    assert left[0] == pytest.approx([3 / 49, 3 / 49]) and left[1] == pytest.approx(1 / 49)
    # a sentence no token lies inside of (cut off by the window) scores 0; no passage tokens at all: all 0
    assert span_probabilities(start, end, seq, offsets, [(20, 30)])[0].tolist() == [0.0]
    best, null = span_probabilities(start, end, [None, 0, None], offsets[:3], [(0, 9)])
    assert best.tolist() == [0.0] and null == 1.0  # nothing of the passage read: nothing but "no answer"
    # "no answer" takes the mass: [CLS] start and end logits log(45) -> 45/49 each
    sure = np.array([np.log(45.0), 9, 9, 0, 0, 0, 0, 9])
    best, null = span_probabilities(sure, sure, seq, offsets, [(0, 9), (10, 19)])
    assert null == pytest.approx((45 / 49) ** 2) and best == pytest.approx([1 / 49 ** 2, 1 / 49 ** 2])


class Prefers:
    """A stand-in reader: probability ``p`` for one sentence (by its text), 0 for the rest, and
    ``no_answer`` for "no answer"."""

    def __init__(self, sentence: str, p: float = 1.0, no_answer: float = 0.0):
        self.sentence, self.p, self.no_answer = sentence, p, no_answer
        self.calls = []

    def read(self, question, passages, sentences):
        self.calls.append((question, list(passages), [list(s) for s in sentences]))
        return Reading([np.array([self.p if p[a:b] == self.sentence else 0.0 for a, b in ss], dtype=np.float32)
                        for p, ss in zip(passages, sentences)], self.no_answer)


@pytest.mark.model
def test_the_reader_reorders_answer_sentences(seeds_retriever):
    plain = seeds_retriever.ask(QUESTION)
    candidates = scored_sentences(seeds_retriever, QUESTION)
    assert plain.answer is not None and len(candidates) > 1
    other = next(s for s in candidates[1:] if not (s.sentence.start_char >= plain.answer.start_char
                                                   and s.sentence.end_char <= plain.answer.end_char))
    reader = Prefers(other.sentence.text)
    r = seeds_retriever.with_config(reader_weight=5.0)
    r.reader = reader
    result = r.ask(QUESTION)
    assert result.answer is not None and result.answer.source == other.chunk.source
    assert result.answer.start_char <= other.sentence.start_char and other.sentence.end_char <= result.answer.end_char
    # the best 8 passages are read whole, once each; each sentence's range slices its passage's text
    (question, passages, ranges), = reader.calls
    assert question == QUESTION and len(passages) == 8 and len(set(passages)) == 8
    store = seeds_retriever.index.store
    for text, rs in zip(passages, ranges):
        assert any(text[a:b] == other.sentence.text for a, b in rs) or other.sentence.text not in text
        assert all(0 <= a < b <= len(text) for a, b in rs)
    chunk_texts = {c.text: c for c in store.chunks([s.chunk.id for s in candidates]).values()}
    c = chunk_texts[passages[0]]
    assert [passages[0][a:b] for a, b in ranges[0]] == [s.text for s in store.sentences_of(c)]
    few = seeds_retriever.with_config(reader_passages=2)
    few.reader = Prefers(other.sentence.text)
    few.ask(QUESTION)
    assert len(few.reader.calls[0][1]) == 2
    # weight 0 (or no passages) leaves quarry's own choice, without asking the reader
    for changes in ({"reader_weight": 0.0}, {"reader_passages": 0}):
        off = seeds_retriever.with_config(**changes)
        off.reader = Prefers(other.sentence.text)
        assert off.ask(QUESTION).answer == plain.answer and off.reader.calls == []
    assert r.with_config(rrf_k=60.0).reader is reader


@pytest.mark.model
def test_a_reader_that_finds_no_answer_makes_quarry_abstain_when_asked_to(seeds_retriever):
    plain = seeds_retriever.ask(QUESTION)
    sentence = scored_sentences(seeds_retriever, QUESTION)[0].sentence.text
    assert plain.answer is not None
    for p, no_answer, abstains in ((0.3, 0.6, True), (0.6, 0.3, False), (0.0, 1.0, True)):
        r = seeds_retriever.with_config(reader_abstain=True)
        r.reader = Prefers(sentence, p, no_answer)
        result = r.ask(QUESTION)
        assert (result.answer is None) is abstains, (p, no_answer)
        assert [x.chunk_id for x in result.passages] == [x.chunk_id for x in plain.passages]  # passages stay
        # not asked to: the reader only re-orders
        r = seeds_retriever.with_config(reader_abstain=False)
        r.reader = Prefers(sentence, p, no_answer)
        assert r.ask(QUESTION).answer is not None
    # with weight 0 the reader is still read, for its "no answer" alone
    r = seeds_retriever.with_config(reader_abstain=True, reader_weight=0.0)
    r.reader = Prefers(sentence, 0.3, 0.6)
    assert r.ask(QUESTION).answer is None and len(r.reader.calls) == 1
    assert scored_sentences(r, QUESTION) == []


def test_a_reading_weighs_the_best_span_against_no_answer():
    reading = Reading([np.array([0.1, 0.4], dtype=np.float32), np.array([], dtype=np.float32)], 0.3)
    assert reading.best == pytest.approx(0.4) and reading.answerable
    assert not Reading([np.array([0.2], dtype=np.float32)], 0.3).answerable
    assert not Reading([np.array([0.25], dtype=np.float32)], 0.25).answerable  # a tie is no answer
    assert Reading([]).best == 0.0 and not Reading([]).answerable


def tiny_reader_folder(path, positions: int = 512):
    """A question-answering BERT of one small layer, untrained, with the packaged model's tokenizer."""
    from transformers import AutoTokenizer, BertConfig, BertForQuestionAnswering

    from indexer.encoder import default_model_path

    tokenizer = AutoTokenizer.from_pretrained(str(default_model_path()), local_files_only=True)
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=16, num_hidden_layers=1,
                        num_attention_heads=2, intermediate_size=16, max_position_embeddings=positions)
    BertForQuestionAnswering(config).save_pretrained(str(path))
    tokenizer.save_pretrained(str(path))
    return path


@pytest.mark.model
def test_a_reader_folder_loads_and_scores(tmp_path):
    folder = tiny_reader_folder(tmp_path / "qa")
    reader = ReaderScorer(folder)
    short = "Acme was founded by Jane Roe. It sells umbrellas."
    long = " ".join(f"Sentence number {i} is here." for i in range(300))  # several windows
    long_ranges = [(m, m + len(f"Sentence number {i} is here.")) for i, m in
                   enumerate(i for i in range(len(long)) if long.startswith("Sentence", i))]
    got = reader.score("Who founded Acme?", [short, long], [[(0, 29), (30, 49)], long_ranges])
    assert [g.shape for g in got] == [(2,), (300,)]
    assert all(g.dtype == np.float32 and np.all((g > 0) & (g < 1)) for g in got)  # every sentence is read
    assert reader.score("q", [], []) == []
    assert open_reader(folder) is open_reader(str(folder))
    # the longest question quarry takes (1,000 characters, ~200 tokens) is cut to 64 tokens, not refused
    question = ("How much will the big technology companies spend on artificial intelligence? " * 13)[:1000]
    assert reader.score(question, [long], [long_ranges])[0].shape == (300,)
    # a model with fewer positions than 384 gets windows that fit it
    small = ReaderScorer(tiny_reader_folder(tmp_path / "small", positions=128))
    got = small.score(question, [short, long], [[(0, 29), (30, 49)], long_ranges])
    assert small.max_length == 128 and np.all(got[1] > 0)


@pytest.mark.model
def test_the_reader_maps_the_models_best_tokens_back_to_their_sentence(tmp_path):
    """A model whose start and end logits peak on the tokens of "$800 billion": that sentence gets
    the probability, through the real tokenizer's offsets."""
    import torch

    reader = ReaderScorer(tiny_reader_folder(tmp_path / "qa"))
    model, tokenizer = reader.load()
    start_id = tokenizer.convert_tokens_to_ids("$")
    end_id = tokenizer.convert_tokens_to_ids("billion")

    class Out:
        def __init__(self, ids):
            self.start_logits = torch.where(ids == start_id, 20.0, 0.0)
            self.end_logits = torch.where(ids == end_id, 20.0, 0.0)

    class Fake:
        def __call__(self, input_ids, **kwargs):
            return Out(input_ids)

    reader._model = (Fake(), tokenizer)
    passage = "Rain fell. Big tech will spend $800 billion this year. The end came."
    ranges = [(0, 10), (11, 54), (55, 68)]
    got = reader.score(QUESTION, [passage], [ranges])[0]
    assert got[1] > 0.99 and got[0] < 0.01 and got[2] < 0.01
    assert reader.read(QUESTION, [passage], [ranges]).answerable
    # "billion" before "$" in another sentence: no span crosses sentences
    reading = reader.read(QUESTION, ["It was a billion. Then $5 fell."], [[(0, 17), (18, 31)]])
    assert np.all(reading.sentences[0] < 0.01)
    # a model sure there is no answer: its [CLS] logits peak, in every window
    cls_id = tokenizer.cls_token_id

    class NoAnswer:
        def __call__(self, input_ids, **kwargs):
            out = Out(input_ids)
            out.start_logits = out.end_logits = torch.where(input_ids == cls_id, 30.0, 0.0)
            return out

    reader._model = (NoAnswer(), tokenizer)
    reading = reader.read(QUESTION, [passage, passage * 20], [ranges, ranges])
    assert reading.no_answer > 0.99 and reading.best < 0.01 and not reading.answerable


def test_a_folder_that_is_no_reader_is_a_clear_error(tmp_path):
    with pytest.raises(ModelError, match="not a reader model folder"):
        ReaderScorer(tmp_path)
    assert open_reader(None) is None and open_reader("") is None
    (tmp_path / "config.json").write_text('{"architectures": ["BertForSequenceClassification"]}')
    with pytest.raises(ModelError, match="not a reader .* is BertForSequenceClassification"):
        ReaderScorer(tmp_path)
    (tmp_path / "config.json").write_text("[1]")
    with pytest.raises(ModelError, match="cannot read the reader's config.json"):
        ReaderScorer(tmp_path)
    from indexer.encoder import default_model_path

    with pytest.raises(ModelError, match="not a reader .* is BertModel"):
        ReaderScorer(default_model_path())
    # a stated reader without weights fails when opened, not on the first question
    (tmp_path / "config.json").write_text('{"architectures": ["BertForQuestionAnswering"]}')
    with pytest.raises(ModelError, match="cannot load the reader"):
        open_reader(tmp_path)


def test_settings_read_the_reader_from_the_environment(monkeypatch):
    monkeypatch.setenv("QUARRY_READER", "/models/qa")
    assert Settings.from_env().reader == "/models/qa"
    assert Settings.from_env().reader_abstain is False
    for value, on in (("1", True), ("true", True), ("ON", True), ("0", False), ("no", False), ("", False)):
        monkeypatch.setenv("QUARRY_READER_ABSTAIN", value)
        assert Settings.from_env().reader_abstain is on, value
    assert Settings.from_env(reader_abstain=True).reader_abstain is True
    monkeypatch.delenv("QUARRY_READER_ABSTAIN")
    assert Settings.from_env(reader="/other").reader == "/other"
    monkeypatch.delenv("QUARRY_READER")
    assert Settings.from_env(**Settings.from_env(reader="/other").to_dict()).reader == "/other"


def test_reader_settings_are_checked():
    from retriever.pipeline import RetrieverConfig

    for bad in ({"reader_weight": -1.0}, {"reader_passages": -1}):
        with pytest.raises(ValueError, match="at least 0"):
            RetrieverConfig(**bad)


@pytest.mark.model
def test_ask_and_eval_with_a_missing_reader_say_so(seeds_index, tmp_path, capsys):
    from eval.cli import main as eval_main
    from retriever.cli import main as ask_main

    assert ask_main(["--index-dir", str(seeds_index), "--reader", str(tmp_path / "none"), QUESTION]) == 1
    assert "not a reader model folder" in capsys.readouterr().err
    # abstaining by a reader needs one
    assert ask_main(["--index-dir", str(seeds_index), "--reader-abstain", QUESTION]) == 2
    assert "--reader-abstain needs a reader" in capsys.readouterr().err
    assert eval_main(["--split", "test", "--config", "hybrid", "--reader-abstain"]) == 2
    assert "--reader-abstain needs a reader" in capsys.readouterr().err
    from server.__main__ import main as server_main

    assert server_main(["--index-dir", str(seeds_index), "--reader-abstain"]) == 2
    assert "--reader-abstain needs a reader" in capsys.readouterr().err
    assert eval_main(["--split", "test", "--config", "hybrid", "--reader", str(tmp_path / "none")]) == 1
    assert "not a reader model folder" in capsys.readouterr().err


@pytest.mark.model
def test_the_server_refuses_a_broken_reader_with_a_message(seeds_index, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    (tmp_path / "config.json").write_text('{"architectures": ["BertForQuestionAnswering"]}')
    done = subprocess.run([sys.executable, "-m", "server", "--index-dir", str(seeds_index), "--port", "0",
                           "--reader", str(tmp_path)], cwd=Path(__file__).parent.parent,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "cannot load the reader" in done.stderr and "Traceback" not in done.stderr + done.stdout
