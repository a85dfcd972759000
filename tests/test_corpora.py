"""The multi-corpus benchmark: corpora found by their gold files, per-corpus rows, leave-one-corpus-out."""

from __future__ import annotations

import json
import re

import pytest

from eval.cli import main as eval_main
from eval.corpora import corpora, select
from eval.gold import GoldError, load_gold
from eval.metrics import Outcome, answer_correct, passage_relevant, per_question, summarize
from tests.conftest import write_corpus

A = {"cats.txt": "Cats sleep for sixteen hours a day. A cat purrs when it is content.\n",
     "dogs.txt": "Dogs were domesticated from wolves. A dog wags its tail when happy.\n"}
B = {"moon.txt": "The Moon orbits the Earth every 27 days. It has no atmosphere to speak of.\n",
     "mars.txt": "Mars has two moons, Phobos and Deimos. Its surface is red with iron oxide.\n"}
C = {"tea.txt": "Green tea is steeped at eighty degrees. Black tea takes boiling water.\n",
     "bread.txt": "Bread dough rises for two hours. Salt slows the yeast down.\n"}


def gold(rows):
    return "".join(json.dumps(r) + "\n" for r in rows)


def q(i, question, answers=(), source=None, kind=None, **extra):
    kind = kind or ("factual" if answers or extra.get("ranges") else "unanswerable")
    return {"id": i, "question": question, "answers": list(answers), "source": source, "split": "dev",
            "kind": kind, **extra}


GOLD = {
    "a": [q("a1", "How long do cats sleep?", ["sixteen hours"], "cats.txt"),
          q("a2", "What were dogs domesticated from?", ["wolves"], "dogs.txt"),
          q("a3", "How fast do cats run?"), q("a4", "Who won the 1998 World Cup?", kind="off-topic")],
    "b": [q("b1", "How many moons does Mars have?", ["two moons"], "mars.txt"),
          q("b2", "How often does the Moon orbit the Earth?", ["every 27 days"], "moon.txt"),
          q("b3", "How hot is the surface of Mars?"), q("b4", "asdkjh qwpoeiru zxcmvn", kind="off-topic")],
    "c": [q("c1", "At what temperature is green tea steeped?", ["eighty degrees"], "tea.txt"),
          q("c2", "How long does bread dough rise?", [], "bread.txt", ranges=[[0, 32]]),
          q("c3", "How much sugar goes into bread?"), q("c4", "What is the capital of Peru?", kind="off-topic")],
}


@pytest.fixture
def three_corpora(tmp_path, monkeypatch, fake_encoder):
    root, golds = tmp_path / "corpora", tmp_path / "gold"
    golds.mkdir()
    write_corpus(tmp_path / "seeds-a", A)
    (golds / "seeds.jsonl").write_text(gold(GOLD["a"]))
    for name, files in (("b", B), ("c", C)):
        write_corpus(root / name, files)
        (golds / f"{name}.jsonl").write_text(gold(GOLD[name]))
    write_corpus(root / "no-gold", {"x.txt": "A folder without questions is not a corpus.\n"})
    monkeypatch.setenv("QUARRY_SEEDS", str(tmp_path / "seeds-a"))
    monkeypatch.setattr("eval.corpora.CORPORA_DIR", root)
    monkeypatch.setattr("eval.corpora.GOLD_DIR", golds)
    monkeypatch.setattr("eval.corpora.SEEDS_GOLD", golds / "seeds.jsonl")
    import indexer.onnx_export  # noqa: F401  (keeps the real class for its isinstance check)

    monkeypatch.setattr("indexer.encoder.SentenceTransformerEncoder", lambda *a, **k: fake_encoder)
    return tmp_path


def test_corpora_are_the_seeds_and_each_folder_with_a_gold_file(three_corpora):
    found = corpora()
    assert [c.name for c in found] == ["seeds", "b", "c"]
    assert found[1].documents == three_corpora / "corpora" / "b" and found[1].fast
    assert [c.name for c in select(["c", "seeds"], found)] == ["seeds", "c"]
    assert [c.name for c in select(["fast"], found)] == ["seeds", "b", "c"]
    with pytest.raises(KeyError, match="no corpus 'nope'; known: seeds, b, c"):
        select(["nope"], found)


