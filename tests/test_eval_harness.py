"""The gold file's own checks, and the eval harness end to end on the tiny corpus (fake encoder)."""

from __future__ import annotations

import json
import sys
from collections import Counter

import pytest

from eval.cli import main as eval_main
from eval.gold import DEFAULT_GOLD, GoldError, answer_problems, load_gold
from eval.harness import COLUMNS, CONFIGS, DEFAULT_CONFIG, LEGEND, ConfigRun, evaluate, markdown_table
from indexer.text import STOPWORDS, words
from tests.conftest import SEEDS, TINY


def needs_peers(*modules: str) -> None:
    """Skip the test unless the peers extra (pip install -e '.[peers]') provides these modules."""
    for name in modules:
        pytest.importorskip(name, reason=f"{name} is in the peers extra: pip install -e '.[peers]'")


def test_seeds_gold_file_is_sound():
    questions = load_gold(DEFAULT_GOLD)
    assert len(questions) >= 80
    assert len({q.id for q in questions}) == len(questions)
    kinds = Counter(q.kind for q in questions)
    assert kinds["unanswerable"] >= 15
    assert all(kinds[k] >= 8 for k in ("factual", "paraphrase", "table", "number/date", "entity"))
    for split in ("dev", "test"):
        part = [q for q in questions if q.split == split]
        assert len(part) >= 40 and sum(not q.answerable for q in part) >= 8
    # every accepted answer is verbatim in its source file
    assert answer_problems(questions, SEEDS) == []
    assert {q.source for q in questions if q.answerable} == {p.name for p in SEEDS.iterdir()}


def test_paraphrase_questions_share_few_words_with_their_answer_line():
    """A paraphrase question shares at most half its content words with the line holding the answer."""
    for q in load_gold(DEFAULT_GOLD):
        if q.kind != "paraphrase":
            continue
        text = (SEEDS / q.source).read_text(encoding="utf-8")
        line = next(ln for ln in text.splitlines() if any(a in ln for a in q.answers))
        qwords = {w for w in words(q.question) if w not in STOPWORDS}
        shared = qwords & set(words(line))
        assert len(shared) <= len(qwords) / 2, (q.id, sorted(shared))


def test_gold_errors_are_clear(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "1", "question": "q?", "answers": ["x"], "source": null, "split": "dev"}\n')
    with pytest.raises(GoldError, match="needs a source"):
        load_gold(bad)
    bad.write_text('{"id": "1", "question": "q?", "answers": [], "source": null, "split": "train"}\n')
    with pytest.raises(GoldError, match="split"):
        load_gold(bad)
    line = '{"id": "1", "question": "q?", "answers": [], "source": null, "split": "dev"}\n'
    bad.write_text(line + line)
    with pytest.raises(GoldError, match="duplicate id"):
        load_gold(bad)
    bad.write_text("{not json\n")
    with pytest.raises(GoldError, match="bad.jsonl:1: not JSON"):
        load_gold(bad)


TINY_GOLD = [
    {"id": "t1", "question": "How long do cats sleep?", "answers": ["sixteen hours"],
     "source": "animals/cats.txt", "split": "dev", "kind": "factual"},
    {"id": "t2", "question": "How many moons does Mars have?", "answers": ["two moons"],
     "source": "space.txt", "split": "dev", "kind": "number/date"},
    {"id": "t3", "question": "What were dogs domesticated from?", "answers": ["wolves"],
     "source": "animals/dogs.md", "split": "test", "kind": "factual"},
    {"id": "t4", "question": "Who composed the Moonlight Sonata in Vienna?", "answers": [],
     "source": None, "split": "dev", "kind": "unanswerable"},
]


@pytest.fixture
def tiny_eval(tiny_corpus, tmp_path, monkeypatch, fake_encoder):
    gold = tmp_path / "gold.jsonl"
    gold.write_text("".join(json.dumps(r) + "\n" for r in TINY_GOLD))
    # imported first, so that it keeps the real class for its isinstance check (the test alone failed)
    import indexer.onnx_export  # noqa: F401

    monkeypatch.setattr("indexer.encoder.SentenceTransformerEncoder", lambda *a, **k: fake_encoder)
    return ["--gold", str(gold), "--corpus", str(tiny_corpus), "--index-root", str(tmp_path / "eval-idx")]


