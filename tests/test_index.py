"""The index dir: build, store round-trip, checks at open, incremental updates."""

from __future__ import annotations

import json

import numpy as np
import pytest

from indexer.build import build_index, pool_sentences
from indexer.errors import IndexCorrupt, IndexIncompatible, IndexNotFound, SourceError
from indexer.indexdir.store import CHUNK_VECTORS, DB, FAISS, FORMAT_VERSION, MANIFEST, IndexStore
from retriever.index import Index
from retriever.pipeline import Retriever
from tests.conftest import TINY, FakeEncoder


def test_build_writes_a_self_describing_index(tiny_corpus, tmp_path, fake_encoder):
    index_dir = tmp_path / "idx"
    report = build_index(tiny_corpus, index_dir, encoder=fake_encoder, progress=False)
    assert report.written
    assert report.added == sorted(TINY)
    assert (report.changed, report.removed, report.unchanged) == ([], [], [])
    manifest = json.loads((index_dir / MANIFEST).read_text())
    assert manifest["format_version"] == FORMAT_VERSION
    assert manifest["model"] == {"name": "fake-bow", "fingerprint": "fake-bow-256", "dim": 256}
    assert manifest["chunker"] == {"max_chars": 600, "overlap_sentences": 1, "max_sentence_chars": 400,
                                   "strategy": "sentences", "overlap_chars": 0, "join_wrapped": True}
    assert [d["source"] for d in manifest["documents"]] == sorted(TINY)
    for d in manifest["documents"]:
        data = (tiny_corpus / d["source"]).read_bytes()
        assert d["size"] == len(data)
    assert set(manifest["files"]) == {DB, FAISS, CHUNK_VECTORS, "sentence_vectors.npy"}
    # no temporary folder left behind
    assert sorted(p.name for p in tmp_path.iterdir()) == [".idx.lock", "corpus", "idx"]


def test_store_round_trip(tiny_corpus, tmp_path, fake_encoder):
    index_dir = tmp_path / "idx"
    build_index(tiny_corpus, index_dir, encoder=fake_encoder, progress=False)
    store = IndexStore(index_dir)
    assert store.n_chunks == 4  # each tiny document fits one chunk
    chunks = store.chunks(list(range(store.n_chunks)))
    for c in chunks.values():
        doc = (tiny_corpus / c.source).read_bytes().decode("utf-8")
        assert doc[c.start_char:c.end_char] == c.text
        for s in store.sentences_of(c):
            assert doc[s.start_char:s.end_char] == s.text
    money = next(c for c in chunks.values() if c.source == "money.txt")
    assert money.text == "The company spent $800 billion on data centers in 2026.\r\nRevenue grew slowly."
    assert (money.start_char, money.end_char, money.start_line, money.end_line) == (0, 77, 1, 2)
    assert [s.text for s in store.sentences_of(money)] == [
        "The company spent $800 billion on data centers in 2026.", "Revenue grew slowly."]
    # vectors round-trip: sentence vectors are those the encoder gives for the same text, the chunk's
    # vector is pooled from its sentences' (single pass: the chunk text itself is not embedded)
    rec = store.load_document("money.txt")
    sent = fake_encoder.encode([s.text for s in rec.sentences])
    np.testing.assert_allclose(rec.sentence_vectors, sent, atol=1e-6)
    np.testing.assert_allclose(rec.chunk_vectors[0], pool_sentences(sent, [len(s.text) for s in rec.sentences]),
                               atol=1e-6)
    assert float(rec.chunk_vectors[0] @ fake_encoder.encode([money.text])[0]) < 0.999  # not the chunk's own
    assert store.document_text("space.txt") == TINY["space.txt"]
    assert {d["source"]: d["chunks"] for d in store.documents()} == {k: 1 for k in TINY}


