"""The held-out checks' builders (eval.heldout): what is cut out, kept, and where each answer lies."""

from __future__ import annotations

import json

from eval.heldout import Gold
from eval.heldout.mdfaq import build

MD = """# Tool FAQ

## Contents

- [How do I start?](#start)

## General

### How do I start?

Run `tool start`.
It takes a second.

### Is it free?

Yes, it is free software under the MIT licence.

## Other notes

Plain text under a heading that asks nothing.
"""


def test_markdown_faq_headings_out_or_kept():
    for keep in (False, True):
        written, entries = build(MD, keep)
        assert "## Contents" not in written and "## General" in written and "## Other notes" in written
        assert ("### How do I start?" in written) is keep and ("### Is it free?" in written) is keep
        assert [q for q, _, _ in entries] == ["How do I start?", "Is it free?"]
        bodies = [written[a:b] for _, a, b in entries]
        assert bodies == ["Run `tool start`.\nIt takes a second.", "Yes, it is free software under the MIT licence."]


def test_gold_rows_and_counts(tmp_path, capsys):
    gold = Gold("x")
    gold.add("a.md", "How do I start?", 10, 40)
    gold.counts["a.md", "too short"] += 1
    gold.write(tmp_path / "gold.jsonl")
    rows = [json.loads(line) for line in (tmp_path / "gold.jsonl").read_text().splitlines()]
    assert rows == [{"id": "x_001", "question": "How do I start?", "answers": [], "ranges": [[10, 40]],
                     "source": "a.md", "kind": "factual", "split": "test"}]
    out = capsys.readouterr().out
    assert "a.md: 1 gold" in out and "a.md: 1 too short" in out and "1 questions ->" in out


def test_paraphrase_gold_files():
    # hand-written questions over the --keep-headings texts: each a gold row the harness reads, ids unique,
    # a paraphrase with the ranges of the FAQ entry it rewords, an unanswerable one with none
    from pathlib import Path

    from eval.gold import load_gold

    for name, splits in (("faq2", {"dev", "test"}), ("mdfaq", {"test"})):
        path = Path(__file__).parent.parent / "eval" / "heldout" / "paraphrases" / f"{name}.jsonl"
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        assert len({r["id"] for r in rows}) == len(rows) and {r["split"] for r in rows} == splits
        for r in rows:
            assert r["question"].endswith("?")
            if r["kind"] == "paraphrase":
                assert r["ranges"] and r["source"] and all(a < b for a, b in r["ranges"])
            else:
                assert r["kind"] == "unanswerable" and r["source"] is None and not r.get("ranges")
        assert sum(r["kind"] == "unanswerable" for r in rows) == 24
        assert len(load_gold(path, "all")) == len(rows)
    # the HTML FAQ's: a question may be typed as a search ("composite primary key in django models"), and
    # off-topic ones are there too
    path = Path(__file__).parent.parent / "eval" / "heldout" / "paraphrases" / "htmlfaq.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert len({r["id"] for r in rows}) == len(rows) == 63 and {r["split"] for r in rows} == {"test"}
    kinds = [r["kind"] for r in rows]
    assert (kinds.count("paraphrase"), kinds.count("unanswerable"), kinds.count("off-topic")) == (45, 12, 6)
    for r in rows:
        if r["kind"] == "paraphrase":
            assert r["source"].endswith(".html") and r["ranges"] and all(a < b for a, b in r["ranges"])
        else:
            assert r["source"] is None and not r.get("ranges")
    assert len(load_gold(path, "all")) == len(rows)


SPHINX_FAQ = ('<html><body><div class="section"><h1>FAQ<a class="headerlink" href="#faq">\u00b6</a></h1>'
              '<div class="section"><h2>How do I start?<a class="headerlink" href="#start">\u00b6</a></h2>'
              '<p>Run <code>tool start</code>.</p><p>It takes a second.</p></div>'
              '<div class="section"><h2>Is it free?<a class="headerlink" href="#free">\u00b6</a></h2>'
              '<p>Yes.</p></div>'
              '<div class="section"><h2>Other notes</h2><p>Plain text under a heading that asks nothing.</p></div>'
              '</div></body></html>')


def test_html_faq_questions_are_its_headings_and_answers_their_sections():
    from eval.heldout.htmlfaq import entries
    from indexer.formats.html import extract

    text = extract("faq.html", SPHINX_FAQ.encode()).text
    found = entries("faq.html", SPHINX_FAQ.encode())
    assert [q for q, _, _ in found] == ["How do I start?", "Is it free?"]  # no permalink sign, no "Other notes"
    assert [text[a:b] for _, a, b in found] == ["Run tool start.\nIt takes a second.", "Yes."]
