"""The shipped corpora's gold files: they load, every answer and range is in its source as the index
stores it (HTML: the extracted text), and each set has the size and mix the benchmark asks for."""

from __future__ import annotations

import pytest

from eval.corpora import corpora
from eval.gold import UNANSWERABLE_KINDS, answer_problems, load_gold
from indexer.formats import extract

SHIPPED = [c for c in corpora() if c.name != "seeds"]


@pytest.mark.parametrize("corpus", SHIPPED, ids=[c.name for c in SHIPPED])
def test_gold_loads_and_points_into_its_files(corpus):
    questions = load_gold(corpus.gold)
    assert answer_problems(questions, corpus.documents) == []
    texts: dict[str, str] = {}
    for q in questions:
        if q.source is None:
            continue
        path = corpus.documents / q.source
        if q.source not in texts:
            texts[q.source] = extract(q.source, path.read_bytes()).text
        text = texts[q.source]
        for a, b in q.ranges:
            assert 0 <= a < b <= len(text), f"{q.id}: range {a}-{b} outside {q.source} as indexed"
            assert text[a:b].strip(), f"{q.id}: range {a}-{b} is only white space"
        for answer in q.answers:
            assert answer in text, f"{q.id}: {answer!r} not in {q.source} as indexed"


@pytest.mark.parametrize("corpus", SHIPPED, ids=[c.name for c in SHIPPED])
def test_gold_has_sixty_questions_a_quarter_unanswerable(corpus):
    questions = load_gold(corpus.gold)
    unanswerable = [q for q in questions if q.kind in UNANSWERABLE_KINDS]
    assert len(questions) >= 60
    assert len(unanswerable) * 4 >= len(questions)
    assert {q.kind for q in unanswerable} == set(UNANSWERABLE_KINDS)
    assert {q.split for q in questions} == {"dev", "test"}
