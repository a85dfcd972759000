"""A folder of mixed formats end to end: index, pages and sections in answers, the text offsets index."""

from __future__ import annotations

import json

import pytest

from indexer.build import build_index
from indexer.cli import main as index_main
from indexer.indexdir.store import IndexStore
from retriever.cli import main as ask_main
from retriever.cli import render
from retriever.pipeline import Retriever
from tests.conftest import FakeEncoder, write_corpus
from tests.test_formats import HTML, MD, _report, make_docx, make_pdf

MOON = [["Cats sleep sixteen hours a day.", "A cat purrs."], [], ["The Moon orbits the Earth every 27 days."]]


@pytest.fixture
def mixed(tmp_path, monkeypatch):
    """A folder with one file of each format, indexed with the fake encoder (also for the CLIs)."""
    root = write_corpus(tmp_path / "corpus", {"guide.md": MD, "notes.txt": "Penguins live in Antarctica.\n"})
    (root / "page.html").write_text(HTML)
    (root / "papers").mkdir()
    (root / "papers" / "moon.pdf").write_bytes(make_pdf(MOON))
    (root / "report.docx").write_bytes(make_docx(_report))
    index_dir = tmp_path / "idx"
    report = build_index(root, index_dir, encoder=FakeEncoder(), progress=False)
    assert report.added == ["guide.md", "notes.txt", "page.html", "papers/moon.pdf", "report.docx"]
    assert report.skipped == []
    for where in ("indexer.encoder", "retriever.query_encoder"):  # the CLIs' torch encoder, wherever looked up
        monkeypatch.setattr(f"{where}.SentenceTransformerEncoder", lambda model=None, **kw: FakeEncoder())
    return root, index_dir


def test_every_stored_span_is_a_slice_of_the_stored_text(mixed):
    root, index_dir = mixed
    store = IndexStore(index_dir)
    chunks = store.chunks(list(range(store.n_chunks)))
    for c in chunks.values():
        doc = store.document_text(c.source)
        assert doc[c.start_char:c.end_char] == c.text
        for s in store.sentences_of(c):
            assert doc[s.start_char:s.end_char] == s.text
            assert (s.page, s.section) == (c.page, c.section)
    # text formats: offsets index the file itself
    assert store.document_text("guide.md") == (root / "guide.md").read_bytes().decode()
    where = sorted({(c.source, c.page, c.section) for c in chunks.values()}, key=str)
    assert where == sorted([
        ("guide.md", None, None), ("guide.md", None, "Guide > Install"), ("guide.md", None, "Guide > Usage now"),
        ("notes.txt", None, None),
        ("page.html", None, "Cats & dogs"), ("page.html", None, "Cats & dogs > Prices"),
        ("papers/moon.pdf", 1, None), ("papers/moon.pdf", 3, None),  # page 2 is blank: no chunk
        ("report.docx", None, "Annual report"), ("report.docx", None, "Annual report > Costs"),
        ("report.docx", None, "Annual report > Costs > Details"), ("report.docx", None, "Annual report > Outlook"),
    ], key=str)
    moon = next(c for c in chunks.values() if c.page == 3)
    assert (moon.text, moon.start_char, moon.end_char, moon.start_line, moon.end_line) == (
        "The Moon orbits the Earth every 27 days.", 50, 90, 6, 6)


def test_answers_cite_page_and_section(mixed, capsys):
    _, index_dir = mixed
    retriever = Retriever.open(index_dir, encoder=FakeEncoder())
    result = retriever.ask("How often does the Moon orbit the Earth?", k=2)
    top = result.passages[0]
    assert (top.source, top.page, top.section) == ("papers/moon.pdf", 3, None)
    body = result.to_dict()
    assert body["passages"][0]["page"] == 3 and body["passages"][0]["section"] is None
    assert all({"page", "section"} <= set(p) for p in body["passages"])
    assert "papers/moon.pdf:6, page 3  [chars 50-90]" in render(result)

    result = retriever.ask("What did tea cost per box?", k=1)
    assert (result.passages[0].source, result.passages[0].section) == ("report.docx", "Annual report > Costs")
    assert 'report.docx:3-6, section "Annual report > Costs"' in render(result)

    # ask --json carries the same fields
    assert ask_main(["--json", "--index-dir", str(index_dir), "-k", "1", "How often does the Moon orbit?"]) == 0
    passage = json.loads(capsys.readouterr().out)["passages"][0]
    assert (passage["source"], passage["page"], passage["section"]) == ("papers/moon.pdf", 3, None)


def test_show_text_prints_exactly_what_offsets_index(mixed, capsys):
    _, index_dir = mixed
    store = IndexStore(index_dir)
    assert index_main(["--show-text", "papers/moon.pdf", "--index-dir", str(index_dir)]) == 0
    assert capsys.readouterr().out == store.document_text("papers/moon.pdf")
    assert index_main(["--show-text", "papers/moon.pdf", "--chars", "50:90", "--index-dir", str(index_dir)]) == 0
    assert capsys.readouterr().out == "The Moon orbits the Earth every 27 days."
    assert index_main(["--show-text", "nope.pdf", "--index-dir", str(index_dir)]) == 1
    assert capsys.readouterr().err.startswith("error: nope.pdf is not in the index")
    assert index_main(["--show-text", "papers/moon.pdf", "--chars", "x", "--index-dir", str(index_dir)]) == 2
    assert index_main(["--show-text", "a.pdf", "--index-dir", str(index_dir / "missing")]) == 1
    assert "no index at" in capsys.readouterr().err


