"""The index directory: its files, how they are written (atomically) and opened (checked).

Layout of an index dir::

    manifest.json         format version, model, chunker settings, documents, file checksums
    chunks.sqlite         documents (their text in pieces), sentences, chunks, FTS5 over chunks
    chunks.faiss          FAISS index over chunk vectors (ids = chunk ids): exact, or HNSW/IVF
    chunk_vectors.npy     float32 chunk vectors, row = chunk id
    sentence_vectors.npy  float32 sentence vectors, row = sentence id

Every file is written into a temporary sibling folder which then replaces the old one in a
single atomic rename; readers never see a half-written index. Documents are written a stretch
at a time (text pieces, spans, vectors), so a huge document never has to be held in memory, and
a document left unchanged by an update is copied from the previous index without re-embedding.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from indexer.errors import IndexCorrupt, IndexIncompatible, IndexNotFound, rebuild_hint
from indexer.schema import Chunk, Sentence

log = logging.getLogger(__name__)

FORMAT_VERSION = 2  # 2: document text in pieces (texts table), FAISS kind in the manifest
MANIFEST = "manifest.json"
DB = "chunks.sqlite"
FAISS = "chunks.faiss"
CHUNK_VECTORS = "chunk_vectors.npy"
SENTENCE_VECTORS = "sentence_vectors.npy"
DATA_FILES = (DB, FAISS, CHUNK_VECTORS, SENTENCE_VECTORS)

SCHEMA = """
CREATE TABLE documents(
    id INTEGER PRIMARY KEY, source TEXT UNIQUE NOT NULL, sha256 TEXT NOT NULL,
    size INTEGER NOT NULL, chars INTEGER NOT NULL,
    first_chunk INTEGER NOT NULL, n_chunks INTEGER NOT NULL,
    first_sentence INTEGER NOT NULL, n_sentences INTEGER NOT NULL);
CREATE TABLE texts(
    doc_id INTEGER NOT NULL, start_char INTEGER NOT NULL, text TEXT NOT NULL,
    PRIMARY KEY (doc_id, start_char)) WITHOUT ROWID;
CREATE TABLE sentences(
    id INTEGER PRIMARY KEY, doc_id INTEGER NOT NULL,
    start_char INTEGER NOT NULL, end_char INTEGER NOT NULL,
    start_line INTEGER NOT NULL, end_line INTEGER NOT NULL);
CREATE TABLE chunks(
    id INTEGER PRIMARY KEY, doc_id INTEGER NOT NULL,
    start_char INTEGER NOT NULL, end_char INTEGER NOT NULL,
    start_line INTEGER NOT NULL, end_line INTEGER NOT NULL,
    first_sentence INTEGER NOT NULL, last_sentence INTEGER NOT NULL,
    text TEXT NOT NULL);
CREATE VIRTUAL TABLE chunks_fts USING fts5(
    text, content='chunks', content_rowid='id', tokenize='porter unicode61');
