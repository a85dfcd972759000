"""End to end on seeds/ with the real packaged model: right file, right sentence, exact citation."""

from __future__ import annotations

import json

import pytest

from indexer.indexdir.store import FORMAT_VERSION
from retriever.cli import main as ask_main
from tests.conftest import SEEDS

pytestmark = pytest.mark.model

F000, F001, F002, F003, F004 = sorted(p.name for p in SEEDS.iterdir())

CASES = [
    ("How much are big technology companies expected to spend on AI data centers this year?", F000, 18,
     "Big technology companies are expected to spend about $800 billion this year on AI data centers"),
    ("Who is the CEO of Anthropic?", F000, 20, "Anthropic CEO Dario Amodei raised a similar concern"),
    ("What is a moat?", F000, 20, "the “moat” (a protective barrier that keeps competitors out)"),
    ("How much did Amazon invest in Anthropic?", F004, 7,
     "Anthropic, for instance, received an $8 billion investment from Amazon."),
    ("How much will be spent on AI infrastructure by 2030 according to Jensen Huang?", F004, 4,
     "between $3 trillion and $4 trillion will be spent on AI infrastructure by 2030"),
    ("What is the market structure of the AI industry?", F001, 11, "| Market Structure | Oligopoly"),
    ("Who are OpenAI's major rivals?", F001, 7, "| Major Rivals | Anthropic, Google DeepMind, Meta, xAI |"),
    ("What did OpenAI announce in January about Microsoft?", F004, 16,
     "OpenAI announced it would give Microsoft a right of first refusal"),
    ("Where was the AI developer conference held last October?", F001, 1,
     "a long line outside an AI developer conference in San Francisco"),
    ("What has the competitive moat moved to?", F003, 6, "the competitive moat has moved from the algorithm"),
    ("What is the Great Re-materialization?", F003, 6, "we are witnessing the Great Re-materialization of technology"),
    ("Which company had previously invested in Anthropic?", F002, 20,
     "And Amazon, which had previously been invested in Anthropic"),
    ("How many users interact with OpenAI's models each week?", F001, 2,
     "hundreds of millions of users interacting each week"),
    ("Who spent a lot of money before demonstrating the viability of electric vehicles?", F001, 23,
     "Tesla spent a lot of money"),
]


@pytest.mark.parametrize(("question", "source", "line", "snippet"), CASES, ids=[c[0][:40] for c in CASES])
def test_seed_question_gets_the_right_sentence(seeds_retriever, seeds_index, question, source, line, snippet):
    result = seeds_retriever.ask(question, k=5)
    a = result.answer
    assert a is not None, f"abstained on {question!r}"
    assert a.source == source
    assert snippet in a.text
    assert (a.start_line, a.end_line) == (line, line)
    doc = (SEEDS / source).read_bytes().decode("utf-8")
    assert doc[a.start_char:a.end_char] == a.text
    assert doc.count("\n", 0, a.start_char) + 1 == a.start_line
    assert len(a.text) <= 300
    for p in result.passages:
        text = (SEEDS / p.source).read_bytes().decode("utf-8")
        assert text[p.start_char:p.end_char] == p.text
        assert (text.count("\n", 0, p.start_char) + 1, text.count("\n", 0, p.end_char - 1) + 1) == (
            p.start_line, p.end_line)
    host = result.passages[a.passage]
    assert host.start_char <= a.start_char and a.end_char <= host.end_char


@pytest.mark.parametrize("question", [
    "What is the capital of France?",
    "How many goals did Messi score in 2022?",
    "Who won the 2018 FIFA World Cup?",
    "What is the recipe for chocolate cake?",
])
def test_off_topic_questions_abstain(seeds_retriever, question):
    result = seeds_retriever.ask(question, k=3)
    assert result.answer is None
    assert len(result.passages) == 3  # the closest passages still come back, for reference


