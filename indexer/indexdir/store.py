"""The index directory's files and schema, and opening one checked (:class:`IndexStore`).

The layout of an index dir, and how it is written atomically, is in :mod:`indexer.indexdir`.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from indexer.errors import IndexClosed, IndexCorrupt, IndexIncompatible, IndexNotFound, rebuild_hint
from indexer.formats.org import EMPHASIS
from indexer.hashcache import cached_sha256
from indexer.indexdir.fsutil import ReadLease, live_dir
from indexer.indexdir.manifest import contained, validate_manifest
from indexer.schema import Chunk, Sentence
from indexer.text import HTML_TAG

log = logging.getLogger(__name__)

FORMAT_VERSION = 4  # 2: page and section per span; 3: document text in pieces, FAISS kind in the manifest;
# 4: each chunk's context (its document's path words and title, its section) searched with its text
MANIFEST = "manifest.json"
DB = "chunks.sqlite"
FAISS = "chunks.faiss"
CHUNK_VECTORS = "chunk_vectors.npy"
SENTENCE_VECTORS = "sentence_vectors.npy"
DATA_FILES = (DB, FAISS, CHUNK_VECTORS, SENTENCE_VECTORS)
OPEN_ATTEMPTS = 3  # an index replaced this many times while being opened is reported, not retried

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
    start_line INTEGER NOT NULL, end_line INTEGER NOT NULL,
    page INTEGER, section TEXT);
CREATE TABLE chunks(
    id INTEGER PRIMARY KEY, doc_id INTEGER NOT NULL,
    start_char INTEGER NOT NULL, end_char INTEGER NOT NULL,
    start_line INTEGER NOT NULL, end_line INTEGER NOT NULL,
    first_sentence INTEGER NOT NULL, last_sentence INTEGER NOT NULL,
    text TEXT NOT NULL, page INTEGER, section TEXT, context TEXT);
CREATE VIRTUAL TABLE chunks_fts USING fts5(
    text, context, content='chunks', content_rowid='id', tokenize='porter unicode61');
"""


