"""The command lines: `python -m indexer` and `ask`, their help, summaries and errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

from indexer.cli import main as index_main
from tests.conftest import TINY


def test_help_imports_no_heavy_module():
    code = ("import sys, retriever.cli, indexer.cli\n"
            "retriever.cli.parser().format_help(); indexer.cli.parser().format_help()\n"
            "heavy = [m for m in ('torch', 'sentence_transformers', 'transformers', 'faiss', 'numpy',\n"
            "                     'onnxruntime', 'tokenizers') if m in sys.modules]\n"
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True)
    out = subprocess.run([sys.executable, "-m", "retriever", "--help"], capture_output=True, text=True, check=True)
    assert "usage: ask" in out.stdout and "--json" in out.stdout


def test_indexer_usage_errors(tmp_path, capsys):
    assert index_main([str(tmp_path / "nope"), "--index-dir", str(tmp_path / "idx")]) == 1
    assert capsys.readouterr().err.startswith("error: source folder not found")
    assert index_main([str(tmp_path), "--max-chars", "5"]) == 2
    assert "max_chars" in capsys.readouterr().err
    assert index_main([str(tmp_path), "--model", str(tmp_path)]) == 1
    assert "not a sentence-transformers model folder" in capsys.readouterr().err
    for bad, why in ((".md", ".md files are read already"), ("gz", "a compressed file as the file it holds"),
                     ("a b", "not a file extension: 'a b'"), (".", "not a file extension"),
                     ("none,.tex", "'none' stands alone"), ("org", ".org files are read already")):
        assert index_main([str(tmp_path), "--text-ext", bad]) == 2
        assert why in capsys.readouterr().err


@pytest.mark.model
def test_text_ext_reads_another_extension_as_plain_text_and_is_kept(tiny_corpus, tmp_path, capsys):
    from indexer.indexdir import read_manifest
    from retriever import Retriever

    idx = str(tmp_path / "idx")
    minutes = "\\section{Budget}\nThe budget for 2027 is 40,000 euros.\n"
    (tiny_corpus / "minutes.tex").write_text(minutes, encoding="utf-8")
    (tiny_corpus / "build.log").write_text("Installed it with make.\n", encoding="utf-8")
    assert index_main([str(tiny_corpus), "--index-dir", idx, "-q"]) == 0
    out = capsys.readouterr().out
    assert "skipped minutes.tex: unsupported extension .tex" in out
    assert "note: --text-ext EXT reads the files of an extension as plain text (.log, .tex here)" in out
    assert index_main([str(tiny_corpus), "--index-dir", idx, "-q", "--text-ext", "TEX"]) == 0
    out = capsys.readouterr().out
    assert "added minutes.tex" in out and "(.log here)" in out
    assert read_manifest(tmp_path / "idx")["text_extensions"] == [".tex"]
    span = Retriever.open(idx).ask("What is the budget for 2027?").answer
    assert span is not None and span.source == "minutes.tex" and span.text == "The budget for 2027 is 40,000 euros."
    # kept for the next update without the option; "none" drops them
    assert index_main([str(tiny_corpus), "--index-dir", idx, "-q"]) == 0
    assert "index already up to date" in capsys.readouterr().out
    assert index_main([str(tiny_corpus), "--index-dir", idx, "-q", "--text-ext", "none"]) == 0
    assert "removed minutes.tex" in capsys.readouterr().out
    assert read_manifest(tmp_path / "idx")["text_extensions"] == []


@pytest.mark.model
def test_indexer_cli_builds_then_updates(tiny_corpus, tmp_path, capsys):
    idx = str(tmp_path / "idx")
    (tiny_corpus / "photo.jpg").write_bytes(b"\xff\xd8")
    assert index_main([str(tiny_corpus), "--index-dir", idx, "-q"]) == 0
    out = capsys.readouterr().out
    assert f"index updated: {idx}: {len(TINY)} added, 0 changed, 0 removed, 0 unchanged, 1 skipped" in out
    assert "skipped photo.jpg: unsupported extension .jpg" in out
    assert index_main([str(tiny_corpus), "--index-dir", idx, "-q"]) == 0
    assert "index already up to date" in capsys.readouterr().out


def test_an_answer_is_one_run_of_words_unless_it_holds_a_block():
    from retriever.cli import answer_lines

    # a sentence of a hard-wrapped paragraph: one run of words
    assert answer_lines("Long tests run on all commits\n   to the release branch.") == [
        "  Long tests run on all commits to the release branch."]
    # a lead-in with the code block it introduces: its lines as they are
    assert answer_lines("To install it:\n\n```bash\n[sudo] make install\n```") == [
        "  To install it:", "", "  ```bash", "  [sudo] make install", "  ```"]
    # a man page's list, dedented to its least indentation
    assert answer_lines("xargs exits with the following status:\n\n       0   if it succeeds\n\n"
                        "       123 if any invocation failed") == [
        "  xargs exits with the following status:", "", "  0   if it succeeds", "", "  123 if any invocation failed"]
    assert answer_lines("Steps:\n- one\n  - nested") == ["  Steps:", "  - one", "    - nested"]
    # a sentence that runs on over a PDF's page break (a form-feed line): one run of words
    assert answer_lines("The survey went on for the rest of the\n\f\nsummer.") == [
        "  The survey went on for the rest of the summer."]


def test_a_span_over_a_page_break_cites_both_pages():
    from types import SimpleNamespace

    from retriever.cli import _cite

    span = SimpleNamespace(source="a.pdf", start_line=3, end_line=5, page=2, section=None,
                           text="The survey went on for the rest of the\n\f\nsummer.")
    assert _cite(span) == "a.pdf:3-5, pages 2-3"
    assert _cite(SimpleNamespace(**{**vars(span), "text": "The survey ended."})) == "a.pdf:3-5, page 2"
    from retriever.cli import shown

    assert shown(span.text) == "The survey went on for the rest of the\nsummer."  # the break read as a line break
