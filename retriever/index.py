"""Opening an index dir for search: checks, then BM25 (SQLite FTS5) and dense (FAISS) primitives."""

from __future__ import annotations

import logging
import math
import os
import sqlite3
from pathlib import Path

import numpy as np

from indexer.encoder import Encoder
from indexer.errors import IndexCorrupt, IndexIncompatible, rebuild_hint
from indexer.indexdir import FAISS, IndexStore, PositionMap, contained, read_faiss, search_params
from indexer.text import fts_query, path_words, terms

# BM25 weight of a chunk's context column (its document's path words and title, its section trail) against
# its text: what names the document counts as said in each of its passages (BM25F)
CONTEXT_WEIGHT = 1.0
log = logging.getLogger(__name__)


class Index:
    """A read-only, checked index: chunk store, FTS5 and FAISS. Safe to share between threads.

    The FAISS file is memory-mapped when ``mmap`` (falling back to reading it); ``ef_search``
    (HNSW) and ``nprobe`` (IVF) override the search parameters the manifest records.
    """

    def __init__(self, index_dir: str | os.PathLike, verify: bool = True, mmap: bool = True,
                 ef_search: int | None = None, nprobe: int | None = None):
        self.store = IndexStore(index_dir, verify=verify)
        self.path = self.store.path
        self.manifest = self.store.manifest
        self.faiss = _read_faiss(self.store.file(FAISS), mmap, shown=self.path / FAISS)
        info = self.manifest.get("faiss", {})
        # an HNSW index updated in place: its positions -> chunk ids (-1: removed; see indexer.indexdir.vectors)
        self._positions = PositionMap.read(
            contained(self.store.file(""), info["ids"], self.manifest["files"], self.path, "faiss.ids")
        ) if info.get("ids") else None
        held = self.faiss.ntotal if self._positions is None else self._positions.live
        if (held != self.store.n_chunks or self.faiss.d != self.store.dim
                or (self._positions is not None and len(self._positions.labels) != self.faiss.ntotal)):
            raise IndexCorrupt(f"{self.path / FAISS} holds {held} vectors of dimension "
                               f"{self.faiss.d}, the manifest says {self.store.n_chunks} of {self.store.dim}",
                               self.path, rebuild_hint(self.path))
        # approximate indexes: efSearch (HNSW) or nprobe (IVF) from the manifest unless given here
        self._params = search_params(self.faiss, info, ef_search, nprobe,
                                     self._positions.selector if self._positions else None)
        self._idf_cache: dict[str, float] = {}

    def check_encoder(self, encoder: Encoder) -> None:
        """Refuse to embed questions with another model than the one that embedded the chunks."""
        model = self.manifest.get("model", {})
        if model.get("dim") != encoder.dim or model.get("fingerprint") != encoder.fingerprint:
            raise IndexIncompatible(
                f"{self.path} was built with the model {model.get('name')!r} ({model.get('fingerprint', '?')[:19]}), "
                f"but questions would be embedded with {encoder.name!r} ({encoder.fingerprint[:19]})",
                self.path, rebuild_hint(self.path))

    @property
    def n_chunks(self) -> int:
        return self.store.n_chunks

    def lexical(self, question: str, limit: int) -> list[tuple[int, float]]:
        """Chunk ids and BM25 scores (higher is better) for the question's words, best first: over each
        chunk's text and its context (its document's path words and title, its section), so that the words
        naming a document choose the document, not the passages that repeat its name."""
        query = fts_query(question)
        if not query:
            return []
        try:
            rows = self.store.db.execute(
                "SELECT rowid, -bm25(chunks_fts, 1.0, ?) FROM chunks_fts WHERE chunks_fts MATCH ? "
                "ORDER BY bm25(chunks_fts, 1.0, ?) LIMIT ?",
                (CONTEXT_WEIGHT, query, CONTEXT_WEIGHT, limit)).fetchall()
        except sqlite3.OperationalError as e:  # a query FTS5 cannot parse: no lexical hits
            log.debug("FTS5 rejected %r: %s", query, e)
            return []
        return [(int(r[0]), float(r[1])) for r in rows]

    def dense(self, qvec: np.ndarray, limit: int) -> list[tuple[int, float]]:
        """Chunk ids and cosine similarities to the question vector, best first."""
        limit = min(limit, self.n_chunks)
        if limit <= 0:
            return []
        scores, ids = self.faiss.search(np.asarray(qvec, dtype=np.float32).reshape(1, -1), limit,
                                        params=self._params)
        found = ids[0] if self._positions is None else self._positions.chunk_ids(ids[0])
        return [(int(i), float(s)) for i, s in zip(found, scores[0]) if i >= 0]

    def closest(self, vectors: np.ndarray) -> list[float]:
        """For each vector, the cosine of its closest chunk (0.0 in an empty index); one batched search."""
        vectors = np.asarray(vectors, dtype=np.float32).reshape(len(vectors), -1)
        if self.n_chunks <= 0 or not len(vectors):
            return [0.0] * len(vectors)
        scores, ids = self.faiss.search(vectors, 1, params=self._params)
        return [float(s[0]) if i[0] >= 0 else 0.0 for s, i in zip(scores, ids)]

    @property
    def unseen_idf(self) -> float:
        """The IDF of a term no chunk contains (the largest there is)."""
        n = self.n_chunks
        return math.log(1 + (n + 0.5) / 0.5)

    def idf(self, terms: list[str]) -> dict[str, float]:
        """BM25 inverse document frequency of stemmed terms over chunks (unknown terms: the maximum). A
        term no chunk holds but a document's file name does ("NCSA") is in that document's chunks."""
        missing = [t for t in set(terms) if t not in self._idf_cache]
        if missing:
            db = self.store.db
            marks = ",".join("?" * len(missing))
            df = dict(db.execute(f"SELECT term, doc FROM temp.vocab WHERE term IN ({marks})", missing).fetchall())
            n = self.n_chunks
            for t in missing:  # only the index's own terms are kept: a bounded cache, whatever is asked
                d = df.get(t, 0) or self._named_chunks().get(t, 0)
                if d:
                    self._idf_cache[t] = math.log(1 + (n - d + 0.5) / (d + 0.5))
        unknown = math.log(1 + (self.n_chunks + 0.5) / 0.5)
        return {t: self._idf_cache.get(t, unknown) for t in terms}

    def name_words(self, source: str) -> str:
        """The words of a document's file name and folders (:func:`indexer.text.path_words`): what a
        question may call it by ("Under the MIT licence, ..." of a file named MIT)."""
        names = self.__dict__.setdefault("_name_words", {})
        if source not in names:
            names[source] = path_words(source)
        return names[source]

    def _named_chunks(self) -> dict[str, int]:
        """For each term of the documents' file names, how many chunks the documents it names hold (read once)."""
        named = self.__dict__.get("_named")
        if named is None:
            named = {}
            for d in self.manifest.get("documents", []):
                for t in set(terms(self.name_words(d["source"]))):
                    named[t] = named.get(t, 0) + int(d["n_chunks"])
            self.__dict__["_named"] = named
        return named

    def sentence_vectors(self, ids: list[int]) -> np.ndarray:
        return np.asarray(self.store.sentence_vectors[ids], dtype=np.float32)

    def close(self) -> None:
        self.store.close()


def _read_faiss(path: Path, mmap: bool, shown: Path):
    try:
        return read_faiss(path, mmap)
    except RuntimeError as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else "unreadable"
        raise IndexCorrupt(f"{shown} cannot be read by FAISS ({first[:120]})", shown.parent,
                           rebuild_hint(shown.parent)) from None