def test_eval_cli_prints_one_table_and_json(tiny_eval, tmp_path, capsys):
    out_json = tmp_path / "out.json"
    assert eval_main([*tiny_eval, "--split", "dev", "--json", str(out_json)]) == 0
    out = capsys.readouterr().out
    assert "3 questions (2 answerable, 1 unanswerable)" in out
    table = [ln for ln in out.splitlines() if ln.startswith("|")]
    assert len(table) == 2 + len(CONFIGS)  # header, rule, one row per configuration
    assert table[0].startswith("| config | hit@1 | hit@5 | MRR@10 | answer acc | EM | F1 |")
    # the default configuration's row is marked, and a legend of the metrics follows the table
    marked = [ln for ln in table if "(default)" in ln]
    assert len(marked) == 1 and marked[0].startswith(f"| {DEFAULT_CONFIG} (default) |")
    assert LEGEND in out and out.index(LEGEND) > out.index(table[-1])
    for _, title, _ in COLUMNS:  # every column is explained
        assert title.split()[0] in LEGEND
    body = json.loads(out_json.read_text())
    assert [c["name"] for c in body["configs"]] == [c.name for c in CONFIGS]
    default = body["configs"][-1]
    assert default["metrics"]["hit@1"] == 1.0 and default["metrics"]["accuracy"] == 1.0
    assert default["metrics"]["abstain_recall"] == 1.0 and default["metrics"]["false_abstention"] == 0.0
    assert {q["id"]: q["first_hit"] for q in default["questions"]} == {"t1": 1, "t2": 1, "t4": None}
    assert body["configs"][0]["chunker"]["strategy"] == "fixed"
    assert body["configs"][0]["metrics"]["accuracy"] is None  # a retrieval-only configuration


def test_eval_cli_compares_the_default_with_the_others(tiny_eval, tmp_path, capsys):
    out_json = tmp_path / "out.json"
    assert eval_main([*tiny_eval, "--split", "dev", "--compare", "--json", str(out_json)]) == 0
    out = capsys.readouterr().out
    table = out[out.index("against the others"):].splitlines()
    rows = [ln for ln in table if ln.startswith("|")]
    assert rows[0].startswith(f"| {CONFIGS[-1].name} minus | hit@1 |") and len(rows) == 2 + len(CONFIGS) - 1
    compared = json.loads(out_json.read_text())["compared_to"]
    assert compared["config"] == CONFIGS[-1].name and set(compared["others"]) == {c.name for c in CONFIGS[:-1]}
    d = compared["others"]["hybrid+span"]["hit@1"]
    assert d["low"] <= d["difference"] <= d["high"]
    assert compared["others"][CONFIGS[0].name]["accuracy"] is None  # it picks no answers
    # nothing to compare with: said before anything runs
    assert eval_main([*tiny_eval, "--compare", "--config", "dense"]) == 2
    assert "--compare compares 'hybrid+span+rerank'" in capsys.readouterr().err
    assert eval_main([*tiny_eval, "--compare", "--config", "hybrid+span+rerank"]) == 2


def test_eval_with_a_reader_that_abstains(tiny_eval, tmp_path, monkeypatch, capsys):
    import numpy as np

    from retriever import reader

    class NoAnswer:  # a stand-in reader sure that nothing answers
        def read(self, question, passages, sentences):
            return reader.Reading([np.zeros(len(s), dtype=np.float32) for s in sentences], no_answer=1.0)

    monkeypatch.setattr(reader, "open_reader", lambda path: NoAnswer() if path else None)
    out_json = tmp_path / "out.json"
    args = [*tiny_eval, "--split", "dev", "--config", "hybrid+span+rerank", "--reader", "/models/qa",
            "--json", str(out_json)]
    assert eval_main(args) == 0
    default = json.loads(out_json.read_text())["configs"][0]["metrics"]
    assert default["accuracy"] == 1.0 and default["false_abstention"] == 0.0  # it only re-orders
    assert eval_main([*args, "--reader-abstain"]) == 0
    assert "abstaining where it finds no answer" in capsys.readouterr().out
    default = json.loads(out_json.read_text())["configs"][0]["metrics"]
    assert default["accuracy"] == 0.0 and default["false_abstention"] == 1.0 and default["abstain_recall"] == 1.0