@pytest.mark.slow
def test_corpora_cli_prints_each_corpus_and_leave_one_out(three_corpora, capsys):
    out_json = three_corpora / "out.json"
    args = ["--corpora", "--index-root", str(three_corpora / "idx"), "--json", str(out_json)]
    assert eval_main(args) == 0
    out = capsys.readouterr().out
    shipped, loco = out.split("Leave-one-corpus-out")
    for part in (shipped, loco):
        rows = [ln.split(" | ")[0] for ln in part.splitlines() if ln.startswith("| ") and "---" not in ln]
        assert rows == ["| corpus" if part is shipped else "| held out", "| seeds (4)", "| b (4)", "| c (4)",
                        "| **macro average**"]
    assert re.search(r"Abstention thresholds the folds fitted \(shipped \d\.\d{3}\): seeds \d\.\d{3}, b \d\.\d{3}, "
                     r"c \d\.\d{3}\n", loco)
    body = json.loads(out_json.read_text())
    assert [c["name"] for c in body["corpora"]] == ["seeds", "b", "c"]
    b = body["corpora"][1]
    # the off-topic nonsense and the on-topic question are told apart
    assert b["shipped"]["abstain_offtopic"] is not None and b["shipped"]["abstain_ontopic"] is not None
    m = [c["loco"]["hit@5"] for c in body["corpora"]]
    assert body["macro"]["loco"]["hit@5"] == pytest.approx(sum(m) / 3)
    # what each question got, shipped and held out, for error analysis
    for c in body["corpora"]:
        for run in ("shipped", "loco"):
            rows = c["questions"][run]
            assert len(rows) == 4 and sum(r["correct"] or 0 for r in rows) == round(c[run]["accuracy"] * sum(
                1 for r in rows if r["kind"] not in ("unanswerable", "off-topic")))
            for r in rows:
                a = r["answer"]
                assert a is None or (a["end_char"] - a["start_char"] == len(a["text"]))
    # the peers' passage table only with --peers
    assert "Passage retrieval beside the peers" not in out and "passages" not in b and "passages" not in body["macro"]


@pytest.mark.slow
def test_corpora_with_peers_prints_passage_figures_for_every_peer_on_every_corpus(three_corpora, capsys):
    for name in ("bm25s", "Stemmer", "haystack", "txtai", "llama_index.core", "llama_index.retrievers.bm25"):
        pytest.importorskip(name, reason=f"{name} is in the peers extra: pip install -e '.[peers]'")
    from eval.passages import HYBRID, LOCO, SHIPPED, peer_configs

    out_json = three_corpora / "out.json"
    args = ["--corpora", "seeds", "b", "--peers", "--index-root", str(three_corpora / "idx"), "--json", str(out_json)]
    assert eval_main(args) == 0
    out = capsys.readouterr().out
    before, section = out.split("Passage retrieval beside the peers")
    assert "| held out |" in before  # the leave-one-corpus-out table is still there, before it
    systems = [SHIPPED, LOCO, HYBRID, *(c.name for c in peer_configs())]
    assert {"bm25s", "haystack-bm25", "haystack-hybrid", "txtai-bm25", "txtai-hybrid", "llamaindex-bm25",
            "llamaindex-hybrid"} <= set(systems)
    long = section.split("\n\n")[1]  # the first table: a row per corpus and system, then the macro rows
    rows = [[c.strip() for c in ln.split("|")[1:-1]] for ln in long.splitlines()[2:]]
    assert [(r[0], r[1]) for r in rows] == [(c, s) for c in ("seeds", "b", "**macro average**") for s in systems]
    for r in rows:
        ranking = [float(x) for x in r[2:5]]  # hit@1, hit@5, MRR@10
        assert all(0.0 <= x <= 1.0 for x in ranking) and ranking[0] <= ranking[1], r
        assert (r[5] == "–") == (r[1] == LOCO)  # latency: not for the LOCO row (questions embedded beforehand)
    body = json.loads(out_json.read_text())
    seeds, b = body["corpora"]
    assert list(seeds["passages"]) == list(b["passages"]) == list(body["macro"]["passages"]) == systems
    assert seeds["passages"][SHIPPED]["hit@1"] == seeds["shipped"]["hit@1"]  # the same run as the table above
    assert b["passages"][LOCO]["mrr@10"] == b["loco"]["mrr@10"]
    for s in systems:
        # two files per corpus, two answerable questions each: every system finds the answer in its top 5
        assert seeds["passages"][s]["hit@5"] == b["passages"][s]["hit@5"] == 1.0, s
        m = [c["passages"][s]["mrr@10"] for c in (seeds, b)]
        assert body["macro"]["passages"][s]["mrr@10"] == pytest.approx(sum(m) / 2)