def test_open_detects_damage_and_mismatch(tiny_corpus, tmp_path, fake_encoder):
    index_dir = tmp_path / "idx"
    with pytest.raises(IndexNotFound, match="python -m indexer"):
        Index(index_dir)
    build_index(tiny_corpus, index_dir, encoder=fake_encoder, progress=False)
    with pytest.raises(IndexIncompatible, match="--rebuild"):
        Retriever(Index(index_dir), FakeEncoder(dim=32))
    # a changed byte in the chunk store
    db = index_dir / DB
    data = bytearray(db.read_bytes())
    data[-10] ^= 0xFF
    db.write_bytes(bytes(data))
    with pytest.raises(IndexCorrupt, match="checksum"):
        Index(index_dir)
    # a truncated FAISS file
    build_index(tiny_corpus, index_dir, encoder=fake_encoder, progress=False, rebuild=True)
    faiss_file = index_dir / FAISS
    faiss_file.write_bytes(faiss_file.read_bytes()[:100])
    with pytest.raises(IndexCorrupt, match="truncated"):
        Index(index_dir)
    # another format version
    build_index(tiny_corpus, index_dir, encoder=fake_encoder, progress=False, rebuild=True)
    manifest = json.loads((index_dir / MANIFEST).read_text())
    manifest["format_version"] = 999
    (index_dir / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(IndexIncompatible, match="format 999"):
        Index(index_dir)


def test_incremental_update_add_change_delete(tiny_corpus, tmp_path):
    index_dir = tmp_path / "idx"
    enc = FakeEncoder()
    build_index(tiny_corpus, index_dir, encoder=enc, progress=False)
    before = IndexStore(index_dir).load_document("space.txt")

    # nothing changed: nothing embedded, nothing written
    enc.texts_encoded = 0
    mtime = (index_dir / MANIFEST).stat().st_mtime_ns
    report = build_index(tiny_corpus, index_dir, encoder=enc, progress=False)
    assert not report.written and enc.texts_encoded == 0
    assert report.unchanged == sorted(TINY)
    assert (index_dir / MANIFEST).stat().st_mtime_ns == mtime

    # add one, change one, delete one
    (tiny_corpus / "new.txt").write_text("Penguins live in Antarctica.")
    (tiny_corpus / "animals/cats.txt").write_text("Cats hunt mice at night.")
    (tiny_corpus / "money.txt").unlink()
    report = build_index(tiny_corpus, index_dir, encoder=enc, progress=False)
    assert report.written
    assert report.added == ["new.txt"]
    assert report.changed == ["animals/cats.txt"]
    assert report.removed == ["money.txt"]
    assert report.unchanged == ["animals/dogs.md", "space.txt"]
    assert enc.texts_encoded == 2  # one chunk == one sentence in each of the two new texts
    assert "2 added" not in report.summary() and "1 added, 1 changed, 1 removed, 2 unchanged" in report.summary()

    store = IndexStore(index_dir)
    assert [d["source"] for d in store.documents()] == ["animals/cats.txt", "animals/dogs.md", "new.txt", "space.txt"]
    assert store.document_text("money.txt") is None
    assert store.document_text("animals/cats.txt") == "Cats hunt mice at night."
    after = store.load_document("space.txt")
    assert after.chunks == before.chunks and after.sentences == before.sentences
    np.testing.assert_array_equal(after.chunk_vectors, before.chunk_vectors)
    # and the updated index answers from the new text
    result = Retriever.open(index_dir, encoder=enc).ask("Where do penguins live?", k=1)
    assert result.passages[0].source == "new.txt"


def test_model_change_forces_full_rebuild(tiny_corpus, tmp_path):
    index_dir = tmp_path / "idx"
    build_index(tiny_corpus, index_dir, encoder=FakeEncoder(256), progress=False)
    report = build_index(tiny_corpus, index_dir, encoder=FakeEncoder(32), progress=False)
    assert report.written and "model changed" in report.full_rebuild_reason
    assert json.loads((index_dir / MANIFEST).read_text())["dim"] == 32


def test_empty_or_missing_source(tmp_path, fake_encoder):
    with pytest.raises(SourceError, match="not found"):
        build_index(tmp_path / "nope", tmp_path / "idx", encoder=fake_encoder)
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "image.png").write_bytes(b"\x89PNG")
    with pytest.raises(SourceError, match="nothing to index"):
        build_index(tmp_path / "empty", tmp_path / "idx", encoder=fake_encoder)
    assert not (tmp_path / "idx").exists()


