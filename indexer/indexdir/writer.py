"""Writing a new index dir a stretch at a time, into a temporary sibling that is then swapped in."""

from __future__ import annotations

import json
import logging
import os
import shutil
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from indexer.hashcache import cached_sha256
from indexer.indexdir.fsutil import fsync_dir, replace_dir
from indexer.indexdir.store import (
    CHUNK_VECTORS,
    DATA_FILES,
    DB,
    FAISS,
    FORMAT_VERSION,
    MANIFEST,
    SCHEMA,
    SENTENCE_VECTORS,
    TITLE_READ,
    DocumentRecord,
    IndexStore,
    document_title,
)
from indexer.schema import Chunk, Sentence
from indexer.text import path_words

log = logging.getLogger(__name__)

COPY_ROWS = 65536  # vector rows copied from the previous index at a time

# How rows of a document are renumbered when copied from the previous index (other columns as they are).
_REMAP = {
    "sentences": {"id": "id + :ds", "doc_id": ":doc"},
    "chunks": {"id": "id + :dc", "doc_id": ":doc",
               "first_sentence": "first_sentence + :ds", "last_sentence": "last_sentence + :ds"},
    "texts": {"doc_id": ":doc"},
}
# Which rows of the previous index are the document's: sentences and chunks by their id range (the
# primary key: no scan of the table per document), texts by the (doc_id, start_char) primary key.
_ROWS = {
    "sentences": "id >= :s0 AND id < :s0 + :ns",
    "chunks": "id >= :c0 AND id < :c0 + :nc",
    "texts": "doc_id = :old",
}


class NpyAppender:
    """Writes a 2-D float32 ``.npy`` file row block by row block, without holding it in memory."""

    _HEADER_LEN = 128

    def __init__(self, path: Path, dim: int):
        self.path, self.dim, self.rows = path, dim, 0
        self._fh = open(path, "wb")
        self._fh.write(self._header())

    def _header(self) -> bytes:
        d = {"descr": "<f4", "fortran_order": False, "shape": (self.rows, self.dim)}
        body = repr(d).encode("latin1")
        pad = self._HEADER_LEN - 10 - len(body) - 1
        return b"\x93NUMPY\x01\x00" + (self._HEADER_LEN - 10).to_bytes(2, "little") + body + b" " * pad + b"\n"

    def append(self, block: np.ndarray) -> None:
        block = np.ascontiguousarray(block, dtype="<f4").reshape(-1, self.dim)
        self._fh.write(block.tobytes())
        self.rows += len(block)

    def truncate(self, rows: int) -> None:
        """Drop every row from ``rows`` on."""
        if rows < self.rows:
            self._fh.seek(self._HEADER_LEN + rows * self.dim * 4)
            self._fh.truncate()
            self.rows = rows

    def close(self) -> None:
        self._fh.seek(0)
        self._fh.write(self._header())
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()