def test_eval_floors_exit_nonzero_when_missed(tiny_eval, capsys):
    assert eval_main([*tiny_eval, "--config", "hybrid+span+rerank", "--min-hit5", "1.0",
                      "--max-false-abstention", "0.0"]) == 0
    assert eval_main([*tiny_eval, "--config", "hybrid+span+rerank", "--split", "all",
                      "--min-em", "0.99"]) == 1  # a sentence is never an exact match for "wolves"
    assert "FAILED floors on hybrid+span+rerank: em = " in capsys.readouterr().err
    assert eval_main([*tiny_eval, "--config", "lexical", "--min-hit5", "0.5"]) == 2  # floors' config not run


def test_peers_answer_side_by_side_on_the_same_chunks(tiny_eval, tmp_path, capsys):
    needs_peers("bm25s", "Stemmer", "haystack", "txtai")
    out_json = tmp_path / "out.json"
    assert eval_main([*tiny_eval, "--split", "all", "--config", "lexical", "--peers", "--json", str(out_json)]) == 0
    rows = {ln.split("|")[1].strip() for ln in capsys.readouterr().out.splitlines() if ln.startswith("| ")}
    assert {"lexical", "bm25s-fixed500", "bm25s", "haystack-bm25", "haystack-hybrid", "txtai-bm25",
            "txtai-hybrid"} <= rows
    runs = {c["name"]: c for c in json.loads(out_json.read_text())["configs"]}
    for name in ("bm25s", "haystack-bm25", "txtai-bm25"):
        peer = runs[name]
        assert peer["metrics"]["hit@1"] == 1.0 and peer["metrics"]["accuracy"] is None  # passages only
        first = {q["id"]: q["first_hit"] for q in peer["questions"]}
        assert first == {"t1": 1, "t2": 1, "t3": 1, "t4": None}, name
    assert runs["haystack-hybrid"]["metrics"]["hit@5"] == runs["txtai-hybrid"]["metrics"]["hit@5"] == 1.0


def test_a_peer_answers_with_verbatim_passages_and_nothing_for_unknown_words(tiny_corpus, tmp_path, fake_encoder):
    needs_peers("bm25s", "Stemmer")
    from eval.peers import Bm25sPeer
    from indexer.build import build_index
    from retriever.index import Index

    build_index(tiny_corpus, tmp_path / "idx", encoder=fake_encoder, progress=False)
    index = Index(tmp_path / "idx")
    peer = Bm25sPeer(index)
    result = peer.ask("What were dogs domesticated from?", k=3)
    top = result.passages[0]
    assert result.answer is None and top.source == "animals/dogs.md" and "wolves" in top.text
    assert index.store.document_slice(top.source, top.start_char, top.end_char) == top.text
    assert peer.ask("zebra quagga okapi", k=3).passages == ()


def test_haystack_txtai_and_llamaindex_peers_rank_the_same_chunks(tiny_corpus, tmp_path, fake_encoder):
    needs_peers("haystack", "txtai", "llama_index.core", "llama_index.retrievers.bm25")
    from eval.peers import open_peer
    from indexer.build import build_index
    from retriever.index import Index

    build_index(tiny_corpus, tmp_path / "idx", encoder=fake_encoder, progress=False)
    index = Index(tmp_path / "idx")
    for name in ("haystack-bm25", "haystack-hybrid", "txtai-bm25", "txtai-hybrid", "llamaindex-bm25",
                 "llamaindex-hybrid"):
        result = open_peer(name, index, fake_encoder).ask("What were dogs domesticated from?", k=3)
        top = result.passages[0]
        assert result.answer is None and top.source == "animals/dogs.md" and "wolves" in top.text, name
        assert index.store.document_slice(top.source, top.start_char, top.end_char) == top.text
        assert len({p.chunk_id for p in result.passages}) == len(result.passages) <= 3