"""


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 18), b""):
            h.update(block)
    return h.hexdigest()


@dataclass
class DocumentRecord:
    """Everything the index keeps about one document; ids inside are local to the document."""

    source: str
    sha256: str
    size: int
    text: str
    sentences: list[Sentence]
    chunks: list[Chunk]
    chunk_vectors: np.ndarray
    sentence_vectors: np.ndarray


def read_manifest(index_dir: Path) -> dict[str, Any]:
    """The manifest of an index, checked for its format version."""
    index_dir = Path(index_dir)
    path = index_dir / MANIFEST
    if not index_dir.exists():
        raise IndexNotFound(f"no index at {index_dir}", index_dir,
                            f"Build one with: python -m indexer SOURCE_DIR --index-dir {index_dir}")
    if not path.is_file():
        raise IndexCorrupt(f"{index_dir} is not a quarry index (no {MANIFEST})", index_dir, rebuild_hint(index_dir))
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        version = manifest["format_version"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise IndexCorrupt(f"{path} is unreadable ({e.__class__.__name__})", index_dir,
                           rebuild_hint(index_dir)) from None
    if version != FORMAT_VERSION:
        raise IndexIncompatible(
            f"{index_dir} has index format {version}, this quarry reads format {FORMAT_VERSION}",
            index_dir, rebuild_hint(index_dir))
    return manifest


def verify_files(index_dir: Path, manifest: dict[str, Any], checksums: bool = True) -> None:
    """Check that every data file is there with the size (and sha256) the manifest records."""
    files = manifest.get("files") or {}
    for name in DATA_FILES:
        path = Path(index_dir) / name
        want = files.get(name)
        if want is None or not path.is_file():
            raise IndexCorrupt(f"{path} is missing", index_dir, rebuild_hint(index_dir))
        size = path.stat().st_size
        if size != want["size"]:
            raise IndexCorrupt(f"{path} is {size} bytes, the manifest says {want['size']} (truncated?)",
                               index_dir, rebuild_hint(index_dir))
        if checksums and file_sha256(path) != want["sha256"]:
            raise IndexCorrupt(f"{path} does not match its checksum (modified or damaged)",
                               index_dir, rebuild_hint(index_dir))


class IndexStore:
    """Read-only access to an index dir's chunk store and vectors (FAISS is opened by the retriever)."""

    def __init__(self, index_dir: str | os.PathLike, verify: bool = True):
        self.path = Path(index_dir)
        self.manifest = read_manifest(self.path)
        verify_files(self.path, self.manifest, checksums=verify)
        self._local = threading.local()
        try:
            self.sentence_vectors = np.load(self.path / SENTENCE_VECTORS, mmap_mode="r", allow_pickle=False)
            self.db.execute("SELECT count(*) FROM chunks").fetchone()
        except (OSError, ValueError, sqlite3.DatabaseError) as e:
            raise IndexCorrupt(f"{self.path} cannot be read ({e})", self.path, rebuild_hint(self.path)) from None

    @property
    def db(self) -> sqlite3.Connection:
        """A read-only connection for the calling thread."""
        conn = getattr(self._local, "db", None)
        if conn is None:
            uri = (self.path / DB).resolve().as_uri() + "?mode=ro&immutable=1"
            conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
            # term -> number of chunks holding it, for IDF weights (lives in memory, not the file)
            conn.execute("CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, chunks_fts, row)")
            self._local.db = conn
        return conn

    @property
    def dim(self) -> int:
        return int(self.manifest["dim"])

    @property
    def n_chunks(self) -> int:
        return int(self.manifest["counts"]["chunks"])

    def chunks(self, ids: list[int]) -> dict[int, Chunk]:
        """Chunks by id, with their document's source."""
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self.db.execute(
            "SELECT c.id, d.source, c.start_char, c.end_char, c.start_line, c.end_line, "
            f"c.first_sentence, c.last_sentence, c.text FROM chunks c JOIN documents d ON d.id = c.doc_id "
            f"WHERE c.id IN ({marks})", [int(i) for i in ids]).fetchall()
        return {r[0]: Chunk(r[8], r[1], r[2], r[3], r[4], r[5], id=r[0], first_sentence=r[6], last_sentence=r[7])
                for r in rows}

    def sentences_of(self, chunk: Chunk) -> list[Sentence]:
        """The sentences inside a chunk, their text sliced from the chunk's text."""
        rows = self.db.execute(
            "SELECT id, start_char, end_char, start_line, end_line FROM sentences "
            "WHERE id BETWEEN ? AND ? ORDER BY id", (chunk.first_sentence, chunk.last_sentence)).fetchall()
        base = chunk.start_char
        return [Sentence(chunk.text[s - base:e - base], chunk.source, s, e, sl, el, id=i)
                for i, s, e, sl, el in rows]

    def documents(self) -> list[dict[str, Any]]:
        """Indexed documents sorted by source: source, size, sha256 and chunk count, from the manifest."""
        return sorted(({"source": d["source"], "size": d["size"], "sha256": d["sha256"], "chunks": d["n_chunks"]}
                       for d in self.manifest["documents"]), key=lambda d: d["source"])

    @property
    def chunk_vectors(self) -> np.ndarray:
        """The chunk vectors, memory-mapped (row = chunk id)."""
        vecs = getattr(self, "_chunk_vectors", None)
        if vecs is None:
            vecs = self._chunk_vectors = np.load(self.path / CHUNK_VECTORS, mmap_mode="r", allow_pickle=False)
        return vecs

    def document_text(self, source: str) -> str | None:
        """The whole text of a document (what every offset indexes), or None if it is not indexed."""
        row = self.db.execute("SELECT id FROM documents WHERE source = ?", (source,)).fetchone()
        if row is None:
            return None
        return "".join(t for (t,) in self.db.execute(
            "SELECT text FROM texts WHERE doc_id = ? ORDER BY start_char", (row[0],)))

    def document_slice(self, source: str, start: int, end: int) -> str | None:
        """``document_text(source)[start:end]``, reading only the pieces that hold it."""
        row = self.db.execute("SELECT id FROM documents WHERE source = ?", (source,)).fetchone()
        if row is None:
            return None
        start, end = max(0, start), max(start, end)
        pieces = self.db.execute(
            "SELECT start_char, text FROM texts WHERE doc_id = ? AND start_char < ? AND start_char + length(text) > ? "
            "ORDER BY start_char", (row[0], end, start)).fetchall()
        return "".join(t[max(0, start - s):end - s] for s, t in pieces)

    def load_document(self, source: str) -> DocumentRecord | None:
        """Everything stored for one document, in memory, ids made local again (updates copy with the writer)."""
        row = self.db.execute(
            "SELECT id, sha256, size, first_chunk, n_chunks, first_sentence, n_sentences "
            "FROM documents WHERE source = ?", (source,)).fetchone()
        if row is None:
            return None
        doc_id, sha, size, c0, nc, s0, ns = row
        text = self.document_text(source) or ""
        sentences = [Sentence(text[s:e], source, s, e, sl, el, id=i - s0) for i, s, e, sl, el in self.db.execute(
            "SELECT id, start_char, end_char, start_line, end_line FROM sentences WHERE doc_id = ? ORDER BY id",
            (doc_id,))]
        chunks = [Chunk(t, source, s, e, sl, el, id=i - c0, first_sentence=fs - s0, last_sentence=ls - s0)
                  for i, s, e, sl, el, fs, ls, t in self.db.execute(
                      "SELECT id, start_char, end_char, start_line, end_line, first_sentence, last_sentence, text "
                      "FROM chunks WHERE doc_id = ? ORDER BY id", (doc_id,))]
        return DocumentRecord(source, sha, size, text, sentences, chunks,
                              np.array(self.chunk_vectors[c0:c0 + nc]), np.array(self.sentence_vectors[s0:s0 + ns]))

    def close(self) -> None:
        conn = getattr(self._local, "db", None)
        if conn is not None:
            conn.close()
            self._local.db = None


def __getattr__(name: str):
    # The writer moved to indexer.writer (which imports this module, hence the lazy lookup);
    # ``from indexer.store import IndexWriter`` keeps working for code written before the move.
    if name in ("IndexWriter", "NpyAppender"):
        from indexer import writer

        return getattr(writer, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
