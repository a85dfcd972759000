"""Index checksums: remembered only for untouched files, and extra files in the index dir are covered too."""

from __future__ import annotations

import json
import os

import pytest

import indexer.hashcache as hashcache
from indexer.build import build_index
from indexer.errors import IndexCorrupt
from indexer.hashcache import cached_sha256, file_sha256, remember_link
from indexer.indexdir.store import MANIFEST
from indexer.indexdir.writer import IndexWriter
from retriever.index import Index


@pytest.fixture
def counted(monkeypatch):
    """Count how often file bytes are really hashed."""
    calls = []
    real = hashcache.file_sha256

    def counting(path):
        calls.append(path)
        return real(path)

    monkeypatch.setattr(hashcache, "file_sha256", counting)
    return calls


def test_a_fresh_file_is_hashed_every_time(tmp_path, counted):
    f = tmp_path / "data.bin"
    f.write_bytes(b"abc")
    assert cached_sha256(f) == cached_sha256(f) == file_sha256(f)
    assert len(counted) == 2  # changed less than RACY_SECONDS ago: a same-tick write could hide


def test_an_untouched_file_is_hashed_once_and_a_write_is_seen(tmp_path, counted, monkeypatch):
    monkeypatch.setattr(hashcache, "RACY_SECONDS", -1.0)  # as if the file were old
    f = tmp_path / "data.bin"
    f.write_bytes(b"abc")
    first = cached_sha256(f)
    hashcache._MEMORY.clear()  # a new process: the digest comes from the cache file
    assert cached_sha256(f) == first and len(counted) == 1
    f.write_bytes(b"abcd")
    assert cached_sha256(f) == file_sha256(f) != first
    assert len(counted) == 2


def test_hard_links_share_one_remembered_digest(tmp_path, counted, monkeypatch):
    monkeypatch.setattr(hashcache, "RACY_SECONDS", -1.0)
    a, b = tmp_path / "a.bin", tmp_path / "b.bin"
    a.write_bytes(b"abc")
    os.link(a, b)
    digest = cached_sha256(a)
    assert cached_sha256(b) == digest and len(counted) == 1  # the same file by another name


def test_a_new_link_is_hashed_again_unless_remembered(tmp_path, counted, monkeypatch):
    monkeypatch.setattr(hashcache, "RACY_SECONDS", -1.0)
    a = tmp_path / "a.bin"
    a.write_bytes(b"abc")
    digest = cached_sha256(a)
    os.link(a, tmp_path / "b.bin")  # changes the file's ctime: its identity
    assert cached_sha256(a) == digest and len(counted) == 2
    os.link(a, tmp_path / "c.bin")
    remember_link(tmp_path / "c.bin", digest)  # what a build does after linking verified bytes
    hashcache._MEMORY.clear()  # a later process
    assert cached_sha256(a) == cached_sha256(tmp_path / "b.bin") == digest and len(counted) == 2
    a.write_bytes(b"abcd")  # in place: a new ctime, so the remembered digest is not used
    assert cached_sha256(tmp_path / "c.bin") == file_sha256(a) != digest


def test_files_a_build_hook_adds_are_checksummed(tiny_corpus, tmp_path, fake_encoder, monkeypatch):
    real_commit = IndexWriter.commit

    def commit_with_extra(self, manifest, build_faiss):
        (self.tmp / "encoder").mkdir()
        (self.tmp / "encoder" / "weights.bin").write_bytes(b"\0" * 64)
        return real_commit(self, manifest, build_faiss)

    monkeypatch.setattr(IndexWriter, "commit", commit_with_extra)
    index_dir = tmp_path / "idx"
    build_index(tiny_corpus, index_dir, encoder=fake_encoder, progress=False)
    manifest = json.loads((index_dir / MANIFEST).read_text())
    assert manifest["files"]["encoder/weights.bin"]["size"] == 64
    Index(index_dir)
    (index_dir / "encoder" / "weights.bin").write_bytes(b"\1" * 64)
    with pytest.raises(IndexCorrupt, match="weights.bin does not match its checksum"):
        Index(index_dir)
    (index_dir / "encoder" / "weights.bin").unlink()
    with pytest.raises(IndexCorrupt, match="weights.bin is missing"):
        Index(index_dir)
    manifest["files"] = {k: v for k, v in manifest["files"].items() if not k.startswith("encoder/")}
    manifest["files"]["../outside.bin"] = {"size": 1, "sha256": "0" * 64}
    (index_dir / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(IndexCorrupt, match="outside the index"):
        Index(index_dir)
