"""eval.bench.formats: a corpus made PDFs or Word files keeps its gold answers, carried to the extracted text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.bench.formats import FONT, carried, carry_range, make_folder
from eval.gold import answer_problems, load_gold
from indexer.formats import extract


def test_offsets_are_carried_by_the_characters_that_are_not_white_space():
    old, new = "# Cats\n\nCats  nap.", "Cats\n\nCats nap."
    pos = carried(old, new)
    assert carry_range(pos, old.index("Cats  nap"), len(old)) == (new.index("Cats nap"), len(new))
    assert carry_range(pos, 0, 1) is None  # the heading's "#" is in no PDF


def test_a_corpus_printed_to_pdfs_keeps_its_gold_answers(tmp_path):
    pytest.importorskip("fpdf")
    pytest.importorskip("pypdf")
    if not Path(FONT).is_file():
        pytest.skip(f"no font at {FONT}")
    docs = tmp_path / "docs"
    docs.mkdir()
    md = "# Cats\n\nCats sleep sixteen hours a day.\n\n## Kittens\n\nKittens play with string.\n"
    (docs / "cats.md").write_text(md)
    (docs / "page.html").write_text("<p>Dogs bark.</p>")
    rows = [{"id": "q1", "question": "How long do cats sleep?", "answers": [], "source": "cats.md", "split": "test",
             "ranges": [[md.index("Cats sleep"), md.index(" a day.")]]},
            {"id": "q2", "question": "Do dogs bark?", "answers": ["bark"], "source": "page.html", "split": "test"},
            {"id": "q3", "question": "What do bananas cost?", "answers": [], "source": None, "split": "test",
             "kind": "off-topic"}]
    gold = tmp_path / "gold.jsonl"
    gold.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert make_folder(docs, gold, tmp_path / "out", FONT) == 2  # the HTML page's question is left out
    questions = load_gold(tmp_path / "out" / "gold.jsonl")
    assert [q.id for q in questions] == ["q1", "q3"]
    assert answer_problems(questions, tmp_path / "out" / "docs") == []
    text = extract("cats.pdf", (tmp_path / "out" / "docs" / "cats.pdf").read_bytes()).text
    (a, b), = questions[0].ranges
    assert text[a:b] == "Cats sleep sixteen hours"
    assert (tmp_path / "out" / "text" / "cats.md").read_text() == md
    # set in two columns, as a paper: the same answer, carried
    assert make_folder(docs, gold, tmp_path / "cols", FONT, columns=2) == 2
    questions = load_gold(tmp_path / "cols" / "gold.jsonl")
    text = extract("cats.pdf", (tmp_path / "cols" / "docs" / "cats.pdf").read_bytes()).text
    (a, b), = questions[0].ranges
    assert text[a:b] == "Cats sleep sixteen hours"