def test_incremental_update_keeps_pages_and_sections(mixed):
    root, index_dir = mixed
    before = IndexStore(index_dir).load_document("papers/moon.pdf")
    (root / "notes.txt").write_text("Penguins swim.\n")
    enc = FakeEncoder()
    report = build_index(root, index_dir, encoder=enc, progress=False)
    assert report.changed == ["notes.txt"] and enc.texts_encoded == 1
    after = IndexStore(index_dir).load_document("papers/moon.pdf")
    assert after.chunks == before.chunks and after.sentences == before.sentences
    assert [c.page for c in after.chunks] == [1, 3]


def test_pdf_without_its_library_is_skipped_with_the_install_command(mixed, monkeypatch):
    root, index_dir = mixed
    monkeypatch.setitem(__import__("sys").modules, "pypdf", None)
    (root / "papers" / "other.pdf").write_bytes(make_pdf([["Other."]]))
    report = build_index(root, index_dir, encoder=FakeEncoder(), progress=False)
    assert [(s.source, s.reason) for s in report.skipped] == [
        ("papers/other.pdf", "needs the pypdf package: pip install 'quarry[formats]'")]
    assert IndexStore(index_dir).document_text("papers/moon.pdf") is not None  # unchanged: kept as indexed


def test_a_line_of_extracted_html_is_a_block_never_joined_to_the_next(tmp_path):
    # a short list item, then a paragraph: one block a line in the extracted text, where a plain-text file
    # of the same lines would read them as one hard-wrapped paragraph
    page = ("<html><body><ul><li>make the .changes file, using dpkg-genchanges</li></ul>"
            "<p>If the build result is satisfactory, sign the files with debsign.</p></body></html>")
    lines = "make the .changes file, using dpkg-genchanges\nIf the build result is satisfactory, sign the files.\n"
    root = write_corpus(tmp_path / "corpus", {"build.html": page, "build.txt": lines})
    build_index(root, tmp_path / "idx", encoder=FakeEncoder(), progress=False)
    store = IndexStore(tmp_path / "idx")
    sentences = {}
    for c in store.chunks(list(range(store.n_chunks))).values():
        sentences.setdefault(c.source, []).extend(s.text for s in store.sentences_of(c))
    assert sentences["build.html"][:2] == ["make the .changes file, using dpkg-genchanges",
                                           "If the build result is satisfactory, sign the files with debsign."]
    assert sentences["build.txt"][0] == lines.splitlines()[0] + "\n" + lines.splitlines()[1]


def test_a_gzip_file_in_the_folder_is_indexed_and_cited_in_its_decompressed_text(tmp_path):
    import gzip

    faq = "Why is the sky blue?\n\nAir scatters blue light more than red light.\n"
    root = write_corpus(tmp_path / "corpus", {"notes.txt": "Penguins live in Antarctica.\n"})
    (root / "FAQ.gz").write_bytes(gzip.compress(faq.encode()))
    (root / "broken.txt.gz").write_bytes(b"plain text, not gzip\n")  # plain UTF-8, so never streamed raw
    (root / "grep.1").write_bytes(b'.\\" GNU grep man page\n.TH GREP 1\n')
    report = build_index(root, tmp_path / "idx", encoder=FakeEncoder(), progress=False)
    assert report.added == ["FAQ.gz", "notes.txt"]
    assert {s.source: s.reason for s in report.skipped} == {
        "broken.txt.gz": "damaged gzip file (Error -3 while decompressing data: incorrect header check)",
        "grep.1": "a manual page's roff source: index it as text (MANWIDTH=80 man -l FILE | col -bx > NAME.txt)"}
    store = IndexStore(tmp_path / "idx")
    assert store.document_text("FAQ.gz") == faq
    cited = [s for c in store.chunks(list(range(store.n_chunks))).values() if c.source == "FAQ.gz"
             for s in store.sentences_of(c)]
    assert [(s.text, s.start_line) for s in cited][-1] == ("Air scatters blue light more than red light.", 3)
    assert all(faq[s.start_char:s.end_char] == s.text for s in cited)


def test_rst_documentation_is_indexed_with_its_sections(tmp_path):
    from tests.test_formats import RST

    root = write_corpus(tmp_path / "corpus", {"guide.rst": RST})
    build_index(root, tmp_path / "idx", encoder=FakeEncoder(), progress=False)
    store = IndexStore(tmp_path / "idx")
    assert store.document_text("guide.rst") == RST  # offsets index the file itself
    chunks = store.chunks(list(range(store.n_chunks))).values()
    found = {s.text: s.section for c in chunks for s in store.sentences_of(c)}
    assert found["Copy the wheel first."] == "Guide > Install > Offline"
    assert found["Ask it."] == "Guide > Usage"
