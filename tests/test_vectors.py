"""The vector index: exact below the threshold, HNSW/IVF above it, recall, memory-mapping, updates across the switch."""

from __future__ import annotations

import json

import numpy as np
import pytest

from indexer.build import build_index
from indexer.indexdir.store import MANIFEST, IndexStore
from indexer.indexdir.vectors import VectorSettings, build_faiss, read_faiss, search_params
from retriever.index import Index
from retriever.pipeline import Retriever
from tests.conftest import TINY, FakeEncoder, write_corpus


def _clustered(n: int, dim: int, seed: int, clusters: int = 200) -> np.ndarray:
    """Unit vectors around random topic centres (like embeddings, unlike uniform noise)."""
    centres = np.random.default_rng(99).standard_normal((clusters, dim)).astype(np.float32)
    rng = np.random.default_rng(seed)
    x = centres[rng.integers(0, clusters, n)] + 0.9 * rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _recall(index, params, base, queries, k=10) -> float:
    truth = np.argsort(-(queries @ base.T), axis=1)[:, :k]
    _, found = index.search(queries, k, params=params)
    return float(np.mean([len(set(f) & set(t)) / k for f, t in zip(found, truth)]))


@pytest.mark.parametrize("kind", ["hnsw", "ivf"])
def test_approximate_recall_at_10_against_exact_search(tmp_path, kind):
    base, queries = _clustered(20_000, 64, seed=0), _clustered(200, 64, seed=1)
    info = build_faiss(base, tmp_path / "v.faiss", VectorSettings(kind=kind))
    assert info["type"] == kind and info["ntotal"] == len(base)
    index = read_faiss(tmp_path / "v.faiss")
    # 200 queries x 10 neighbours: the sampling error of the mean is far below the 0.03 margin
    assert _recall(index, search_params(index, info), base, queries) >= 0.95
    # and the measure can tell a bad search from a good one: a tiny candidate list loses neighbours
    weak = search_params(index, info, ef_search=1) if kind == "hnsw" else search_params(index, info, nprobe=1)
    assert _recall(index, weak, base, queries) < 0.9


def test_flat_search_is_exact(tmp_path):
    base, queries = _clustered(3000, 32, seed=2), _clustered(50, 32, seed=3)
    info = build_faiss(base, tmp_path / "v.faiss", VectorSettings())
    assert info["type"] == "flat"
    index = read_faiss(tmp_path / "v.faiss")
    assert _recall(index, search_params(index, info), base, queries) == 1.0


def test_threshold_chooses_the_kind():
    s = VectorSettings(approximate_above=100)
    assert [s.choose(n) for n in (0, 100, 101)] == ["flat", "flat", "hnsw"]
    assert VectorSettings(approximate_above=100, approximate="ivf").choose(101) == "ivf"
    assert VectorSettings(kind="ivf").choose(5) == "ivf" and VectorSettings(kind="flat").choose(10**9) == "flat"
    assert VectorSettings().nlist(1_000_000) == 4000 and VectorSettings().nlist(10) == 1
    with pytest.raises(ValueError, match="kind"):
        VectorSettings(kind="annoy")
    with pytest.raises(ValueError, match="ef_search"):
        VectorSettings(ef_search=0)


@pytest.mark.parametrize("kind", ["flat", "hnsw", "ivf"])
def test_index_files_are_memory_mapped(tmp_path, kind):
    base = _clustered(4000, 32, seed=4)
    path = tmp_path / f"{kind}.faiss"
    build_faiss(base, path, VectorSettings(kind=kind))

    def mapped() -> bool:
        return str(path) in open("/proc/self/maps").read()

    index = read_faiss(path, mmap=True)
    assert mapped() and index.ntotal == 4000
    _, ids = index.search(base[:1], 1)
    assert ids[0][0] == 0
    del index
    index = read_faiss(path, mmap=False)
    assert not mapped() and index.ntotal == 4000


def test_a_file_that_cannot_be_mapped_is_read_into_memory(tmp_path, monkeypatch):
    import faiss

    path = tmp_path / "v.faiss"
    build_faiss(_clustered(500, 16, seed=5), path)
    real = faiss.read_index

    def no_mmap(name, flags=0):
        if flags & faiss.IO_FLAG_MMAP_IFC:
            raise RuntimeError("Error in read_index: mmap is not supported here")
        return real(name, flags)

    monkeypatch.setattr(faiss, "read_index", no_mmap)
    assert read_faiss(path).ntotal == 500


