"""Fusion and retrieval on a tiny corpus whose right answers can be checked by eye (fake encoder)."""

from __future__ import annotations

from operator import itemgetter

import pytest

from indexer.build import build_index
from indexer.errors import QueryError
from indexer.schema import Chunk
from retriever.fusion import interleave, minmax, rrf, score_fusion
from retriever.pipeline import (
    Retriever,
    RetrieverConfig,
    answer_span,
    distinct,
    falling,
    problems,
    promoted,
    scored_sentences,
)
from tests.conftest import TINY


def test_rrf_exact_scores():
    lexical = [(1, 9.0), (2, 5.0), (3, 1.0)]
    dense = [(3, 0.9), (1, 0.8)]
    fused = rrf([lexical, dense], k=60)
    assert [d for d, _ in fused] == [1, 3, 2]
    assert fused[0][1] == pytest.approx(1 / 61 + 1 / 62)
    assert fused[1][1] == pytest.approx(1 / 63 + 1 / 61)
    assert fused[2][1] == pytest.approx(1 / 62)
    assert rrf([lexical, dense], k=60, weights=[0.0, 1.0])[0] == (3, pytest.approx(1 / 61))


def test_score_fusion_and_minmax():
    assert minmax([(1, 3.0), (2, 1.0), (3, 2.0)]) == {1: 1.0, 2: 0.0, 3: 0.5}
    assert minmax([(1, 2.0), (2, 2.0)]) == {1: 1.0, 2: 1.0}
    fused = score_fusion([[(1, 10.0), (2, 0.0)], [(2, 0.9), (3, 0.1)]], weights=[1.0, 2.0])
    assert fused == [(2, 2.0), (1, 1.0), (3, 0.0)]


def test_interleave_takes_turns_and_each_item_once():
    key = itemgetter(0)
    reranked = [(3, 0.9), (1, 0.8), (2, 0.5), (4, 0.1)]
    fused = [(1, 1.0), (2, 0.7), (4, 0.6), (3, 0.2)]
    assert [d for d, _ in interleave(reranked, fused, key)] == [3, 1, 2, 4]
    assert [d for d, _ in interleave([(5, 0.0), (6, 0.0), (7, 0.0)], [(8, 0.0), (5, 0.0)], key)] == [5, 8, 6, 7]
    assert interleave([], [(1, 0.0)], key) == [(1, 0.0)]
    assert interleave([], [], key) == []


def test_the_best_of_each_list_is_among_the_passages_answered_from():
    fused = [(i, 1.0 - i / 10) for i in range(10)]
    # 7 (first in one list, fused far down) and 9 take the last places of the first 4, in their order
    assert [d for d, _ in promoted(fused, [7, 1, 9], 4)] == [0, 1, 7, 9, 2, 3, 4, 5, 6, 8]
    assert promoted(fused, [0, 2, 42], 4) == fused  # already there, or not fused at all


def test_falling_scores_each_passage_by_its_rerank_no_higher_than_the_one_above():
    chunks = [Chunk("", "a.txt", 0, 1, 1, 1, id=i) for i in (3, 1, 2)]
    out = falling([(c, 0.0) for c in chunks], {3: 0.6, 1: 0.9, 2: 0.4})
    assert [(c.id, s) for c, s in out] == [(3, 0.6), (1, 0.6), (2, 0.4)]
    assert falling([], {}) == []


