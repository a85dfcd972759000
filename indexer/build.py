"""Building and incrementally updating an index: scan, diff against the manifest, stream, embed, swap.

Memory stays bounded whatever the corpus or file size: documents are read in blocks
(:class:`indexer.stream.TextStream`), chunked as they stream (:func:`indexer.chunker.chunk_stream`),
embedded in flushes of about ``flush_texts`` texts and written to the new index dir as they go;
unchanged documents are copied from the previous index without being read or embedded again.
"""

from __future__ import annotations

import datetime as _dt
import functools
import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from indexer.chunker import ChunkBatch, ChunkerSettings, chunk_regions, chunk_stream
from indexer.encoder import Encoder, SentenceTransformerEncoder
from indexer.errors import FileSkipped, IndexDirError, SourceError
from indexer.fsutil import recover_dir, sweep, writer_lock
from indexer.onnx_export import attach_query_encoder, export_is_current
from indexer.progress import Progress, ProgressInfo
from indexer.schema import Chunk, Sentence
from indexer.sources import Skipped, SourceFile, find_files, read_document, skip_reason
from indexer.store import FAISS, IndexStore
from indexer.stream import TextStream, scan_file
from indexer.vectors import MAX_DEAD_SHARE, PreviousFaiss, VectorSettings, build_faiss
from indexer.writer import IndexWriter

log = logging.getLogger(__name__)

EMBED_FLUSH_TEXTS = 1024  # embed pending texts once this many wait


@dataclass
class BuildReport:
    """What an indexer run did."""

    index_dir: Path
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[Skipped] = field(default_factory=list)  # indexed, with something to say (e.g. encoding)
    documents: int = 0
    chunks: int = 0
    sentences: int = 0
    embedded: int = 0
    seconds: float = 0.0
    full_rebuild_reason: str | None = None
    written: bool = False
    index_type: str | None = None  # flat | hnsw | ivf
    note: str | None = None

    def summary(self) -> str:
        head = "index updated" if self.written else "index already up to date"
        parts = [f"{len(self.added)} added", f"{len(self.changed)} changed",
                 f"{len(self.removed)} removed", f"{len(self.unchanged)} unchanged"]
        if self.skipped:
            parts.append(f"{len(self.skipped)} skipped")
        line = (f"{head}: {self.index_dir}: " + ", ".join(parts) +
                f"; {self.documents} documents, {self.chunks} chunks, {self.sentences} sentences"
                f" ({self.embedded} texts embedded in {self.seconds:.1f} s)")
        if self.index_type:
            exact = self.index_type == "flat"
            line += "; exact vector index" if exact else f"; approximate vector index ({self.index_type})"
        if self.full_rebuild_reason:
            line += f"\nfull rebuild: {self.full_rebuild_reason}"
        if self.note:
            line += f"\n{self.note}"
        return line


def _open_previous(index_dir: Path, encoder: Encoder, settings: ChunkerSettings,
                   rebuild: bool) -> tuple[IndexStore | None, str | None]:
    """The existing index if it can be reused, else None and the reason for a full rebuild."""
    if rebuild:
        return None, "asked for (--rebuild)" if index_dir.exists() else None
    if not index_dir.exists():
        return None, None
    try:
        old = IndexStore(index_dir, verify=True)
    except IndexDirError as e:
        return None, f"the existing index cannot be reused: {e}"
    m = old.manifest
    if m.get("model", {}).get("fingerprint") != encoder.fingerprint:
        return None, f"the embedding model changed (was {m.get('model', {}).get('name')})"
    if m.get("chunker") != settings.to_dict():
        return None, f"chunker settings changed (were {m.get('chunker')})"
    return old, None