def test_index_switches_to_hnsw_above_the_threshold(tiny_corpus, tmp_path, fake_encoder):
    small = build_index(tiny_corpus, tmp_path / "a", encoder=fake_encoder, progress=False,
                        vectors=VectorSettings(approximate_above=10))
    assert small.index_type == "flat" and "exact vector index" in small.summary()
    big = build_index(tiny_corpus, tmp_path / "b", encoder=fake_encoder, progress=False,
                      vectors=VectorSettings(approximate_above=3, ef_search=40))
    assert big.index_type == "hnsw" and "approximate vector index (hnsw)" in big.summary()
    faiss_info = json.loads((tmp_path / "b" / MANIFEST).read_text())["faiss"]
    assert faiss_info["type"] == "hnsw" and faiss_info["ef_search"] == 40 and faiss_info["ntotal"] == 4
    assert faiss_info["settings"]["approximate_above"] == 3
    index = Index(tmp_path / "b")
    assert type(index.faiss).__name__ == "IndexHNSWFlat" and index._params.efSearch == 40
    assert Index(tmp_path / "b", ef_search=7)._params.efSearch == 7
    retriever = Retriever(index, fake_encoder).with_config(mode="dense")
    assert retriever.ask("How many moons does Mars have?", k=2).passages[0].source == "space.txt"


def _docs(n: int, start: int = 0) -> dict[str, str]:
    topics = ["penguins swim in cold water", "volcanoes erupt molten rock", "bees make sweet honey",
              "comets have icy tails", "rivers carve deep valleys", "owls hunt at night"]
    return {f"doc{i:03d}.txt": f"Document {i} says that {topics[i % len(topics)]}. Item number {i}."
            for i in range(start, start + n)}


def test_incremental_update_across_the_flat_to_hnsw_switch(tmp_path):
    corpus = write_corpus(tmp_path / "c", _docs(8))
    index_dir = tmp_path / "idx"
    enc = FakeEncoder()
    vs = VectorSettings(approximate_above=10)
    assert build_index(corpus, index_dir, encoder=enc, progress=False, vectors=vs).index_type == "flat"
    before = IndexStore(index_dir).load_document("doc003.txt")

    write_corpus(corpus, _docs(6, start=8))  # 14 documents of one chunk each: above the threshold
    enc.texts_encoded = 0
    report = build_index(corpus, index_dir, encoder=enc, progress=False, vectors=vs)
    assert report.index_type == "hnsw" and len(report.added) == 6 and len(report.unchanged) == 8
    assert enc.texts_encoded == 6 * 2  # only the new documents: their two sentences each (chunks pooled)
    after = IndexStore(index_dir).load_document("doc003.txt")
    np.testing.assert_array_equal(after.chunk_vectors, before.chunk_vectors)
    assert after.chunks == before.chunks and after.text == before.text
    retriever = Retriever.open(index_dir, encoder=enc).with_config(mode="dense")
    assert type(retriever.index.faiss).__name__ == "IndexHNSWFlat"
    assert retriever.ask("Which document says comets have icy tails, item 9?", k=3).passages[0].source == "doc009.txt"

    for name in list(_docs(6, start=8)):  # back under the threshold: exact again
        (corpus / name).unlink()
    enc.texts_encoded = 0
    report = build_index(corpus, index_dir, encoder=enc, progress=False, vectors=vs)
    assert report.index_type == "flat" and len(report.removed) == 6 and enc.texts_encoded == 0
    assert Index(index_dir).faiss.ntotal == 8


def test_changing_only_the_vector_settings_rebuilds_faiss_without_embedding(tiny_corpus, tmp_path):
    enc = FakeEncoder()
    build_index(tiny_corpus, tmp_path / "idx", encoder=enc, progress=False)
    enc.texts_encoded = 0
    report = build_index(tiny_corpus, tmp_path / "idx", encoder=enc, progress=False,
                         vectors=VectorSettings(kind="ivf"))
    assert report.written and report.index_type == "ivf" and enc.texts_encoded == 0
    assert report.unchanged == sorted(TINY) and "nothing re-embedded" in report.summary()
    again = build_index(tiny_corpus, tmp_path / "idx", encoder=enc, progress=False, vectors=VectorSettings(kind="ivf"))
    assert not again.written and again.index_type == "ivf"