def test_a_missing_peer_library_is_one_line_naming_the_install(tiny_eval, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "bm25s", None)  # import bm25s now raises ImportError
    assert eval_main([*tiny_eval, "--config", "bm25s"]) == 1
    err = capsys.readouterr().err
    assert err.strip() == "error: the peer bm25s needs bm25s: pip install -e '.[peers]'"


def test_eval_refuses_answers_missing_from_the_corpus(tiny_eval, tmp_path, capsys):
    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps({**TINY_GOLD[0], "answers": ["eighteen hours"]}) + "\n")
    assert eval_main([*tiny_eval, "--gold", str(gold), "--config", "lexical"]) == 1
    assert "'eighteen hours' is not in animals/cats.txt" in capsys.readouterr().err


def test_markdown_table_marks_missing_metrics():
    run = ConfigRun(CONFIGS[0], [], {"hit@1": 0.5, "hit@5": 1.0, "mrr@10": 0.75, "p50_ms": 1.25})
    row = markdown_table([run]).splitlines()[2]
    assert row == "| bm25-fixed500 | 0.500 | 1.000 | 0.750 | – | – | – | – | – | – | – | – | 1.2 | – |"


def test_bench_compares_on_exactly_the_texts_the_indexer_embeds(tiny_corpus, tmp_path, fake_encoder):
    from eval.bench.perf import embedded_texts
    from indexer.build import build_index
    from indexer.chunker import chunk_text

    report = build_index(tiny_corpus, tmp_path / "idx", encoder=fake_encoder, progress=False)
    texts = embedded_texts(tmp_path / "idx")
    assert len(texts) == report.embedded == fake_encoder.texts_encoded
    expected = set()
    for name, doc in TINY.items():
        sentences, _chunks = chunk_text(doc, name)
        expected |= {x.text for x in sentences}  # single pass: chunk vectors are pooled from these
    assert set(texts) == expected


def test_tuning_threshold_and_logistic_fit():
    import numpy as np

    from eval.fit import choose_threshold, fit_logistic

    confs = [0.1, 0.2, 0.3, 0.6, 0.7, 0.8]
    answerable = [False, False, True, False, True, True]
    # cutting at 0.45 abstains on 2 of 3 unanswerable and 1 of 3 answerable: too many false abstentions
    assert choose_threshold(confs, answerable, max_false=0.0) == 0.25
    assert choose_threshold(confs, answerable, max_false=0.34) == 0.65
    x = np.array([[0.0], [0.2], [0.4], [0.6], [0.8], [1.0]])
    w, b = fit_logistic(x, np.array([0, 0, 1, 0, 1, 1.0]), l2=0.1)
    assert w[0] > 0 and -b / w[0] == pytest.approx(0.5, abs=0.15)


def test_ranker_fit_prefers_the_feature_that_marks_the_right_candidate():
    import numpy as np

    from eval.fit import fit_ranker

    # three questions, three candidates each; feature 0 is high on the right one, feature 1 is noise
    x = np.array([[0.9, 0.1], [0.2, 0.8], [0.1, 0.5],
                  [0.8, 0.4], [0.3, 0.9], [0.2, 0.2],
                  [0.7, 0.6], [0.1, 0.3], [0.4, 0.7]])
    y = np.array([1, 0, 0, 1, 0, 0, 1, 0, 0.0])
    owner = [0, 0, 0, 1, 1, 1, 2, 2, 2]
    w = fit_ranker(x, y, owner, l2=0.05)
    assert w[0] > 0 > w[1]
    for g in range(3):  # each question's right candidate scores highest
        rows = [i for i, o in enumerate(owner) if o == g]
        assert max(rows, key=lambda i: x[i] @ w) == rows[0]
    # a stronger penalty shrinks the weights; a question with no right candidate changes nothing
    assert np.abs(fit_ranker(x, y, owner, l2=5.0)).sum() < np.abs(w).sum()
    x4, y4 = np.vstack([x, [[0.5, 0.5], [0.9, 0.9]]]), np.concatenate([y, [0, 0]])
    assert np.allclose(fit_ranker(x4, y4, owner + [3, 3], l2=0.05), w)