def test_a_fold_never_fits_on_the_corpus_it_scores(three_corpora):
    from eval.corpora import corpora as found
    from eval.loco import leave_one_out, prepare
    from tests.conftest import FakeEncoder

    parts = [prepare(c, three_corpora / "idx", FakeEncoder()) for c in found()]
    seen = []

    def fit(others):
        seen.append(sorted(p.corpus.name for p in others))
        return others[0].retriever.config.span

    folds = leave_one_out(parts, fit=fit)
    assert [f.corpus.name for f in folds] == ["seeds", "b", "c"]
    assert seen == [["b", "c"], ["c", "seeds"], ["b", "seeds"]]


def test_leave_one_out_needs_two_corpora_and_known_names(three_corpora, capsys):
    assert eval_main(["--corpora", "seeds", "--index-root", str(three_corpora / "idx")]) == 2
    assert "at least two corpora" in capsys.readouterr().err
    assert eval_main(["--corpora", "nope"]) == 2
    assert "no corpus 'nope'" in capsys.readouterr().err


def test_gold_ranges_and_off_topic_kind(tmp_path):
    path = tmp_path / "g.jsonl"
    path.write_text(gold([q("r1", "How long?", [], "a.txt", ranges=[[10, 40]]),
                          q("o1", "Who won?", kind="off-topic")]))
    r, o = load_gold(path)
    assert r.answerable and r.ranges == ((10, 40),) and not o.answerable and o.kind == "off-topic"
    path.write_text(gold([q("r1", "How long?", [], "a.txt", ranges=[[40, 10]])]))
    with pytest.raises(GoldError, match="ranges must be"):
        load_gold(path)
    path.write_text(gold([q("o1", "Who won?", ["x"], "a.txt", kind="off-topic")]))
    with pytest.raises(GoldError, match="kind 'off-topic' has no answers"):
        load_gold(path)


def test_a_span_inside_a_gold_range_is_right_and_a_passage_overlapping_it_relevant():
    assert answer_correct("Use pip.", "a.txt", "a.txt", [], where=(120, 128), ranges=[(100, 200)])
    assert not answer_correct("Use pip.", "a.txt", "a.txt", [], where=(90, 128), ranges=[(100, 200)])
    assert not answer_correct("Use pip.", "b.txt", "a.txt", [], where=(120, 128), ranges=[(100, 200)])
    assert passage_relevant("...", "a.txt", "a.txt", [], where=(0, 130), ranges=[(100, 200)])
    assert not passage_relevant("...", "a.txt", "a.txt", [], where=(0, 110), ranges=[(100, 200)])  # 10 chars
    assert passage_relevant("...", "a.txt", "a.txt", [], where=(0, 105), ranges=[(100, 105)])  # all of it