def build_index(
    source_dir: str | os.PathLike,
    index_dir: str | os.PathLike,
    encoder: Encoder | None = None,
    settings: ChunkerSettings | None = None,
    rebuild: bool = False,
    progress: bool | None = None,
    batch_size: int = 64,
    vectors: VectorSettings | None = None,
    on_progress: Callable[[ProgressInfo], None] | None = None,
    flush_texts: int = EMBED_FLUSH_TEXTS,
    onnx: bool = True,
    follow_links: bool = False,
) -> BuildReport:
    """Build ``index_dir`` from the documents in ``source_dir``, or update it incrementally.

    Unchanged files (same sha256) keep their chunks and vectors; changed files are re-chunked
    and re-embedded; files no longer present are dropped. The new index replaces the old one
    atomically; if nothing changed, nothing is written. ``progress=None`` shows a bar (bytes, rate,
    ETA) on a TTY; ``on_progress`` is called with a :class:`ProgressInfo` after every stretch.
    ``vectors`` chooses the FAISS index (exact up to a size threshold, then HNSW or IVF).
    ``onnx``: also store an ONNX export of the encoder for torch-free queries (indexer.onnx_export).
    ``follow_links``: also index file symlinks that lead out of ``source_dir`` (skipped by default).
    """
    t0 = time.perf_counter()
    source_dir, index_dir = Path(source_dir), Path(index_dir)
    encoder = encoder or SentenceTransformerEncoder()
    settings = settings or ChunkerSettings()
    vectors = vectors or VectorSettings()
    report = BuildReport(index_dir)
    # lock, update and swap the folder itself: through a symlinked path too, one writer at a time, and
    # the link stays a link (to the new index)
    index_dir = Path(os.path.realpath(index_dir))
    with writer_lock(index_dir):
        recover_dir(index_dir)
        sweep(index_dir)  # killed runs' temporary folders, replaced indexes no reader uses any more
        files, report.skipped = find_files(source_dir, follow_links=follow_links)
        old, report.full_rebuild_reason = _open_previous(index_dir, encoder, settings, rebuild)
        old_docs = {d["source"]: d for d in old.manifest["documents"]} if old else {}

        plan: list[tuple[SourceFile, str]] = []
        # plain UTF-8 text files, read in bounded memory (sentence chunks only: "fixed" windows are a baseline)
        streamable: set[str] = set()
        for f in files:
            try:
                sha, plain = scan_file(f.path)
            except OSError as e:
                _unreadable(f, e, old_docs, plan, report)
                continue
            plan.append((f, sha))
            if plain and f.path.suffix.lower() in STREAMED and settings.strategy == "sentences":
                streamable.add(f.source)
        current = {f.source for f, _ in plan}
        report.removed = sorted(s for s in old_docs if s not in current)
        keep: list[SourceFile] = []
        todo: list[SourceFile] = []
        for f, sha in plan:
            prev = old_docs.get(f.source)
            if prev is not None and prev["sha256"] == sha:
                keep.append(f)
                continue
            (report.added if prev is None else report.changed).append(f.source)
            todo.append(f)
        same_vectors = old is not None and old.manifest.get("faiss", {}).get("settings") == vectors.to_dict()
        export_ok = not onnx or old is None or export_is_current(old.manifest, encoder)
        if old is not None and not (todo or report.removed) and same_vectors and export_ok:
            report.unchanged = [f.source for f in keep]
            report.documents = len(old_docs)
            report.chunks, report.sentences = old.manifest["counts"]["chunks"], old.manifest["counts"]["sentences"]
            report.index_type = old.manifest.get("faiss", {}).get("type")
            report.seconds = time.perf_counter() - t0
            return report
        if not plan and not old_docs:
            raise SourceError(f"nothing to index in {source_dir}: no readable documents"
                              + (f" ({len(report.skipped)} skipped)" if report.skipped else ""))
        if old is not None and not (todo or report.removed) and not same_vectors:
            report.note = "vector index settings changed: the FAISS index was rebuilt (nothing re-embedded)"

        writer = IndexWriter(index_dir, encoder.dim)
        try:
            for f in keep:  # unchanged: copied from the previous index, nothing read or embedded
                if writer.copy(old, f.source):
                    report.unchanged.append(f.source)
                else:
                    report.changed.append(f.source)
                    todo.append(f)
            _write_new(todo, streamable, old, old_docs, encoder, settings, writer, report,
                       Progress(_sizes(todo), progress, on_progress), batch_size, flush_texts)
            manifest = {
                "model": {"name": encoder.name, "fingerprint": encoder.fingerprint, "dim": encoder.dim},
                "chunker": settings.to_dict(),
                "source_dir": str(source_dir.resolve()),
                "updated_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            }
            previous = index_dir if index_dir.exists() and not rebuild else None
            if onnx and (entry := attach_query_encoder(encoder, writer.tmp, previous)) is not None:
                manifest["query_encoder"] = entry  # the torch-free query encoder, beside its vectors
            old_faiss = None
            if old is not None and same_vectors and old.manifest.get("faiss", {}).get("type") in ("hnsw", "ivf"):
                # it is updated: the kept documents' chunks are in it (they moved to writer.moved)
                old_faiss = PreviousFaiss(index_dir / FAISS, old.manifest["faiss"], old.manifest["counts"]["chunks"],
                                          writer.moved, files=old.manifest["files"])
            if old is not None:
                old.close()
            manifest = writer.commit(manifest, functools.partial(build_faiss, settings=vectors, previous=old_faiss))
        except BaseException:
            writer.abort()
            raise
        report.written = True
        report.index_type = manifest["faiss"]["type"]
        if manifest["faiss"].get("updated_in_place"):
            removed = manifest["faiss"]["removed"]
            report.note = f"vector index ({report.index_type}) updated in place" + (
                f" ({removed} vectors of removed or changed chunks stay in it, skipped by searches; it is rebuilt "
                f"once they would pass {MAX_DEAD_SHARE:.0%} of it)" if removed else "")
        report.documents, report.chunks, report.sentences = writer.n_docs, writer.n_chunks, writer.n_sentences
    report.seconds = time.perf_counter() - t0
    return report


def _sizes(files: list[SourceFile]) -> int:
    total = 0
    for f in files:
        try:
            total += f.path.stat().st_size
        except OSError:
            pass
    return total


class _Embedder:
    """Texts waiting for vectors: embedded a batch at a time and appended to the writer in id order."""

    def __init__(self, encoder: Encoder, writer: IndexWriter, batch_size: int, flush_texts: int,
                 report: BuildReport):
        self.encoder, self.writer, self.report = encoder, writer, report
        self.batch_size, self.flush_texts = batch_size, flush_texts
        self.chunks: list[str] = []
        self.sentences: list[str] = []
        self._mark = (0, 0)  # where the document being written starts in the queues

    def put(self, chunks: Sequence[Chunk], sentences: Sequence[Sentence]) -> None:
        self.chunks.extend(c.text for c in chunks)
        self.sentences.extend(s.text for s in sentences)
        if len(self.chunks) + len(self.sentences) >= self.flush_texts:
            self.flush()

    def mark(self) -> None:
        """A new document starts here."""
        self._mark = (len(self.chunks), len(self.sentences))

    def drop_document(self) -> None:
        """Forget the queued texts of the document being written."""
        del self.chunks[self._mark[0]:], self.sentences[self._mark[1]:]

    def flush(self) -> None:
        if not self.chunks and not self.sentences:
            return
        unique: dict[str, int] = {}
        for text in (*self.chunks, *self.sentences):
            unique.setdefault(text, len(unique))
        vecs = self.encoder.encode(list(unique), batch_size=self.batch_size)
        self.report.embedded += len(unique)
        dim = self.encoder.dim
        self.writer.add_vectors(vecs[[unique[t] for t in self.chunks]].reshape(-1, dim),
                                vecs[[unique[t] for t in self.sentences]].reshape(-1, dim))
        self.chunks, self.sentences, self._mark = [], [], (0, 0)


STREAMED = (".txt", ".text")  # formats read as a stream when the file is plain UTF-8 text


class _WholeDocument:
    """A document extracted whole (other formats, other encodings), shaped like a TextStream."""

    def __init__(self, f: SourceFile):
        self.doc = read_document(f)
        self.sha256, self.size = self.doc.sha256, self.doc.size
        self.consumed = self.size


def _open_document(f: SourceFile, settings: ChunkerSettings, stream: bool):
    """A document's reader (``consumed``, then ``sha256`` and ``size``) and its spans, a stretch at a time.

    Plain UTF-8 text streams, whatever its size; other formats and encodings are read and
    extracted whole (:func:`indexer.sources.read_document`) and give one batch, cut into regions.
    """
    if not stream:
        whole = _WholeDocument(f)
        doc = whole.doc
        return whole, iter([ChunkBatch(0, doc.text, *chunk_regions(doc.text, doc.source, doc.regions, settings))])
    reader = TextStream(f)
    return reader, _nonblank(reader, chunk_stream(reader, f.source, settings), f.source)


def _nonblank(reader: TextStream, batches: Iterator[ChunkBatch], source: str) -> Iterator[ChunkBatch]:
    """The batches, then a FileSkipped if the text was empty or blank (as the format readers say)."""
    spans = 0
    for batch in batches:
        spans += len(batch.sentences)
        yield batch
    if reader.size == 0:
        raise FileSkipped(source, "empty file")
    if spans == 0:
        raise FileSkipped(source, "no text (only white space)")


def _write_new(todo, streamable, old, old_docs, encoder, settings, writer, report, progress, batch_size,
               flush_texts) -> None:
    """Read, chunk, embed and write the added and changed documents, one stretch at a time."""
    embedder = _Embedder(encoder, writer, batch_size, flush_texts, report)
    try:
        for f in todo:
            writer.begin(f.source)
            embedder.mark()
            counted = 0
            try:
                stream, batches = _open_document(f, settings, f.source in streamable)
                note = getattr(getattr(stream, "doc", None), "note", None)
                if note:
                    report.notes.append(Skipped(f.source, note))
                for batch in batches:
                    writer.add_text(batch.start_char, batch.text)
                    writer.add_spans(batch.sentences, batch.chunks)
                    embedder.put(batch.chunks, batch.sentences)
                    progress.update(stream.consumed - counted, chunks=len(batch.chunks))
                    counted = stream.consumed
            except (OSError, SourceError) as e:
                embedder.drop_document()
                writer.discard()
                progress.update(max(_sizes([f]) - counted, 0))
                _keep_previous(f, e, old, old_docs, embedder, writer, report)
                continue
            writer.end(stream.sha256, stream.size)
        embedder.flush()
    finally:
        progress.close()


def _keep_previous(f: SourceFile, error: Exception, old, old_docs, embedder: _Embedder,
                   writer: IndexWriter, report: BuildReport) -> None:
    """A file that cannot be read now is skipped; if it was indexed before, that version is kept."""
    reason = skip_reason(error)
    for lst in (report.added, report.changed):
        if f.source in lst:
            lst.remove(f.source)
    if f.source in old_docs:
        embedder.flush()  # copies go after every vector written so far
        if writer.copy(old, f.source):
            report.unchanged.append(f.source)
            reason += " (previous version kept)"
    report.skipped.append(Skipped(f.source, reason))


def _unreadable(f: SourceFile, e: OSError, old_docs: dict, plan: list, report: BuildReport) -> None:
    """A file found by the scan cannot be opened now: skip it, keeping its indexed version if any.

    Unreadable (permissions, I/O error) or vanished since the scan, it keeps what the index holds
    for it (nothing indexed is lost mid-run); a file gone before the run is dropped by the next.
    """
    prev = old_docs.get(f.source)
    reason = skip_reason(e)
    if prev is not None:
        plan.append((f, prev["sha256"]))  # same sha256: its stored chunks and vectors are reused
        reason += " (previous version kept)"
    report.skipped.append(Skipped(f.source, reason))