def test_llamaindex_hybrid_keeps_chunks_with_the_same_text_apart():
    """LlamaIndex's fusion tells results apart by a hash of text and metadata, not by id."""
    needs_peers("llama_index.core", "llama_index.retrievers.bm25")
    from types import SimpleNamespace

    import numpy as np

    from eval.peers import LlamaIndexPeer
    from indexer.schema import Chunk

    texts = ["cats purr softly", "dogs bark at night", "cats purr softly", "birds sing"]
    chunks = {i: Chunk(t, f"f{i}.txt", 0, len(t), 1, 1, id=i, first_sentence=i, last_sentence=i)
              for i, t in enumerate(texts)}
    store = SimpleNamespace(chunks=lambda ids: {i: chunks[i] for i in ids}, chunk_vectors=np.eye(4, dtype=np.float32))
    encoder = SimpleNamespace(encode=lambda qs: np.array([[1, 0, 1, 0]], dtype=np.float32))
    peer = LlamaIndexPeer(SimpleNamespace(store=store, n_chunks=4), encoder, hybrid=True)
    top = [p.chunk_id for p in peer.ask("cats purr", k=4).passages]
    assert sorted(top[:2]) == [0, 2] and len(top) == 4


def test_figures_by_kind_of_question():
    from eval.gold import GoldQuestion
    from eval.harness import Record, by_kind, kind_table
    from eval.metrics import Outcome
    from indexer.schema import Result

    def rec(i, kind, relevant, answered, correct=False):
        answerable = kind != "unanswerable"
        q = GoldQuestion(f"q{i}", "?", ("x",) if answerable else (), "a.txt" if answerable else None, "dev", kind)
        return Record(q, Result("?", None, ()), Outcome(q.id, answerable, relevant, answered, correct))

    records = [rec(1, "factual", (True, False), True, True), rec(2, "paraphrase", (False, True), True),
               rec(3, "paraphrase", (False,) * 6, False), rec(4, "unanswerable", (), False),
               rec(5, "unanswerable", (), True)]
    kinds = by_kind(ConfigRun(CONFIGS[-1], records, {}))
    assert list(kinds) == ["factual", "paraphrase", "unanswerable"]
    assert kinds["factual"]["hit@1"] == 1.0 and kinds["factual"]["accuracy"] == 1.0
    p = kinds["paraphrase"]
    assert (p["hit@1"], p["hit@5"], p["mrr@10"], p["accuracy"], p["false_abstention"]) == (0.0, 0.5, 0.25, 0.0, 0.5)
    assert kinds["unanswerable"]["abstain_recall"] == 0.5 and kinds["unanswerable"]["hit@5"] is None
    table = kind_table(ConfigRun(CONFIGS[-1], records, {})).splitlines()
    assert table[3].startswith("| paraphrase (2) | 0.000 | 0.500 | 0.250 | 0.000 |")