def test_a_passage_repeating_one_above_it_is_left_out():
    text = "The sync user has the shell /bin/sync, so anyone can sync the system at the console."
    boiler = "Places a line containing a group separator between contiguous groups of matches."
    a = "-A NUM Print NUM lines of trailing context. " + boiler
    b = "-B NUM Print NUM lines of leading context. " + boiler
    table = "foundry  String  Font foundry name\nantialias  Bool  Whether glyphs can be antialiased\n" * 3
    ranked = [(Chunk(t, src, at, at + len(t), 1, 1, id=i), 1.0 - i / 10) for i, (src, at, t) in enumerate([
        ("users.html", 0, text), ("users.txt.gz", 0, "\n  " + text.replace(" ", "\n  ", 3)),  # the same, wrapped
        ("grep.txt", 100, a), ("grep.txt", 400, b),  # one document's boilerplate, in two places
        ("other.txt", 0, "The sync user exists for historical reasons only."),
        ("fonts.txt", 1000, "Sizes.\n" + table), ("fonts.txt", 1007, table),  # the end of the passage above
    ])]
    assert [c.id for c, _ in distinct(ranked, 7)] == [0, 2, 3, 4, 5]
    assert [c.id for c, _ in distinct(ranked, 2)] == [0, 2]
    assert distinct([], 3) == []


def test_a_folder_holding_its_documents_twice_shows_each_passage_once(tmp_path, fake_encoder):
    from tests.conftest import write_corpus

    files = dict(TINY) | {f"backup/{name}": text for name, text in TINY.items()}
    build_index(write_corpus(tmp_path / "corpus", files), tmp_path / "idx", encoder=fake_encoder, progress=False)
    r = Retriever.open(tmp_path / "idx", encoder=fake_encoder)
    for question in ("How many moons does Mars have?", "How long do cats sleep?"):
        result = r.ask(question, k=4)
        texts = [p.text for p in result.passages]
        assert len(texts) == 4 and len(set(texts)) == 4  # four different passages, none twice
        assert result.answer is not None and result.passages[result.answer.passage].source == result.answer.source


@pytest.mark.parametrize("question", ["How long do cats sleep?", "How many moons does Mars have?",
                                      "What were dogs domesticated from?"])
def test_passage_scores_never_rise_down_the_list(tiny_retriever, question):
    scores = [p.score for p in tiny_retriever.ask(question, k=5).passages]
    assert len(scores) > 1
    assert scores == sorted(scores, reverse=True)


@pytest.fixture
def tiny_retriever(tiny_corpus, tmp_path, fake_encoder):
    build_index(tiny_corpus, tmp_path / "idx", encoder=fake_encoder, progress=False)
    return Retriever.open(tmp_path / "idx", encoder=fake_encoder)


@pytest.mark.parametrize("mode", ["lexical", "dense", "hybrid"])
@pytest.mark.parametrize(("question", "source"), [
    ("How long do cats sleep?", "animals/cats.txt"),
    ("What were dogs domesticated from?", "animals/dogs.md"),
    ("How many moons does Mars have?", "space.txt"),
    ("How much did the company spend on data centers?", "money.txt"),
])
def test_each_mode_finds_the_right_document(tiny_retriever, mode, question, source):
    result = tiny_retriever.with_config(mode=mode).ask(question, k=2)
    assert result.passages[0].source == source


def test_answer_is_the_right_sentence_with_exact_citation(tiny_retriever, tiny_corpus):
    result = tiny_retriever.ask("How many moons does Mars have?", k=3)
    a = result.answer
    assert a is not None
    assert a.text == "Mars has two moons, Phobos and Deimos."
    assert (a.source, a.start_char, a.end_char, a.start_line, a.end_line) == ("space.txt", 41, 79, 1, 1)
    assert TINY["space.txt"][a.start_char:a.end_char] == a.text
    assert 0.0 <= a.score <= 1.0
    assert result.passages[a.passage].source == "space.txt"
    d = result.to_dict()
    assert set(d) == {"question", "answer", "passages"}
    assert d["answer"]["text"] == a.text and len(d["passages"]) == 3


def test_line_numbers_after_crlf(tiny_retriever):
    a = tiny_retriever.ask("What grew slowly, revenue?", k=1).answer
    assert a is not None and a.text == "Revenue grew slowly."
    assert (a.start_line, a.end_line, a.start_char) == (2, 2, 57)


def test_off_topic_question_abstains(tiny_retriever):
    result = tiny_retriever.ask("Who composed the Moonlight Sonata in Vienna?", k=2)
    assert result.answer is None