def _dense_ids(index_dir, enc, k):
    """For every chunk, the scores of what a dense search with its own vector returns (checked against
    the chunk's vector: a tombstone mapped to a wrong id would not match), and the exact top scores."""
    index = Index(index_dir)
    vecs = np.asarray(index.store.chunk_vectors)
    found, exact = [], []
    for v in vecs:
        hits = index.dense(v, k)
        for i, score in hits:
            assert abs(float(vecs[i] @ v) - score) < 1e-4
        found.append([round(s, 4) for _, s in hits])
        exact.append([round(float(s), 4) for s in np.sort(vecs @ v)[::-1][:k]])
    return index, found, exact


@pytest.mark.parametrize("kind", ["hnsw", "ivf"])
def test_an_approximate_index_is_updated_in_place_and_removed_chunks_never_come_back(tmp_path, kind):
    corpus = write_corpus(tmp_path / "c", _docs(30))
    index_dir = tmp_path / "idx"
    enc = FakeEncoder()
    vs = VectorSettings(kind=kind, nprobe=1000)  # IVF: every cell, so that results can equal exact search
    build_index(corpus, index_dir, encoder=enc, progress=False, vectors=vs)

    (corpus / "doc005.txt").write_text("Document 5 now says that glaciers move slowly. Item number 5.")
    (corpus / "doc010.txt").unlink()
    write_corpus(corpus, _docs(3, start=30))
    report = build_index(corpus, index_dir, encoder=enc, progress=False, vectors=vs)
    assert report.index_type == kind and len(report.added) == 3 and report.changed == ["doc005.txt"]
    assert f"vector index ({kind}) updated in place (2 vectors of removed or changed chunks" in report.summary()
    info = json.loads((index_dir / MANIFEST).read_text())["faiss"]
    # the graph was kept: the old doc005 and doc010 vectors stay in it as tombstones, 4 vectors were added
    assert info["updated_in_place"] and info["removed"] == 2 and info["ntotal"] == 34 and info["ids"]
    index, found, exact = _dense_ids(index_dir, enc, 5)
    assert index.n_chunks == 32 and index.faiss.ntotal == 34
    assert found == exact  # 32 vectors: HNSW with efSearch 128, or IVF searching every cell, is exact here
    everything = [i for i, _ in index.dense(np.asarray(index.store.chunk_vectors[0]), 50)]
    assert sorted(everything) == list(range(32))  # every live chunk once, no tombstone
    retriever = Retriever(index, enc).with_config(mode="dense")
    top = retriever.ask("Document 5 now says that glaciers move slowly. Item number 5.", k=1).passages[0]
    assert top.source == "doc005.txt" and "glaciers" in top.text

    (corpus / "doc020.txt").write_text("Document 20 now says that deserts are dry. Item number 20.")
    build_index(corpus, index_dir, encoder=enc, progress=False, vectors=vs)  # a second update, on the first's ids
    info = json.loads((index_dir / MANIFEST).read_text())["faiss"]
    assert info["updated_in_place"] and info["removed"] == 3 and info["ntotal"] == 35
    index, found, exact = _dense_ids(index_dir, enc, 5)
    assert found == exact
    assert [i for i, _ in index.dense(np.asarray(index.store.chunk_vectors[0]), 50)].__len__() == 32

    for i in range(0, 30, 3):  # a third of the documents removed: too many tombstones, a new graph
        (corpus / f"doc{i:03d}.txt").unlink(missing_ok=True)
    build_index(corpus, index_dir, encoder=enc, progress=False, vectors=vs)
    info = json.loads((index_dir / MANIFEST).read_text())["faiss"]
    assert "updated_in_place" not in info and "ids" not in info and info["ntotal"] == Index(index_dir).n_chunks
    assert not (index_dir / "chunks.faiss.ids.npy").exists()
    index, found, exact = _dense_ids(index_dir, enc, 5)
    assert found == exact