def test_ask_cli_json_is_the_contract(seeds_index, capsys):
    assert ask_main(["--json", "-k", "2", "--index-dir", str(seeds_index), "Who is the CEO of Anthropic?"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert set(body) == {"question", "answer", "passages"}
    assert body["answer"]["source"] == F000 and "Dario Amodei" in body["answer"]["text"]
    assert len(body["passages"]) == 2
    assert set(body["passages"][0]) >= {"text", "source", "start_char", "end_char", "start_line", "end_line", "score"}


def test_ask_cli_for_a_person(seeds_index, capsys):
    assert ask_main(["--index-dir", str(seeds_index), "How much did Amazon invest in Anthropic?"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Answer (confidence")
    assert f"-- {F004}:7" in out
    # the passage marks the answer (wherever the wrapping breaks its line)
    assert ">>Anthropic, for instance, received an $8 billion investment from Amazon.<<" in " ".join(out.split())


def test_ask_builds_the_default_index_over_seeds_first(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("QUARRY_SEEDS", str(SEEDS))
    assert ask_main(["--json", "What is the Great Re-materialization?"]) == 0
    captured = capsys.readouterr()
    assert "No index yet" in captured.err and "5 added" in captured.err
    assert json.loads(captured.out)["answer"]["source"] == F003
    manifest_file = tmp_path / "default-index" / "manifest.json"
    assert manifest_file.is_file()
    # an index made by an older quarry (another format) is made again from the folder it was made from
    manifest = json.loads(manifest_file.read_text())
    manifest["format_version"] = FORMAT_VERSION - 1
    manifest_file.write_text(json.dumps(manifest))
    assert ask_main(["--json", "What is the Great Re-materialization?"]) == 0
    captured = capsys.readouterr()
    assert f"format of an older quarry ({FORMAT_VERSION - 1}): indexing {SEEDS} again" in captured.err
    assert "full rebuild" in captured.err and json.loads(captured.out)["answer"]["source"] == F003
    assert json.loads(manifest_file.read_text())["format_version"] == FORMAT_VERSION


def test_ask_errors_are_one_line(tmp_path, capsys):
    assert ask_main(["--index-dir", str(tmp_path / "missing"), "anything?"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: no index at") and "python -m indexer" in err
    assert ask_main(["-k", "0", "anything?"]) == 2
    assert ask_main(["   "]) == 2


def test_ask_checks_only_what_it_needs_and_answers_as_if_it_checked_everything(seeds_index, real_encoder,
                                                                               monkeypatch):
    """``ask`` stops checking a chunk's sentences at the first that passes; it must give the same result as
    checking every candidate (every third gold question, answerable or not: 134 of 401, which keeps this,
    the suite's slowest test, near 30 s; k=10 so passages beyond 5 count too)."""
    from eval.gold import load_gold
    from retriever.pipeline import Retriever

    r = Retriever.open(seeds_index, encoder=real_encoder)
    questions = [q.question for q in load_gold(split="all")][::3]
    lazy = [r.ask(q, k=10).to_dict() for q in questions]
    checks = []
    everything = Retriever._score_sentences
    import retriever.pipeline as pipeline

    problems = pipeline.problems

    def count(self, *a, **kw):
        checks.append(1)
        return problems(self, *a, **kw)

    monkeypatch.setattr(Retriever, "_score_sentences",
                        lambda self, *a, best_per_chunk=False, **kw: everything(self, *a, **kw))
    monkeypatch.setattr(pipeline, "problems", count)
    full = [r.ask(q, k=10).to_dict() for q in questions]
    assert lazy == full
    n_full = len(checks)
    monkeypatch.setattr(Retriever, "_score_sentences", everything)
    checks.clear()
    for q in questions:
        r.ask(q, k=10)
    assert len(checks) < 0.7 * n_full  # measured: 42% of the checks (3,225 of 7,617)


def test_the_rerank_ignores_the_answer_checks(seeds_index, real_encoder, monkeypatch):
    """Passages are re-ranked by their best sentence before the checks: when every sentence fails a
    check, quarry abstains but returns the passages in the order it would without checks."""
    from dataclasses import replace

    from eval.gold import load_gold
    from retriever.pipeline import Retriever

    r = Retriever.open(seeds_index, encoder=real_encoder)
    unchecked = r.with_config(span=replace(r.config.span, verify=False))
    plain = r.with_config(rerank=False)
    monkeypatch.setattr("retriever.pipeline.problems", lambda retriever, *a, **kw: ["fails"])
    moved = 0
    for q in load_gold(split="dev")[:40]:
        got = r.ask(q.question, k=5)
        assert got.answer is None
        ids = [p.chunk_id for p in got.passages]
        assert ids == [p.chunk_id for p in unchecked.ask(q.question, k=5).passages]
        moved += ids != [p.chunk_id for p in plain.ask(q.question, k=5).passages]
    assert moved > 0  # the re-rank did reorder passages (without it the test would prove nothing)