def test_abstention_is_reported_apart_for_off_topic_and_on_topic_questions():
    outcomes = [Outcome("a", True, (True,), True, True), Outcome("u1", False, (), False, kind="unanswerable"),
                Outcome("u2", False, (), True, kind="unanswerable"), Outcome("o1", False, (), False, kind="off-topic")]
    m = summarize(outcomes)
    assert m["abstain_offtopic"] == 1.0 and m["abstain_ontopic"] == 0.5 and m["abstain_recall"] == 2 / 3
    assert per_question(outcomes, "abstain_ontopic") == [1.0, 0.0]


def test_corpora_with_peers_says_a_missing_peer_library_before_leave_one_out(three_corpora, monkeypatch, capsys):
    import sys

    monkeypatch.setitem(sys.modules, "bm25s", None)  # import bm25s now raises ImportError
    assert eval_main(["--corpora", "seeds", "b", "--peers", "--index-root", str(three_corpora / "idx")]) == 1
    captured = capsys.readouterr()
    assert captured.err.strip().splitlines()[-1] == "error: the peer bm25s needs bm25s: pip install -e '.[peers]'"
    assert "leave-one-corpus-out" not in captured.err and captured.out == ""

@pytest.mark.slow
def test_ablation_switches_each_check_alone(three_corpora, capsys):
    args = ["--corpora", "--ablate", "--index-root", str(three_corpora / "idx")]
    assert eval_main(args) == 0
    out = capsys.readouterr().out
    assert "| without answer_type |" in out and "| without code_line |" in out and "| with names |" not in out
    assert "| every check |" in out  # all off
    assert "| as shipped |" in out


def test_span_settings_are_checked_by_name(three_corpora, capsys):
    with pytest.raises(SystemExit, match="SpanConfig has no field 'nope'"):
        eval_main(["--corpora", "--index-root", str(three_corpora / "idx"), "--span", "nope=1"])
    with pytest.raises(SystemExit, match="no answer check names"):  # a check that was dropped
        eval_main(["--corpora", "--index-root", str(three_corpora / "idx"), "--span", 'checks_off=["names"]'])
    with pytest.raises(SystemExit, match="the value is not JSON"):
        eval_main(["--corpora", "--index-root", str(three_corpora / "idx"), "--span", "probe_gate=high"])


def test_probe_threshold_is_the_quantile_of_off_topic_confidences(tiny_corpus, tmp_path, fake_encoder):
    from dataclasses import replace

    from indexer.build import build_index
    from retriever.pipeline import Retriever
    from retriever.probes import PROBES, probe_threshold

    assert probe_threshold([0.1, 0.2, 0.3, 0.4], 0.75) == pytest.approx(0.3, abs=1e-5)
    assert probe_threshold([0.1, 0.2, 0.3, 0.4], 1.0) == pytest.approx(0.4, abs=1e-5)
    assert probe_threshold([], 0.9) == 0.0 and len(PROBES) >= 30
    build_index(tiny_corpus, tmp_path / "idx", encoder=fake_encoder, progress=False)
    r = Retriever.open(tmp_path / "idx", encoder=fake_encoder)
    assert r.probe_threshold() == 0.0  # off by default
    gated = r.with_config(span=replace(r.config.span, probe_quantile=1.0, abstain_below=0.0))
    ungated = r.with_config(span=replace(r.config.span, abstain_below=0.0))
    confs = [0.0 if (a := ungated.ask(q, k=1).answer) is None else a.score for q in PROBES]
    assert gated.probe_threshold() == pytest.approx(max(confs), abs=1e-5)
    # no probe is answered above the gate, and an answer more sure than every probe still is
    assert all(gated.ask(q, k=1).answer is None for q in PROBES)
    best = ungated.ask("How long do cats sleep?").answer
    if best.score > max(confs):
        assert gated.ask("How long do cats sleep?").answer is not None