class IndexWriter:
    """Writes a complete new index into a temporary folder, then swaps it into place.

    A document is written as ``begin(source)``, any number of ``add_text`` / ``add_spans`` calls
    (ids local to the document, in order), then ``end(sha256, size)``; ``discard()`` instead
    drops what was written of it. Vectors are appended with ``add_vectors`` in id order and may
    lag behind the rows (they are embedded in batches); ``commit`` checks that they caught up.
    ``copy(old, source)`` copies a whole document from the previous index.
    """

    def __init__(self, index_dir: Path, dim: int):
        self.index_dir = Path(os.path.realpath(index_dir))  # the folder swapped, never a link to it
        self.dim = dim
        self.index_dir.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = self.index_dir.parent / f".{self.index_dir.name}.tmp-{os.getpid()}"
        if self.tmp.exists():
            shutil.rmtree(self.tmp)
        self.tmp.mkdir()
        self.db = sqlite3.connect((self.tmp / DB).resolve().as_uri(), uri=True)
        self.db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + SCHEMA)
        self.chunk_vecs = NpyAppender(self.tmp / CHUNK_VECTORS, dim)
        self.sent_vecs = NpyAppender(self.tmp / SENTENCE_VECTORS, dim)
        self.n_chunks = self.n_sentences = self.n_docs = 0
        self.documents: list[dict[str, Any]] = []
        self.moved: list[tuple[int, int, int]] = []  # per copied document: old first chunk, count, new first chunk
        self._doc: dict[str, Any] | None = None  # the document being written
        self._attached: Path | None = None
        self._cols: dict[str, list[str]] = {}

    # -- one document, a stretch at a time

    def begin(self, source: str) -> None:
        if self._doc is not None:
            raise RuntimeError(f"{self._doc['source']} is still being written")
        self._doc = {"source": source, "id": self.n_docs, "c0": self.n_chunks, "s0": self.n_sentences, "chars": 0,
                     "head": ""}

    def add_text(self, start_char: int, text: str) -> None:
        """The next piece of the document's text (pieces in order cover the whole text)."""
        doc = self._current()
        if start_char != doc["chars"]:
            raise ValueError(f"{doc['source']}: text piece at {start_char}, expected {doc['chars']}")
        if text:
            self.db.execute("INSERT INTO texts VALUES (?,?,?)", (doc["id"], start_char, text))
            doc["chars"] += len(text)
            doc["head"] += text[:TITLE_READ - len(doc["head"])]  # where its title is read (``_context``)

    def add_spans(self, sentences: Sequence[Sentence], chunks: Sequence[Chunk]) -> None:
        """Sentences and chunks with ids local to the document, continuing the previous ones."""
        doc = self._current()
        s0, c0 = doc["s0"], doc["c0"]
        if sentences and sentences[0].id != self.n_sentences - s0:
            raise ValueError(f"{doc['source']}: sentence ids do not continue")
        if chunks and chunks[0].id != self.n_chunks - c0:
            raise ValueError(f"{doc['source']}: chunk ids do not continue")
        self.db.executemany(
            "INSERT INTO sentences VALUES (?,?,?,?,?,?,?,?)",
            [(s0 + s.id, doc["id"], s.start_char, s.end_char, s.start_line, s.end_line, s.page, s.section)
             for s in sentences])
        self.db.executemany(
            "INSERT INTO chunks VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            [(c0 + c.id, doc["id"], c.start_char, c.end_char, c.start_line, c.end_line,
              s0 + c.first_sentence, s0 + c.last_sentence, c.text, c.page, c.section,
              self._context(doc) + (" " + c.section if c.section else "")) for c in chunks])
        self.n_sentences += len(sentences)
        self.n_chunks += len(chunks)

    def _context(self, doc: dict[str, Any]) -> str:
        """What names the document, searched with each of its chunks (the ``context`` column of the full-text
        index): its path's words ("licences EPL 2.0") and its title, read from the text added so far."""
        if "context" not in doc:
            doc["context"] = " ".join(x for x in (path_words(doc["source"]), document_title(doc["head"]) or "") if x)
        return doc["context"]

    def add_vectors(self, chunk_vectors: np.ndarray, sentence_vectors: np.ndarray) -> None:
        """The next rows of chunk and sentence vectors, in id order."""
        if self.chunk_vecs.rows + len(chunk_vectors) > self.n_chunks or \
                self.sent_vecs.rows + len(sentence_vectors) > self.n_sentences:
            raise ValueError("more vectors than chunks/sentences written")
        self.chunk_vecs.append(chunk_vectors)
        self.sent_vecs.append(sentence_vectors)

    def end(self, sha256: str, size: int) -> None:
        doc = self._current()
        n_chunks, n_sentences = self.n_chunks - doc["c0"], self.n_sentences - doc["s0"]
        self.db.execute("INSERT INTO documents VALUES (?,?,?,?,?,?,?,?,?)",
                        (doc["id"], doc["source"], sha256, size, doc["chars"],
                         doc["c0"], n_chunks, doc["s0"], n_sentences))
        self._finish(doc["source"], sha256, size, doc["c0"], n_chunks)

    def discard(self) -> None:
        """Forget the document being written: its rows, and its vectors if some were appended."""
        doc = self._current()
        for table in ("texts", "sentences", "chunks"):
            self.db.execute(f"DELETE FROM {table} WHERE doc_id = ?", (doc["id"],))
        self.n_chunks, self.n_sentences = doc["c0"], doc["s0"]
        self.chunk_vecs.truncate(doc["c0"])
        self.sent_vecs.truncate(doc["s0"])
        self._doc = None

    def add(self, rec: DocumentRecord) -> None:
        """A whole document at once."""
        if len(rec.chunk_vectors) != len(rec.chunks) or len(rec.sentence_vectors) != len(rec.sentences):
            raise ValueError(f"{rec.source}: vectors do not match chunks/sentences")
        self.begin(rec.source)
        self.add_text(0, rec.text)
        self.add_spans(rec.sentences, rec.chunks)
        self.add_vectors(rec.chunk_vectors, rec.sentence_vectors)
        self.end(rec.sha256, rec.size)

    def copy(self, old: IndexStore, source: str) -> bool:
        """Copy one document (rows, text, vectors) from the previous index; False if it is not there.

        Nothing is re-embedded and nothing is held in memory but a block of vectors. Every vector
        written so far must have been appended (ids are given in order).
        """
        if self._doc is not None:
            raise RuntimeError(f"{self._doc['source']} is still being written")
        if self.chunk_vecs.rows != self.n_chunks or self.sent_vecs.rows != self.n_sentences:
            raise RuntimeError("copy() while vectors are pending: append them first")
        row = old.db.execute("SELECT id, sha256, size, first_chunk, n_chunks, first_sentence, n_sentences "
                             "FROM documents WHERE source = ?", (source,)).fetchone()
        if row is None:
            return False
        old_id, sha, size, c0, nc, s0, ns = row
        self._attach(old.path / DB)
        doc_id = self.n_docs
        params = {"doc": doc_id, "old": old_id, "dc": self.n_chunks - c0, "ds": self.n_sentences - s0,
                  "c0": c0, "nc": nc, "s0": s0, "ns": ns}
        for table, remap in _REMAP.items():
            cols = self._columns(table)
            self.db.execute(f"INSERT INTO main.{table} ({', '.join(cols)}) SELECT "
                            f"{', '.join(remap.get(c, c) for c in cols)} FROM old.{table} WHERE {_ROWS[table]}",
                            params)
        cols = self._columns("documents")
        remap = {"id": ":doc", "first_chunk": ":c0", "first_sentence": ":s0"}
        self.db.execute(f"INSERT INTO main.documents ({', '.join(cols)}) SELECT "
                        f"{', '.join(remap.get(c, c) for c in cols)} FROM old.documents WHERE id = :old",
                        {"doc": doc_id, "old": old_id, "c0": self.n_chunks, "s0": self.n_sentences})
        for src, dst, start, n in ((old.chunk_vectors, self.chunk_vecs, c0, nc),
                                   (old.sentence_vectors, self.sent_vecs, s0, ns)):
            for i in range(start, start + n, COPY_ROWS):
                dst.append(np.asarray(src[i:min(i + COPY_ROWS, start + n)]))
        first_chunk = self.n_chunks
        self.moved.append((c0, nc, first_chunk))
        self.n_chunks += nc
        self.n_sentences += ns
        self._finish(source, sha, size, first_chunk, nc)
        return True

    def _columns(self, table: str) -> list[str]:
        """The columns of one of the new index's tables (asked of SQLite once)."""
        if table not in self._cols:
            self._cols[table] = [r[1] for r in self.db.execute(f"PRAGMA main.table_info({table})")]
        return self._cols[table]

    def _current(self) -> dict[str, Any]:
        if self._doc is None:
            raise RuntimeError("no document is being written: call begin() first")
        return self._doc

    def _finish(self, source: str, sha256: str, size: int, first_chunk: int, n_chunks: int) -> None:
        self.documents.append({"source": source, "sha256": sha256, "size": size,
                               "first_chunk": first_chunk, "n_chunks": n_chunks})
        self.n_docs += 1
        self._doc = None

    def _attach(self, path: Path) -> None:
        if self._attached != path:
            if self._attached is not None:
                self.db.commit()  # no DETACH inside a transaction
                self.db.execute("DETACH DATABASE old")
            self.db.execute("ATTACH DATABASE ? AS old", (path.resolve().as_uri() + "?mode=ro&immutable=1",))
            self._attached = path

    # -- the whole index

    def commit(self, manifest: dict[str, Any], build_faiss: Callable[[np.ndarray, Path], dict]) -> dict[str, Any]:
        """Finish every file, write the manifest with checksums, and swap the folder into place.

        ``build_faiss(vectors, path)`` writes the FAISS index for the (memory-mapped) chunk vectors.
        """
        if self._doc is not None:
            raise RuntimeError(f"{self._doc['source']} was not finished")
        if self.chunk_vecs.rows != self.n_chunks or self.sent_vecs.rows != self.n_sentences:
            raise RuntimeError(f"vectors missing: {self.chunk_vecs.rows}/{self.n_chunks} chunks, "
                               f"{self.sent_vecs.rows}/{self.n_sentences} sentences")
        if self._attached is not None:
            self.db.commit()
            self.db.execute("DETACH DATABASE old")
            self._attached = None
        # the full-text index is built once from the chunks table (also drops discarded rows' terms)
        self.db.execute("INSERT INTO chunks_fts(chunks_fts) VALUES ('rebuild')")
        self.db.execute("INSERT INTO chunks_fts(chunks_fts) VALUES ('optimize')")
        self.db.commit()
        self.db.close()
        self.chunk_vecs.close()
        self.sent_vecs.close()
        vectors = np.load(self.tmp / CHUNK_VECTORS, mmap_mode="r")
        manifest["faiss"] = build_faiss(vectors, self.tmp / FAISS)
        del vectors
        manifest.update(
            format_version=FORMAT_VERSION,
            dim=self.dim,
            counts={"documents": self.n_docs, "chunks": self.n_chunks, "sentences": self.n_sentences},
            documents=self.documents,
            files={},
        )
        extra = sorted(p.relative_to(self.tmp).as_posix() for p in self.tmp.rglob("*")
                       if p.is_file() and p.name != MANIFEST and p.name not in DATA_FILES)
        for name in (*DATA_FILES, *extra):  # extra: files a build hook put in the folder (encoder/)
            path = self.tmp / name
            with open(path, "rb+") as fh:
                os.fsync(fh.fileno())
            # cached: a file linked in by a build hook (the ONNX export) is not read again; the rest were
            # just written, too recently for their digest to be remembered, so they are hashed now
            manifest["files"][name] = {"size": path.stat().st_size, "sha256": cached_sha256(path)}
        tmp_manifest = self.tmp / MANIFEST
        tmp_manifest.write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")
        with open(tmp_manifest, "rb+") as fh:
            os.fsync(fh.fileno())
        fsync_dir(self.tmp)
        replace_dir(self.tmp, self.index_dir)
        return manifest

    def abort(self) -> None:
        try:
            self.db.close()
        except sqlite3.Error:
            pass
        for appender in (self.chunk_vecs, self.sent_vecs):
            try:
                appender._fh.close()
            except OSError:
                pass
        shutil.rmtree(self.tmp, ignore_errors=True)
