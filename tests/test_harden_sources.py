"""Hostile source folders: links out of the folder, non-UTF-8 names, very deep nesting."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from indexer.build import build_index
from indexer.indexdir.store import IndexStore
from indexer.sources import find_files
from tests.conftest import FakeEncoder

OUT = "symlink to outside the folder, not followed (--follow-links follows it)"


def _folder(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    root.mkdir()
    (root / "a.txt").write_text("Penguins live in Antarctica.\n")
    return root


def test_file_link_out_of_the_folder_is_skipped_unless_asked(tmp_path):
    root = _folder(tmp_path)
    secret = tmp_path / "secret.txt"
    secret.write_text("The password is swordfish.\n")
    (root / "out.txt").symlink_to(secret)
    found, skipped = find_files(root)
    assert [f.source for f in found] == ["a.txt"]
    assert [(s.source, s.reason) for s in skipped] == [("out.txt", OUT)]
    found, skipped = find_files(root, follow_links=True)
    assert [f.source for f in found] == ["a.txt", "out.txt"] and skipped == []


def test_a_second_name_for_a_file_is_skipped(tmp_path):
    root = _folder(tmp_path)
    (root / "sub").mkdir()
    (root / "sub" / "b.txt").write_text("Owls hunt at night.\n")
    (root / "in.txt").symlink_to(root / "sub" / "b.txt")  # a link to a file the folder holds
    (root / "z.txt").symlink_to("in.txt")  # a link to that link
    found, skipped = find_files(root)
    assert [f.source for f in found] == ["a.txt", "sub/b.txt"]
    assert [(s.source, s.reason) for s in skipped] == [
        ("in.txt", "symlink to sub/b.txt, indexed under that name"),
        ("z.txt", "symlink to sub/b.txt, indexed under that name")]
    # a file outside the folder linked twice is indexed once, under the first link's name
    outside = tmp_path / "notes.txt"
    outside.write_text("Bats sleep upside down.\n")
    (root / "n1.txt").symlink_to(outside)
    (root / "n2.txt").symlink_to(outside)
    found, skipped = find_files(root, follow_links=True)
    assert [f.source for f in found] == ["a.txt", "n1.txt", "sub/b.txt"]
    assert ("n2.txt", "symlink to n1.txt, indexed under that name") in [(s.source, s.reason) for s in skipped]
    # the build indexes each file once
    report = build_index(root, tmp_path / "idx", encoder=FakeEncoder(), progress=False)
    assert sorted(report.added) == ["a.txt", "sub/b.txt"]


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_link_into_proc_is_skipped(tmp_path):
    root = _folder(tmp_path)
    (root / "status.txt").symlink_to("/proc/self/status")
    found, skipped = find_files(root)
    assert [f.source for f in found] == ["a.txt"]
    assert [(s.source, s.reason) for s in skipped] == [("status.txt", OUT)]


@pytest.mark.skipif(sys.platform == "darwin", reason="macOS refuses non-UTF-8 names")
def test_non_utf8_file_name_is_skipped_and_the_build_goes_on(tmp_path):
    root = _folder(tmp_path)
    bad = os.path.join(os.fsencode(root), b"caf\xe9.txt")
    with open(bad, "wb") as fh:
        fh.write(b"Coffee is served at noon.\n")
    found, skipped = find_files(root)
    assert [f.source for f in found] == ["a.txt"]
    assert [(s.source, s.reason) for s in skipped] == [("caf\\xe9.txt", "file name is not valid UTF-8")]
    report = build_index(root, tmp_path / "idx", encoder=FakeEncoder(), progress=False)
    assert report.added == ["a.txt"]
    assert IndexStore(tmp_path / "idx").document_text("a.txt").startswith("Penguins")


def test_a_thousand_nested_folders(tmp_path):
    root = _folder(tmp_path)
    deep = str(root)
    for _ in range(1000):  # about 2,000 characters in all: under PATH_MAX
        deep += "/d"
        os.mkdir(deep)
    deep = Path(deep)
    (deep / "deep.txt").write_text("Deep down there is a note.\n")
    found, skipped = find_files(root)
    assert [f.source for f in found if f.source.endswith("deep.txt")] == ["d/" * 1000 + "deep.txt"]
    (deep / "deep.txt").unlink()
    while deep != root:  # shutil.rmtree (pytest's clean-up) recurses: remove the chain here
        deep.rmdir()
        deep = deep.parent


def test_file_swapped_for_a_fifo_after_the_scan_does_not_hang(tmp_path, monkeypatch):
    root = _folder(tmp_path)
    (root / "b.txt").write_text("Seals live in the sea.\n")
    real = find_files

    def swap(folder, *args, **kwargs):
        found = real(folder, *args, **kwargs)
        (root / "b.txt").unlink()
        os.mkfifo(root / "b.txt")  # no writer: a blocking open would wait for ever
        return found

    monkeypatch.setattr("indexer.build.find_files", swap)
    report = build_index(root, tmp_path / "idx", encoder=FakeEncoder(), progress=False)
    assert report.added == ["a.txt"]
    assert [(s.source, s.reason) for s in report.skipped] == [
        ("b.txt", "cannot read: not a regular file (a pipe, socket or device)")]


def test_follow_links_flag(tmp_path, monkeypatch, capsys):
    from indexer.cli import main as index_main

    root = _folder(tmp_path)
    (tmp_path / "outside.txt").write_text("Walruses have tusks.\n")
    (root / "out.txt").symlink_to(tmp_path / "outside.txt")
    monkeypatch.setattr("indexer.encoder.SentenceTransformerEncoder", lambda model=None, **kw: FakeEncoder())
    idx = tmp_path / "idx"
    assert index_main([str(root), "--index-dir", str(idx), "-q", "--no-onnx"]) == 0
    assert f"  skipped out.txt: {OUT}\n" in capsys.readouterr().out
    assert index_main([str(root), "--index-dir", str(idx), "-q", "--no-onnx", "--follow-links"]) == 0
    assert IndexStore(idx).document_text("out.txt") == "Walruses have tusks.\n"


def test_index_of_another_folder_is_not_replaced_without_force(tmp_path, monkeypatch, capsys):
    from indexer.cli import main as index_main

    first = _folder(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    (other / "b.txt").write_text("Seals live in the sea.\n")
    monkeypatch.setattr("indexer.encoder.SentenceTransformerEncoder", lambda model=None, **kw: FakeEncoder())
    idx = tmp_path / "idx"
    assert index_main([str(first), "--index-dir", str(idx), "-q", "--no-onnx"]) == 0
    capsys.readouterr()
    assert index_main([str(other), "--index-dir", str(idx), "-q", "--no-onnx"]) == 1
    err = capsys.readouterr().err
    assert f"was built from {first.resolve()}" in err and "--force replaces it" in err
    assert IndexStore(idx).document_text("a.txt") is not None  # untouched
    assert index_main([str(other), "--index-dir", str(idx), "-q", "--no-onnx", "--force"]) == 0
    store = IndexStore(idx)
    assert store.document_text("a.txt") is None and store.document_text("b.txt") is not None