def test_the_probe_gate_abstains_on_questions_no_closer_to_the_folder_than_everyday_ones(tiny_corpus, tmp_path,
                                                                                       fake_encoder):
    from dataclasses import replace

    from indexer.build import build_index
    from retriever.pipeline import Retriever
    from retriever.probes import PROBES

    build_index(tiny_corpus, tmp_path / "idx", encoder=fake_encoder, progress=False)
    r = Retriever.open(tmp_path / "idx", encoder=fake_encoder)
    assert r.with_config(span=replace(r.config.span, probe_gate=None)).probe_gate() == 0.0
    gated = r.with_config(span=replace(r.config.span, probe_gate=1.0, abstain_below=0.0, min_known=None,
                                       min_topical=0.0))
    ungated = r.with_config(span=replace(gated.config.span, probe_gate=None))
    closest = r.index.closest(fake_encoder.encode(list(PROBES)))
    assert len(closest) == len(PROBES) and closest == [r.index.dense(v, 1)[0][1] for v in
                                                       fake_encoder.encode(list(PROBES))]
    assert gated.probe_gate() == pytest.approx(max(closest), abs=1e-5)
    # every probe is gated (it is no closer than the closest probe) though ungated some get an answer
    assert all(gated.ask(q, k=1).answer is None for q in PROBES)
    assert any(ungated.ask(q, k=1).answer is not None for q in PROBES)
    # a question about the folder is closer than every probe, and answered; its passages are listed either way
    assert gated.ask("How long do cats sleep?").answer.source == "animals/cats.txt"
    assert gated.ask("How much sleep does a teenager need?").passages


def test_a_held_out_split_leaves_the_fit_with_its_questions_and_their_rows():
    import numpy as np

    from eval.gold import GoldQuestion
    from eval.loco import Part, without_split

    qs = [GoldQuestion(f"q{i}", f"question {i}?", ("a",), "a.txt", split) for i, split in
          enumerate(("dev", "test", "dev", "test"))]
    x = np.arange(12, dtype=float).reshape(6, 2)  # rows of questions 0, 0, 1, 2, 3, 3
    part = Part(corpus=None, retriever=None, questions=qs, qvecs=np.eye(4), x=x,
                y=np.array([1.0, 0, 1, 0, 1, 0]), owner=[0, 0, 1, 2, 3, 3])
    dev = without_split(part, "test")
    assert [q.id for q in dev.questions] == ["q0", "q2"]
    assert dev.owner == [0, 0, 1] and dev.x.tolist() == [[0, 1], [2, 3], [6, 7]]
    assert dev.y.tolist() == [1.0, 0.0, 0.0] and dev.qvecs.tolist() == [[1, 0, 0, 0], [0, 0, 1, 0]]


def test_fit_hold_out_is_checked_before_any_index_is_built(three_corpora, capsys):
    assert eval_main(["--corpora", "--fit-all", "--fit-hold-out", "seeds:tset"]) == 2
    assert "CORPUS:SPLIT" in capsys.readouterr().err
    assert eval_main(["--corpora", "--fit-hold-out", "seeds:test"]) == 2  # without --fit-all


class ConstantAnswerModel:
    """An answer model that gives every sentence the same qa cosine, ``value``."""

    def __init__(self, value):
        self.value = value

    def scores(self, question, texts):
        return {k: self.value for k in texts}


def test_each_fold_answers_and_fits_with_its_own_answer_model(three_corpora):
    from eval.corpora import corpora as found
    from eval.loco import leave_one_out, prepare
    from retriever.answer import FEATURES
    from tests.conftest import FakeEncoder

    parts = [prepare(c, three_corpora / "idx", FakeEncoder()) for c in found()]
    models = {name: ConstantAnswerModel(v) for name, v in (("seeds", 0.1), ("b", 0.2), ("c", 0.3))}
    seen = []

    def fit(others):
        seen.append({p.corpus.name: {float(v) for v in p.x[:, FEATURES.index("qa")]} for p in others})
        assert {id(p.retriever.answer_model) for p in others} == {id(others[0].retriever.answer_model)}
        return others[0].retriever.config.span

    leave_one_out(parts, fit=fit, answer_models=models)
    # the fold that leaves seeds out fits b and c with the seeds-less model's qa, and so on
    assert seen == [{"b": {0.1}, "c": {0.1}}, {"seeds": {0.2}, "c": {0.2}}, {"seeds": {0.3}, "b": {0.3}}]
    assert all(p.retriever.answer_model is not models["seeds"] for p in parts)  # the parts are left as they were