def test_comparison_pairs_the_same_questions():
    from eval.gold import GoldQuestion
    from eval.harness import Record, compare, comparison_table, comparisons
    from eval.metrics import Outcome
    from indexer.schema import Result

    def runs_of(name_index, hits, ids=None):
        ids = ids or [f"q{i}" for i in range(len(hits))]
        records = [Record(GoldQuestion(i, "?", ("x",), "a.txt", "test"), Result("?", None, ()),
                          Outcome(i, True, (h,), True, h)) for i, h in zip(ids, hits)]
        return ConfigRun(CONFIGS[name_index], records, {})

    base = runs_of(-1, [True] * 30)
    worse = runs_of(0, [True] * 20 + [False] * 10)  # base wins 10 questions and loses none
    level = runs_of(1, [True] * 30)
    d = compare(base, worse)
    assert d["hit@1"][0] == pytest.approx(1 / 3) and d["hit@1"][1] > 0  # the interval leaves out 0
    assert d["accuracy"][0] == pytest.approx(1 / 3)
    assert d["abstain_recall"] is None  # no unanswerable questions
    assert compare(base, level)["hit@1"] == (0.0, 0.0, 0.0)
    table = comparison_table(base.config.name, comparisons(base, [worse, base, level])).splitlines()
    assert len(table) == 4 and table[0].startswith(f"| {CONFIGS[-1].name} minus | hit@1 | hit@5 |")
    assert table[2].startswith(f"| {CONFIGS[0].name} | +0.333 [+") and "]* |" in table[2]
    assert table[3].startswith(f"| {CONFIGS[1].name} | +0.000 [+0.000, +0.000] |")
    assert table[2].endswith("| – | +0.000 [+0.000, +0.000] |")  # abstain R: none; false abstain: level
    with pytest.raises(ValueError):
        compare(base, runs_of(0, [True] * 30, ids=[f"x{i}" for i in range(30)]))


def test_evaluate_shows_a_bar_of_the_questions(tiny_corpus, tmp_path, fake_encoder, monkeypatch):
    """A tqdm bar on stderr while the questions run (tqdm shows it on a terminal: forced here)."""
    import io

    from eval.gold import parse_line
    from indexer.build import build_index
    from retriever.pipeline import Retriever

    build_index(tiny_corpus, tmp_path / "idx", encoder=fake_encoder, progress=False)
    questions = [parse_line(json.dumps(r), "gold") for r in TINY_GOLD]
    err = io.StringIO()
    err.isatty = lambda: True
    monkeypatch.setattr("sys.stderr", err)
    r = Retriever.open(tmp_path / "idx", encoder=fake_encoder)
    records = evaluate(r, questions, progress="dense")
    assert len(records) == len(TINY_GOLD)
    assert "dense:" in err.getvalue() and f"/{len(TINY_GOLD)} [" in err.getvalue()  # (refreshed at tqdm's pace)
    quiet = io.StringIO()
    monkeypatch.setattr("sys.stderr", quiet)
    evaluate(r, questions)  # no label: no bar
    r.index.close()
    assert quiet.getvalue() == ""


def test_span_settings_apply_to_one_gold_file_too(tiny_eval, capsys):
    # `--span` changes the answer stage of a single-gold-file run (it was read with --corpora only)
    args = [*tiny_eval, "--split", "all", "--config", "hybrid+span+rerank"]
    assert eval_main([*args, "--span", "abstain_below=1.1"]) == 0  # no confidence reaches it: all abstain
    row = next(ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("| hybrid+span+rerank"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[4] == "0.000" and cells[9] == "1.000"  # answer accuracy 0, false abstention 1
    with pytest.raises(SystemExit, match="SpanConfig has no field 'nope'"):
        eval_main([*args, "--span", "nope=1"])


def test_a_gold_answer_in_a_pdf_is_checked_against_its_extracted_text(tmp_path):
    from eval.gold import parse_line
    from tests.test_formats import make_pdf

    (tmp_path / "paper.pdf").write_bytes(make_pdf([["The survey ended in May."], ["Maps followed in June."]]))
    text = "The survey ended in May.\n\f\nMaps followed in June."  # what the index stores (--show-text)

    def q(**kw):
        row = {"id": "q1", "question": "When did the maps follow?", "answers": [], "source": "paper.pdf",
               "split": "test", **kw}
        return parse_line(json.dumps(row), "gold.jsonl:1")

    assert answer_problems([q(answers=["in June"], ranges=[[text.index("Maps"), len(text)]])], tmp_path) == []
    assert answer_problems([q(answers=["in July"])], tmp_path) == ["q1: 'in July' is not in paper.pdf"]
    assert answer_problems([q(ranges=[[0, len(text) + 1]])], tmp_path) == [
        f"q1: range 0-{len(text) + 1} is past the end of paper.pdf ({len(text)} characters)"]
