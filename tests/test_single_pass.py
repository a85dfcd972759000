"""Single-pass embedding: only sentences go through the model; chunk vectors are pooled from them."""

from __future__ import annotations

import json

import numpy as np

import indexer.chunker
from indexer.build import EMBEDDING, SEGMENTATION, build_index, pool_sentences
from indexer.chunker import ChunkerSettings
from indexer.indexdir.store import MANIFEST, IndexStore
from tests.conftest import FakeEncoder, write_corpus

LONG = " ".join(f"Sentence number {i} talks about topic {i % 7} and word{i}." for i in range(120)) + "\n"


def _expected_chunk_vectors(store: IndexStore) -> np.ndarray:
    rows = []
    for cid in range(store.n_chunks):
        chunk = store.chunks([cid])[cid]
        sents = store.sentences_of(chunk)
        vecs = np.stack([store.sentence_vectors[s.id] for s in sents])
        rows.append(pool_sentences(vecs, [len(s.text) for s in sents]))
    return np.stack(rows)


def test_each_sentence_embedded_once_and_chunks_pooled(tmp_path):
    corpus = write_corpus(tmp_path / "corpus", {"long.txt": LONG, "b.md": "# B\nOne line.\nTwo lines here.\n"})
    enc = FakeEncoder()
    report = build_index(corpus, tmp_path / "idx", encoder=enc, progress=False)
    store = IndexStore(tmp_path / "idx")
    distinct = {store.sentences_of(c)[0].text for c in store.chunks(list(range(store.n_chunks))).values()}
    all_sentences = {s.text for c in store.chunks(list(range(store.n_chunks))).values() for s in store.sentences_of(c)}
    assert distinct <= all_sentences
    # the model saw each distinct sentence once and no chunk text
    assert enc.texts_encoded == report.embedded == len(all_sentences)
    np.testing.assert_allclose(store.chunk_vectors, _expected_chunk_vectors(store), atol=1e-6)
    norms = np.linalg.norm(np.asarray(store.chunk_vectors), axis=1)
    np.testing.assert_allclose(norms, 1.0, atol=1e-5)
    assert json.loads((tmp_path / "idx" / MANIFEST).read_text())["embedding"] == EMBEDDING


def test_small_flushes_and_stream_windows_give_the_same_vectors(tmp_path, monkeypatch):
    """A chunk naming sentences of an earlier flush (and an earlier streamed stretch) still pools them."""
    corpus = write_corpus(tmp_path / "corpus", {"long.txt": LONG.replace(". ", ".\n"), "z.txt": "Last one."})
    build_index(corpus, tmp_path / "big", encoder=FakeEncoder(), progress=False)
    monkeypatch.setattr(indexer.chunker, "STREAM_WINDOW", 300)
    build_index(corpus, tmp_path / "small", encoder=FakeEncoder(), progress=False, flush_texts=3)
    a, b = IndexStore(tmp_path / "big"), IndexStore(tmp_path / "small")
    assert a.n_chunks == b.n_chunks > 10
    np.testing.assert_allclose(a.chunk_vectors, b.chunk_vectors, atol=1e-6)
    np.testing.assert_allclose(a.sentence_vectors, b.sentence_vectors, atol=1e-6)
    np.testing.assert_allclose(b.chunk_vectors, _expected_chunk_vectors(b), atol=1e-6)


def test_fixed_windows_are_embedded_as_themselves(tmp_path):
    corpus = write_corpus(tmp_path / "corpus", {"long.txt": LONG})
    enc = FakeEncoder()
    settings = ChunkerSettings(strategy="fixed", max_chars=100)
    build_index(corpus, tmp_path / "idx", encoder=enc, settings=settings, progress=False)
    store = IndexStore(tmp_path / "idx")
    chunks = store.chunks(list(range(store.n_chunks)))
    cut = 0
    for cid, c in chunks.items():  # windows cut sentences: each is embedded as itself
        np.testing.assert_allclose(store.chunk_vectors[cid], enc.encode([c.text])[0], atol=1e-6)
        sents = store.sentences_of(c)
        cut += not sents or (sents[0].start_char, sents[-1].end_char) != (c.start_char, c.end_char)
    assert cut > 0


def test_an_index_with_separately_embedded_chunks_is_rebuilt(tiny_corpus, tmp_path):
    index_dir = tmp_path / "idx"
    build_index(tiny_corpus, index_dir, encoder=FakeEncoder(), progress=False)
    path = index_dir / MANIFEST
    manifest = json.loads(path.read_text())
    del manifest["embedding"]  # as an index written before single-pass embedding
    path.write_text(json.dumps(manifest))
    enc = FakeEncoder()
    report = build_index(tiny_corpus, index_dir, encoder=enc, progress=False, onnx=False)
    assert report.written and enc.texts_encoded > 0
    assert "chunk vectors are made another way" in (report.full_rebuild_reason or "")


def test_an_index_split_another_way_is_rebuilt(tiny_corpus, tmp_path):
    index_dir = tmp_path / "idx"
    build_index(tiny_corpus, index_dir, encoder=FakeEncoder(), progress=False, onnx=False)
    path = index_dir / MANIFEST
    manifest = json.loads(path.read_text())
    assert manifest["segmentation"] == SEGMENTATION
    enc = FakeEncoder()
    again = build_index(tiny_corpus, index_dir, encoder=enc, progress=False, onnx=False)
    assert not again.full_rebuild_reason and enc.texts_encoded == 0  # unchanged: nothing read again
    del manifest["segmentation"]  # as an index written before the splitting was versioned
    path.write_text(json.dumps(manifest))
    report = build_index(tiny_corpus, index_dir, encoder=enc, progress=False, onnx=False)
    assert report.written and enc.texts_encoded > 0
    now = SEGMENTATION["sentences"]
    assert f"sentences are split another way now (version {now}, the index's version 1)" in report.full_rebuild_reason
    assert json.loads(path.read_text())["segmentation"] == SEGMENTATION