TITLE_READ = 4000  # characters of a document searched for its title
TITLE_CHARS = 80  # a longer title (a first line that is a paragraph) is cut there
WRAPPED_CHARS = 50  # a first line this long, run on by a next line in lower case, is a wrapped paragraph
_ATX = re.compile(r"^ {0,3}#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_RULE = re.compile(r"^\s*(?:[-=_*|:+ ]{3,}|```.*|~~~.*)\s*$")  # front-matter fences, rules, table separators
# an editor's settings line ("vim:tw=75:wrap:et", "-*- mode: text -*-"): skipped like a rule
_MODELINE = re.compile(r"(?:^|\s)(?:vim?|ex):\s*\S*[=:]|-\*-.*-\*-")


_LETTERS = re.compile(r"[^\W\d_]{2,}")
_RST_META = re.compile(r"^(?::[\w][\w .-]*:(?:\s|$)|\.\.(?:\s|$))")  # ":description: ...", ".. _label:", ".."
_RST_TITLE = re.compile(r"^:title:\s+(\S.*)$")
_ORG_KEYWORD = re.compile(r"^#\+(\w+):[ \t]*(.*)$")  # Org's "#+TITLE: Notes", "#+STARTUP: overview"
# AsciiDoc's document title ("= Guide"), an Org headline opening the file ("* which-key")
_MARKUP_TITLE = re.compile(r"^(?:=|\*+)[ \t]+(\S.*?)[ \t]*$")
_ORG_LINKS = re.compile(r"(?:\[\[[^\]]*\](?:\[[^\]]*\])?\][ \t]*)+")  # "[[https://...][file:badge.svg]]"


def document_title(text: str) -> str | None:
    """A document's title: its first Markdown heading (``# Title``) in ``text`` (its first few thousand
    characters), else its first line with words in it when that reads as a title (at most
    ``TITLE_CHARS`` long, no table row, not ending as a sentence or a clause does, not a line of wrapped
    text run on by a next line in lower case); None otherwise: a first line that is a paragraph ("Last
    October, there was a long line ...") names nothing.

    >>> document_title("---\\nlayout: post\\n---\\n# Getting started #\\nText.")
    'Getting started'
    >>> document_title("\\n321\\n  AI Models Are Becoming Commodities\\nThe premise is ...")
    'AI Models Are Becoming Commodities'
    >>> document_title('## <a name="general"></a>General Information')
    'General Information'
    >>> document_title("Cats sleep for sixteen hours a day.\\nA cat purrs.") is None
    True
    >>> document_title("This program and its materials are made available under\\nthe terms of the EPL") is None
    True
    >>> document_title(":title: AWS CLI S3 FAQ\\n:category: S3\\n\\nS3 FAQ\\n======\\n")
    'AWS CLI S3 FAQ'
    >>> document_title(".. _s3-faq:\\n\\nS3 FAQ\\n======\\n")
    'S3 FAQ'
    >>> document_title("vim:tw=75:wrap:fo=tcqn2:et\\n\\nVim FAQ\\n")
    'Vim FAQ'
    >>> document_title("# -*- mode: org -*-\\n#+STARTUP: overview\\n#+TITLE: Org-Drill\\n* General")
    'Org-Drill'
    >>> document_title("= AsciiDoc Syntax\\n:toc:\\n\\nA paragraph."), document_title("* which-key\\nText.")
    ('AsciiDoc Syntax', 'which-key')
    >>> document_title("[[https://melpa.org/][file:badge.svg]]\\n#+BEGIN_HTML\\n<img>\\n#+END_HTML\\n* ~org-appear~")
    'org-appear'
    """
    lines = text.splitlines()
    for line in lines:
        org = _ORG_KEYWORD.match(line)
        if org and org.group(1).lower() == "title" and org.group(2).strip():
            return _cut(" ".join(org.group(2).split()))
    for line in lines:
        m = _ATX.match(line)
        title = " ".join(HTML_TAG.sub("", m.group(1)).split()) if m else ""  # "## <a name="x"></a>Title"
        if title and not _MODELINE.search(title):  # not an Org comment's "# -*- mode: org -*-"
            return _cut(title)
    block = False  # inside an Org block ("#+BEGIN_HTML" ... "#+END_HTML")
    for i, line in enumerate(lines):
        if line.lstrip().startswith("#+"):  # Org's settings ("#+STARTUP: overview") and blocks
            word = line.lstrip()[2:].lower()
            block = word.startswith("begin") or (block and not word.startswith("end"))
            continue
        if block or _ORG_LINKS.fullmatch(line.strip()):  # a block's content, a row of badges
            continue
        marked = _MARKUP_TITLE.match(line)
        if marked:
            return _cut(" ".join(EMPHASIS.sub(r"\2", marked.group(1)).split()))
        if _RST_META.match(line):  # reStructuredText's fields and comments before its title
            field = _RST_TITLE.match(line)
            if field:
                return _cut(" ".join(field.group(1).split()))
            continue
        if _MODELINE.search(line):
            continue
        if _LETTERS.search(line) and not _RULE.match(line):
            first = " ".join(line.split())
            after = lines[i + 1].strip() if i + 1 < len(lines) else ""
            if after[:1].islower() and len(first) >= WRAPPED_CHARS:  # a paragraph's first line, wrapped
                return None  # mid-sentence: "This program and the accompanying materials are made available under"
            if len(first) <= TITLE_CHARS and not first.startswith("|") and first[-1] not in ".!?,;:":
                return first
            return None
    return None


def _cut(title: str) -> str:
    return title if len(title) <= TITLE_CHARS else title[:TITLE_CHARS - 1].rstrip() + "\u2026"


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
    """The manifest of an index, checked for its format version and its schema (field types)."""
    index_dir = Path(index_dir)
    path = index_dir / MANIFEST
    if not index_dir.exists():
        raise IndexNotFound(f"no index at {index_dir}", index_dir,
                            f"Build one with: python -m indexer SOURCE_DIR --index-dir {index_dir}")
    if not path.is_file():
        raise IndexCorrupt(f"{index_dir} is not a quarry index (no {MANIFEST})", index_dir, rebuild_hint(index_dir))
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise unreadable(path, e, index_dir) from None
    try:
        manifest = json.loads(text)
    except ValueError as e:
        raise IndexCorrupt(f"{path} is not valid JSON ({e})", index_dir, rebuild_hint(index_dir)) from None
    if not isinstance(manifest, dict) or "format_version" not in manifest:
        raise IndexCorrupt(f"{path} is not a quarry manifest (no format_version)", index_dir,
                           rebuild_hint(index_dir))
    version = manifest["format_version"]
    if type(version) is not int:
        raise IndexCorrupt(f"{path}: field 'format_version' is wrong: {version!r} is a "
                           f"{type(version).__name__}, not a whole number", index_dir, rebuild_hint(index_dir))
    if version != FORMAT_VERSION:
        source = manifest.get("source_dir") if isinstance(manifest.get("source_dir"), str) else None
        raise IndexIncompatible(
            f"{index_dir} has index format {version}, this quarry reads format {FORMAT_VERSION}",
            index_dir, rebuild_hint(index_dir, source), format_version=version, source_dir=source)
    return validate_manifest(manifest, path, index_dir)


def unreadable(path: Path, e: OSError, index_dir: Path) -> IndexCorrupt:
    """The error for an index file the operating system will not let quarry read."""
    why = (e.strerror or e.__class__.__name__).lower()
    if isinstance(e, PermissionError):
        return IndexCorrupt(f"cannot read {path} ({why})", index_dir,
                            "Give the user running quarry read access to the index folder and its files "
                            f"(e.g. chmod -R u+rX {index_dir}), or rebuild it as that user")
    return IndexCorrupt(f"cannot read {path} ({why})", index_dir, rebuild_hint(index_dir))


def verify_files(index_dir: Path, manifest: dict[str, Any], checksums: bool = True) -> None:
    """Check that every data file is there with the size (and sha256) the manifest records.

    Every name the manifest lists must stay inside the index folder (no absolute path, no ``..``,
    no link out: :func:`indexer.indexdir.manifest.contained`). Digests come from
    :func:`indexer.hashcache.cached_sha256`: a file untouched since it was last verified (same
    inode, size, mtime and ctime) is not read again.
    """
    files = manifest.get("files") or {}
    for name in (*DATA_FILES, *(n for n in files if n not in DATA_FILES)):
        want = files.get(name)
        if want is None:
            raise IndexCorrupt(f"{Path(index_dir) / name} is missing (the manifest does not list it)",
                               index_dir, rebuild_hint(index_dir))
        path = contained(Path(index_dir), name, files, Path(index_dir), "the manifest's file list")
        try:
            if not path.is_file():
                raise IndexCorrupt(f"{path} is missing", index_dir, rebuild_hint(index_dir))
            size = path.stat().st_size
            if size != want["size"]:
                raise IndexCorrupt(f"{path} is {size} bytes, the manifest says {want['size']} (truncated?)",
                                   index_dir, rebuild_hint(index_dir))
            if checksums and cached_sha256(path) != want["sha256"]:
                raise IndexCorrupt(f"{path} does not match its checksum (modified or damaged)",
                                   index_dir, rebuild_hint(index_dir))
            if not checksums:
                with open(path, "rb"):  # readable (a checksum, when verified, has read it)
                    pass
        except OSError as e:
            raise unreadable(path, e, index_dir) from None


class IndexStore:
    """Read-only access to an index dir's chunk store and vectors (FAISS is opened by the retriever).

    It holds a read lease on the folder it opened (:class:`~indexer.indexdir.fsutil.ReadLease`) until
    :meth:`close`: an update that replaces the index meanwhile leaves this folder on disk, and every
    file read later (a new thread's SQLite connection, ``file(name)``) still comes from it.
    """

    def __init__(self, index_dir: str | os.PathLike, verify: bool = True):
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        for _ in range(OPEN_ATTEMPTS):
            self.path = live_dir(Path(index_dir))
            self._lease = ReadLease.take(self.path)
            try:
                self._open(verify)
            except BaseException:
                self.close()
                raise
            if self._lease is None or self._lease.still_at(self.path):
                return  # every file read above came from the leased folder
            self.close()  # an update replaced the folder while we read it: open the new one
            self._local = threading.local()
        raise IndexCorrupt(f"{index_dir} was replaced {OPEN_ATTEMPTS} times while it was being opened",
                           index_dir, "Try again once the indexer has finished")

    def _open(self, verify: bool) -> None:
        self._closed = False
        self.manifest = read_manifest(self.path)
        verify_files(self.path, self.manifest, checksums=verify)
        try:
            self.sentence_vectors = np.load(self.path / SENTENCE_VECTORS, mmap_mode="r", allow_pickle=False)
            self.db.execute("SELECT count(*) FROM chunks").fetchone()
        except PermissionError as e:
            raise unreadable(Path(e.filename or self.path), e, self.path) from None
        except (OSError, ValueError, sqlite3.DatabaseError) as e:
            raise IndexCorrupt(f"{self.path} cannot be read ({e})", self.path, rebuild_hint(self.path)) from None

    def file(self, name: str) -> Path:
        """Where to read file ``name`` of the opened index (through the lease: never a newer index's)."""
        return (self._lease.root if self._lease is not None else self.path) / name

    @property
    def db(self) -> sqlite3.Connection:
        """A read-only connection for the calling thread."""
        if self._closed:
            raise IndexClosed(f"the index at {self.path} has been closed", self.path)
        conn = getattr(self._local, "db", None)
        if conn is None:
            conn = self._connect()
            # term -> number of chunks holding it, for IDF weights (lives in memory, not the file)
            conn.execute("CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, chunks_fts, row)")
            with self._conns_lock:
                self._conns.append(conn)
            self._local.db = conn
        return conn

    def _connect(self) -> sqlite3.Connection:
        """Open the leased folder's database. SQLite resolves ``/proc/self/fd/N`` to the folder's path
        of the moment, so an update moving the folder just then is caught by comparing the file
        SQLite opened with the leased one; a moved folder never comes back, so opening again settles it."""
        uri = Path(os.path.abspath(self.file(DB))).as_uri() + "?mode=ro&immutable=1"
        for _ in range(OPEN_ATTEMPTS):
            conn = None
            try:
                conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
                conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()  # opens the file
                opened = conn.execute("PRAGMA database_list").fetchone()[2]
            except sqlite3.Error as e:
                if conn is not None:
                    conn.close()
                if self._lease is None:
                    raise IndexCorrupt(f"{self.path / DB} cannot be opened ({e})", self.path,
                                       rebuild_hint(self.path)) from None
                continue
            if self._lease is None or self._lease.same_file(opened, DB):
                return conn
            conn.close()
        raise IndexCorrupt(f"{self.path / DB} cannot be opened (the index folder was deleted while in use)",
                           self.path, rebuild_hint(self.path))

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
            "c.first_sentence, c.last_sentence, c.text, c.page, c.section FROM chunks c "
            f"JOIN documents d ON d.id = c.doc_id WHERE c.id IN ({marks})", [int(i) for i in ids]).fetchall()
        return {r[0]: Chunk(r[8], r[1], r[2], r[3], r[4], r[5], page=r[9], section=r[10], id=r[0],
                            first_sentence=r[6], last_sentence=r[7]) for r in rows}

    def sentences_of(self, chunk: Chunk) -> list[Sentence]:
        """The sentences inside a chunk, their text sliced from the chunk's text."""
        rows = self.db.execute(
            "SELECT id, start_char, end_char, start_line, end_line, page, section FROM sentences "
            "WHERE id BETWEEN ? AND ? ORDER BY id", (chunk.first_sentence, chunk.last_sentence)).fetchall()
        base = chunk.start_char
        return [Sentence(chunk.text[s - base:e - base], chunk.source, s, e, sl, el, page=pg, section=sec, id=i)
                for i, s, e, sl, el, pg, sec in rows]

    def documents(self) -> list[dict[str, Any]]:
        """Indexed documents sorted by source: source, size, sha256 and chunk count, from the manifest."""
        return sorted(({"source": d["source"], "size": d["size"], "sha256": d["sha256"], "chunks": d["n_chunks"]}
                       for d in self.manifest["documents"]), key=lambda d: d["source"])

    @property
    def chunk_vectors(self) -> np.ndarray:
        """The chunk vectors, memory-mapped (row = chunk id)."""
        vecs = getattr(self, "_chunk_vectors", None)
        if vecs is None:
            vecs = self._chunk_vectors = np.load(self.file(CHUNK_VECTORS), mmap_mode="r", allow_pickle=False)
        return vecs

    def title(self, source: str) -> str | None:
        """The document's title (:func:`document_title` of its first characters; kept once read), or
        None when it is not indexed or has no text."""
        titles = self.__dict__.setdefault("_titles", {})
        if source not in titles:
            head = self.document_slice(source, 0, TITLE_READ)
            titles[source] = None if head is None else document_title(head)
        return titles[source]

    def document_text(self, source: str) -> str | None:
        """The exact text that offsets into ``source`` index (None when it is not indexed).

        For .txt and .md files this is the file as decoded; for PDF, DOCX and HTML it is the
        extracted text (PDF pages separated by a line holding a form feed). So for every span,
        ``document_text(span.source)[span.start_char:span.end_char] == span.text``.
        """
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
        sentences = [Sentence(text[s:e], source, s, e, sl, el, page=pg, section=sec, id=i - s0)
                     for i, s, e, sl, el, pg, sec in self.db.execute(
                         "SELECT id, start_char, end_char, start_line, end_line, page, section FROM sentences "
                         "WHERE doc_id = ? ORDER BY id", (doc_id,))]
        chunks = [Chunk(t, source, s, e, sl, el, page=pg, section=sec, id=i - c0,
                        first_sentence=fs - s0, last_sentence=ls - s0)
                  for i, s, e, sl, el, fs, ls, t, pg, sec in self.db.execute(
                      "SELECT id, start_char, end_char, start_line, end_line, first_sentence, last_sentence, text, "
                      "page, section FROM chunks WHERE doc_id = ? ORDER BY id", (doc_id,))]
        return DocumentRecord(source, sha, size, text, sentences, chunks,
                              np.array(self.chunk_vectors[c0:c0 + nc]), np.array(self.sentence_vectors[s0:s0 + ns]))

    def close(self) -> None:
        """Close every thread's connection and release the lease (then the indexer may delete the folder)."""
        self._closed = True
        with self._conns_lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            conn.close()
        self._local.db = None
        lease, self._lease = getattr(self, "_lease", None), None
        if lease is not None:
            lease.release()
