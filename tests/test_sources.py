"""Bad input: encodings, binary, empty, links, special, unreadable and vanishing files; the summary."""

from __future__ import annotations

import builtins
import errno
import io
import os
from pathlib import Path

import pytest

from indexer.build import build_index
from indexer.cli import main as index_main
from indexer.errors import FileSkipped
from indexer.formats.plain import decode_text
from indexer.indexdir.store import IndexStore
from indexer.sources import SourceFile, find_files, read_document
from tests.conftest import TINY, FakeEncoder, write_corpus

FRENCH = "Il était une fois une forêt où vivait un élève très curieux.\n"


def test_decoding_keeps_text_and_says_how():
    assert decode_text("a.txt", "naïve café\r\n".encode()) == ("naïve café\r\n", "utf-8")
    # a UTF-8 byte-order mark is kept as U+FEFF: offsets stay those of the file's characters
    assert decode_text("a.txt", b"\xef\xbb\xbfhi") == ("\ufeffhi", "utf-8")
    assert decode_text("a.txt", "héllo wörld".encode("utf-16")) == ("héllo wörld", "utf-16")
    assert decode_text("a.txt", "ok".encode("utf-32")) == ("ok", "utf-32")
    text, codec = decode_text("fr.txt", FRENCH.encode("cp1252"))
    assert text == FRENCH and codec != "utf-8"  # detected (charset-normalizer says cp1252)
    with pytest.raises(FileSkipped, match=r"^img.txt: binary file \(NUL bytes\), not text$"):
        decode_text("img.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    noise = bytes(range(128, 256)) * 20  # no NULs, not UTF-8, no encoding makes text of it
    with pytest.raises(FileSkipped, match=r"not UTF-8 \(byte 0\) and no text encoding fits"):
        decode_text("noise.txt", noise)


def test_read_document_of_a_non_utf8_file(tmp_path):
    path = tmp_path / "fr.txt"
    path.write_bytes(FRENCH.encode("cp1252"))
    doc = read_document(SourceFile(path, "fr.txt"))
    assert doc.text == FRENCH and doc.size == len(FRENCH)  # one byte per character in cp1252
    assert doc.note is not None and doc.note.startswith("not UTF-8: decoded as ")
    assert doc.regions == ()


def _odd_corpus(root: Path) -> Path:
    """The tiny corpus plus every kind of file that must be skipped or handled."""
    write_corpus(root, TINY)
    (root / "fr.txt").write_bytes(FRENCH.encode("cp1252"))
    (root / "utf16.txt").write_bytes("Penguins live in Antarctica.".encode("utf-16"))
    (root / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (root / "empty.md").write_bytes(b"")
    (root / "blank.txt").write_bytes(b"  \n\t\r\n")
    (root / "photo.jpg").write_bytes(b"\xff\xd8\xff")
    (root / "README").write_text("No extension: read as plain text.")
    (root / "core").write_bytes(b"\x7fELF\x02\x01\x01\x00" * 8)  # a binary with no extension
    (root / ".hidden.txt").write_text("ignored silently")
    os.symlink("loop.txt", root / "loop.txt")  # a link to itself
    os.symlink("b.txt", root / "a.txt")
    os.symlink("a.txt", root / "b.txt")
    os.symlink("missing.txt", root / "broken.txt")
    os.symlink(root / "animals", root / "zoo")  # a directory link (would index animals/ twice)
    os.symlink("..", root / "animals" / "up")  # a directory loop
    os.symlink("space.txt", root / "space-link.txt")  # a second name for a file of the folder: indexed once
    os.mkfifo(root / "pipe.txt")  # reading it would block forever
    return root


ODD_SKIPPED = [
    ("a.txt", "symlink loop"),
    ("animals/up", "directory symlink, not followed"),
    ("b.txt", "symlink loop"),
    ("blank.txt", "no text (only white space)"),
    ("broken.txt", "broken symlink"),
    ("empty.md", "empty file"),
    ("image.txt", "binary file (NUL bytes), not text"),
    ("loop.txt", "symlink loop"),
    ("photo.jpg", "unsupported extension .jpg"),
    ("pipe.txt", "not a regular file (a pipe, socket or device)"),
    ("core", "binary file (NUL bytes), not text"),
    ("space-link.txt", "symlink to space.txt, indexed under that name"),
    ("zoo", "directory symlink, not followed"),
]


def test_find_files_lists_what_it_passes_over(tmp_path):
    root = _odd_corpus(tmp_path / "corpus")
    found, skipped = find_files(root)
    assert [f.source for f in found] == sorted([*TINY, "README", "blank.txt", "core", "empty.md", "fr.txt",
                                                "image.txt", "utf16.txt"])
    assert [(s.source, s.reason) for s in skipped] == sorted(
        (s, r) for s, r in ODD_SKIPPED if s not in ("blank.txt", "core", "empty.md", "image.txt"))


def test_extensions_read_as_plain_text(tmp_path):
    (tmp_path / "notes.tex").write_text("\\section{Tea}\nGreen tea is steeped for two minutes.\n", encoding="utf-8")
    (tmp_path / "old.tex.gz").write_bytes(__import__("gzip").compress(b"Black tea takes four minutes.\n"))
    (tmp_path / "a.md").write_text("# Tea\n", encoding="utf-8")
    found, skipped = find_files(tmp_path)
    assert [f.source for f in found] == ["a.md"] and [s.reason for s in skipped] == [
        "unsupported extension .tex", "unsupported extension .tex.gz"]
    found, skipped = find_files(tmp_path, as_text=[".tex"])
    assert [(f.source, f.format) for f in found] == [("a.md", ".md"), ("notes.tex", ".txt"), ("old.tex.gz", ".txt")]
    assert not skipped
    assert read_document(found[1]).text.startswith("\\section{Tea}")
    assert read_document(found[2]).text == "Black tea takes four minutes.\n"
    with pytest.raises(ValueError, match="read already"):
        build_index(tmp_path, tmp_path / "idx", encoder=FakeEncoder(), text_extensions=[".html"], progress=False)


def test_an_extension_quarry_reads_itself_now_is_no_longer_read_as_text(tmp_path, monkeypatch):
    # an index made by --text-ext .org before quarry read Org files: the next update reads them with their reader
    from indexer.build import _previous_text_extensions
    from indexer.formats import registry

    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "notes.tex").write_text("Green tea is steeped for two minutes.\n", encoding="utf-8")
    build_index(tmp_path / "c", tmp_path / "idx", encoder=FakeEncoder(), text_extensions=[".tex"], progress=False)
    assert _previous_text_extensions(tmp_path / "idx") == [".tex"]
    monkeypatch.setitem(registry.READERS, ".tex", "plain")
    assert _previous_text_extensions(tmp_path / "idx") == []


def test_build_skips_bad_files_and_reports_each(tmp_path, capsys, monkeypatch):
    root = _odd_corpus(tmp_path / "corpus")
    index_dir = tmp_path / "idx"
    report = build_index(root, index_dir, encoder=FakeEncoder(), progress=False)
    assert sorted((s.source, s.reason) for s in report.skipped) == sorted(ODD_SKIPPED)
    assert report.added == sorted([*TINY, "README", "fr.txt", "utf16.txt"])
    assert [n.source for n in report.notes] == ["fr.txt", "utf16.txt"]
    assert report.notes[1].reason == "not UTF-8: decoded as utf-16"
    store = IndexStore(index_dir)
    assert store.document_text("fr.txt") == FRENCH
    assert store.document_text("utf16.txt") == "Penguins live in Antarctica."
    assert store.document_text("README") == "No extension: read as plain text."
    assert f"{len(ODD_SKIPPED)} skipped" in report.summary()

    # the command line prints one line per skipped file, with its reason (fake encoder: no model)
    monkeypatch.setattr("indexer.encoder.SentenceTransformerEncoder", lambda model=None, **kw: FakeEncoder())
    (root / "fr.txt").write_bytes((FRENCH * 2).encode("cp1252"))  # something to do on the next run
    assert index_main([str(root), "--index-dir", str(index_dir), "-q"]) == 0
    out = capsys.readouterr().out
    for source, reason in ODD_SKIPPED:
        assert f"  skipped {source}: {reason}\n" in out
    assert "  note fr.txt: not UTF-8: decoded as " in out


@pytest.fixture
def deny_reading(monkeypatch):
    """Make files unreadable. Not as root: chmod 000. As root (which chmod does not stop, as in
    this project's test containers) the refusal is simulated: opening the file raises the same
    PermissionError(EACCES) the kernel gives, through both ``open`` and ``io.open``."""
    denied: set[str] = set()
    real_open = io.open

    def guarded(file, *args, **kwargs):
        if isinstance(file, (str, os.PathLike)) and os.path.abspath(file) in denied:
            raise PermissionError(errno.EACCES, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    def deny(path: Path) -> None:
        if os.geteuid() != 0:
            path.chmod(0)
        else:
            denied.add(os.path.abspath(path))
            monkeypatch.setattr(builtins, "open", guarded)
            monkeypatch.setattr(io, "open", guarded)

    yield deny
    for p in denied:
        Path(p).chmod(0o644)


def test_unreadable_file_is_skipped_and_keeps_its_indexed_version(tiny_corpus, tmp_path, deny_reading):
    index_dir = tmp_path / "idx"
    (tiny_corpus / "secret.txt").write_text("The vault code is 1234.")
    build_index(tiny_corpus, index_dir, encoder=FakeEncoder(), progress=False)
    (tiny_corpus / "secret.txt").write_text("The vault code is 9999.")
    (tiny_corpus / "locked.txt").write_text("Never indexed.")
    deny_reading(tiny_corpus / "secret.txt")
    deny_reading(tiny_corpus / "locked.txt")
    report = build_index(tiny_corpus, index_dir, encoder=FakeEncoder(), progress=False)
    assert [(s.source, s.reason) for s in report.skipped] == [
        ("locked.txt", "cannot read: permission denied"),
        ("secret.txt", "cannot read: permission denied (previous version kept)")]
    assert report.removed == [] and report.added == []
    assert IndexStore(index_dir).document_text("secret.txt") == "The vault code is 1234."


def test_files_vanishing_mid_run(tiny_corpus, tmp_path, monkeypatch):
    import indexer.build as build

    index_dir = tmp_path / "idx"
    build_index(tiny_corpus, index_dir, encoder=FakeEncoder(), progress=False)
    (tiny_corpus / "space.txt").write_text("Changed: the Moon is bright.")  # indexed before
    (tiny_corpus / "new.txt").write_text("Brand new.")  # never indexed
    (tiny_corpus / "gone.txt").write_text("Found by the scan, gone before it is hashed.")
    real_find, real_open = build.find_files, build._open_document

    def find_then_delete(root, **kwargs):  # these disappear between the scan and hashing
        found = real_find(root, **kwargs)
        (tiny_corpus / "gone.txt").unlink()
        (tiny_corpus / "money.txt").unlink()
        return found

    def delete_then_open(f, *args):  # the file disappears between hashing and reading
        if f.source in ("space.txt", "new.txt"):
            f.path.unlink()
        return real_open(f, *args)

    monkeypatch.setattr(build, "find_files", find_then_delete)
    monkeypatch.setattr(build, "_open_document", delete_then_open)
    report = build_index(tiny_corpus, index_dir, encoder=FakeEncoder(), progress=False)
    assert [(s.source, s.reason) for s in report.skipped] == [
        ("gone.txt", "vanished while indexing"),
        ("money.txt", "vanished while indexing (previous version kept)"),
        ("new.txt", "vanished while indexing"),
        ("space.txt", "vanished while indexing (previous version kept)")]
    assert report.removed == []
    store = IndexStore(index_dir)
    assert store.document_text("space.txt") == TINY["space.txt"]  # nothing indexed is lost
    assert store.document_text("money.txt") == TINY["money.txt"]
    assert store.document_text("new.txt") is None and store.document_text("gone.txt") is None
    # the next run sees they are gone and drops them like any deleted file
    monkeypatch.undo()
    report = build_index(tiny_corpus, index_dir, encoder=FakeEncoder(), progress=False)
    assert report.removed == ["money.txt", "space.txt"] and report.skipped == []


def test_a_file_vanishing_right_after_it_is_hashed(tiny_corpus, tmp_path, monkeypatch):
    # a small plain file is read whole, a large one streamed: its size is looked at after hashing
    import indexer.build as build

    (tiny_corpus / "gone.txt").write_text("Hashed, then gone before its size is read.")
    real_scan = build.scan_file

    def scan_then_delete(path, *args):
        result = real_scan(path, *args)
        if path.name == "gone.txt":
            path.unlink()
        return result

    monkeypatch.setattr(build, "scan_file", scan_then_delete)
    report = build_index(tiny_corpus, tmp_path / "idx", encoder=FakeEncoder(), progress=False)
    assert [(s.source, s.reason) for s in report.skipped] == [("gone.txt", "vanished while indexing")]
    assert IndexStore(tmp_path / "idx").document_text("space.txt") == TINY["space.txt"]