def test_question_and_k_are_checked(tiny_retriever):
    for bad, k in [("", 5), ("   ", 5), ("x" * 1001, 5), ("ok?", 0), ("ok?", 51)]:
        with pytest.raises(QueryError):
            tiny_retriever.ask(bad, k=k)


def test_config_is_validated():
    with pytest.raises(ValueError, match="mode"):
        RetrieverConfig(mode="magic")
    with pytest.raises(ValueError, match="rerank_merge"):
        RetrieverConfig(rerank_merge="zip")


def test_a_table_row_is_checked_against_its_header_in_an_earlier_chunk(tmp_path, fake_encoder):
    """The property a question asks for may be named only by the table's header, which a long table
    leaves in an earlier chunk than the row: the check reads the row's paragraph from the document."""
    from dataclasses import replace

    from indexer.chunker import ChunkerSettings
    from indexer.text import terms
    from tests.conftest import write_corpus

    rows = "\n".join(f"| Firm{i} | Backer{i} | Storage work number {i} |" for i in range(8))
    corpus = write_corpus(tmp_path / "c", {"deals.md": "Deals of the year.\n\n| Company | Partner | Purpose |\n"
                                           + rows + "\n| Acme | Globex | Cloud services, infrastructure support |\n"})
    build_index(corpus, tmp_path / "idx", encoder=fake_encoder, progress=False,
                settings=ChunkerSettings(max_chars=160, overlap_sentences=0))
    retriever = Retriever.open(tmp_path / "idx", encoder=fake_encoder)
    row = "| Acme | Globex | Cloud services, infrastructure support |"
    chunk = next(c for c in retriever.index.store.chunks(range(retriever.index.n_chunks)).values() if row in c.text)
    assert "Purpose" not in chunk.text  # the header is in another chunk
    question = "What is the purpose of the Acme and Globex deal in the table?"
    unchecked = retriever.with_config(span=replace(retriever.config.span, verify=False))
    scored = next(s for s in scored_sentences(unchecked, question, k=10) if s.sentence.text == row)
    idf = retriever.index.idf(terms(question))
    assert problems(retriever, question, scored, idf) == []
    assert "does not mention market share" in problems(
        retriever, "What is the market share of Acme in the table?", scored,
        retriever.index.idf(terms("market share Acme")))
    assert retriever.ask(question, k=3).answer.text == row


def test_an_answer_from_an_html_definition_list_is_shown_with_its_term(tmp_path, fake_encoder):
    from tests.conftest import write_corpus

    page = ("<h1>Frobnicator</h1><p>The frobnicator reads its settings from the command line.</p><dl>"
            "<dt>--depth N</dt><dd>Set the recursion depth to N levels.</dd>"
            "<dt>--quiet</dt><dd>Print nothing but errors.</dd></dl>")
    build_index(write_corpus(tmp_path / "c", {"opts.html": page}), tmp_path / "idx", encoder=fake_encoder,
                progress=False)
    r = Retriever.open(tmp_path / "idx", encoder=fake_encoder)
    question = "How do I print nothing but errors?"
    best = next(s for s in scored_sentences(r, question, k=3) if s.sentence.text == "Print nothing but errors.")
    span = answer_span(r, best, question=question)
    assert span.text == "--quiet\n    Print nothing but errors."
    assert answer_span(r, best).text == "Print nothing but errors."  # as the answer checks read it


def test_an_org_headline_over_its_indented_text_is_no_definition_term(tmp_path, fake_encoder):
    from tests.conftest import write_corpus

    notes = "* Budget review\n  The storage budget was raised to 55,000 euros in May.\n"
    build_index(write_corpus(tmp_path / "c", {"notes.org": notes}), tmp_path / "idx", encoder=fake_encoder,
                progress=False)
    r = Retriever.open(tmp_path / "idx", encoder=fake_encoder)
    question = "What was the storage budget raised to?"
    best = next(s for s in scored_sentences(r, question, k=3) if s.sentence.text.startswith("The storage"))
    assert answer_span(r, best, question=question).text == "The storage budget was raised to 55,000 euros in May."