def test_undecodable_changed_file_keeps_previous_version(tiny_corpus, tmp_path, fake_encoder):
    index_dir = tmp_path / "idx"
    build_index(tiny_corpus, index_dir, encoder=fake_encoder, progress=False)
    (tiny_corpus / "space.txt").write_bytes(b"\xff\xfe broken \x80")
    report = build_index(tiny_corpus, index_dir, encoder=fake_encoder, progress=False)
    assert [s.source for s in report.skipped] == ["space.txt"]
    assert "previous version kept" in report.skipped[0].reason
    assert IndexStore(index_dir).document_text("space.txt") == TINY["space.txt"]



def test_a_passage_is_searched_with_what_names_its_document(tmp_path, fake_encoder):
    # BM25 reads each chunk with its document's path words and title (and its section): words that name a
    # document find every passage of it, not only those that repeat its name, so the passage that answers
    # "Does the Eclipse Public License give me a patent license?" competes on "patent" alone
    from tests.conftest import write_corpus

    corpus = write_corpus(tmp_path / "corpus", {
        "licences/NCSA": "University of Illinois Open Source License\n\n" + "Some words of filler text. " * 40
                         + "\n\nRedistributions of source code must retain the copyright notice.\n",
        "licences/EPL-2.0": "Eclipse Public License - v 2.0\n\nThis program is provided under this license.\n\n"
                            + "Some words of filler text. " * 40 + "\n\nEach contributor gives you a patent license.\n",
    })
    build_index(corpus, tmp_path / "idx", encoder=fake_encoder, progress=False)
    index = Index(tmp_path / "idx")

    def found(question):
        hits = index.store.chunks([i for i, _ in index.lexical(question, 10)])
        return sorted((c.source, c.start_char) for c in hits.values())

    epl = sorted((c.source, c.start_char) for c in index.store.chunks(list(range(index.n_chunks))).values()
                 if c.source == "licences/EPL-2.0")
    assert len(epl) >= 2
    assert found("Eclipse") == epl  # the title names every passage of its document
    assert found("NCSA") == [x for x in found("filler") if x[0] == "licences/NCSA"]  # and so does the file name
    index.close()


def test_a_version_number_is_searched_as_one(tmp_path, fake_encoder):
    # the full-text index cuts "1.1" into "1" and "1"; the question's "1.1" is searched as that phrase, so the
    # passage about Debian 1.1 is found, not every passage holding a "1" (it failed before: "1" alone)
    from indexer.text import fts_query
    from tests.conftest import write_corpus

    assert fts_query("How many packages were in Debian 1.1?") == '"many" OR "packages" OR "debian" OR "1 1"'
    assert fts_query("setup.py on 1,000 hosts") == '"setup" OR "py" OR "1 000" OR "hosts"'
    filler = "Some words of filler text. " * 40
    corpus = write_corpus(tmp_path / "corpus", {
        "history.txt": f"Debian 1.3 had 1 kernel and 1 installer.\n\n{filler}\n\n"
                       f"Debian 1.1 was the first release with a code name.\n",
    })
    build_index(corpus, tmp_path / "idx", encoder=fake_encoder, progress=False)
    index = Index(tmp_path / "idx")
    hits = index.store.chunks([i for i, _ in index.lexical("1.1", 10)])
    assert [c.text for c in hits.values()] and all("1.1" in c.text for c in hits.values())
    index.close()