def test_a_missing_fold_answer_model_is_named_before_any_corpus_is_indexed(three_corpora, capsys):
    (three_corpora / "folds" / "seeds").mkdir(parents=True)
    idx = three_corpora / "idx"
    assert eval_main(["--corpora", "--index-root", str(idx), "--fold-answer-models", str(three_corpora / "folds")]) == 1
    err = capsys.readouterr().err
    assert "no fold answer model for b, c under" in err and "python -m eval.qamodel" in err
    assert not idx.exists()


def test_gold_pairs_are_the_gold_documents_sentences_the_accuracy_test_accepts(three_corpora):
    from eval.corpora import corpora as found
    from eval.harness import CONFIGS, DEFAULT_CONFIG, index_for
    from eval.qamodel.goldpairs import corpus_pairs
    from tests.conftest import FakeEncoder

    chunker = next(c for c in CONFIGS if c.name == DEFAULT_CONFIG).chunker
    c = next(c for c in found() if c.name == "c")
    pairs = corpus_pairs(c, index_for(chunker, c.documents, three_corpora / "idx" / "c", FakeEncoder()))
    # unanswerable and off-topic questions make none; a range is an answer as an answer string is
    assert [(p["gold"], p["source"]) for p in pairs] == [("c1", "c/tea.txt"), ("c2", "c/bread.txt")]
    assert pairs[0]["sentences"] == ["Green tea is steeped at eighty degrees."]
    assert pairs[0]["negatives"] == ["Black tea takes boiling water."]
    assert pairs[1]["sentences"] == ["Bread dough rises for two hours."]
    assert pairs[1]["negatives"] == ["Salt slows the yeast down."]


def test_fold_gold_writes_each_corpus_pairs_once(three_corpora):
    from eval.qamodel.__main__ import fold_gold

    work = three_corpora / "work"
    got = fold_gold(work, three_corpora / "idx", None)
    assert list(got) == ["seeds", "b", "c"]
    assert [p["gold"] for p in json.loads(got["b"].read_text())] == ["b1", "b2"]
    got["b"].write_text("[]")  # kept for a second run: not made again
    assert fold_gold(work, three_corpora / "idx", ["b"]) == {"b": got["b"]} and got["b"].read_text() == "[]"


@pytest.mark.slow
def test_fold_answer_models_run_leave_one_out_end_to_end(three_corpora, capsys, monkeypatch):
    import eval.loco
    from retriever.answer_model import PACKAGED

    used = []
    real = eval.loco.answering_with
    monkeypatch.setattr("eval.loco.answering_with",
                        lambda part, model: used.append(model.path.name) or real(part, model))

    folds = three_corpora / "folds"
    folds.mkdir()
    for name in ("seeds", "b", "c"):
        (folds / name).symlink_to(PACKAGED, target_is_directory=True)
    out_json = three_corpora / "out.json"
    args = ["--corpora", "--index-root", str(three_corpora / "idx"), "--fold-answer-models", str(folds),
            "--json", str(out_json)]
    assert eval_main(args) == 0
    body = json.loads(out_json.read_text())
    assert [c["name"] for c in body["corpora"]] == ["seeds", "b", "c"]
    assert all(0.0 <= c["loco"]["hit@5"] <= 1.0 for c in body["corpora"])
    assert used == ["answer-minilm"] * 9  # each of the three folds: its model on all three corpora


def test_qamodel_folds_refuse_an_unknown_corpus_before_any_download(three_corpora, capsys):
    from eval.qamodel.__main__ import main as qamodel_main

    work = three_corpora / "work"
    with pytest.raises(SystemExit) as e:
        qamodel_main(["--work", str(work), "--folds", str(three_corpora / "folds"), "--corpora", "nope"])
    assert e.value.code == 2 and "no corpus 'nope'; known: seeds, b, c" in capsys.readouterr().err
    assert not work.exists()
