"""Building and incrementally updating an index: scan, diff against the manifest, embed, swap."""

from __future__ import annotations

import datetime as _dt
import hashlib
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from indexer.chunker import ChunkerSettings, chunk_regions
from indexer.encoder import Encoder, SentenceTransformerEncoder
from indexer.errors import IndexDirError, SourceError
from indexer.fsutil import recover_dir, sweep, writer_lock
from indexer.onnx_export import attach_query_encoder, export_is_current
from indexer.sources import Document, Skipped, SourceFile, find_files, read_document, skip_reason
from indexer.store import DocumentRecord, IndexStore, IndexWriter
from indexer.vectors import build_faiss

log = logging.getLogger(__name__)

EMBED_FLUSH_TEXTS = 1024  # embed pending documents once this many texts wait


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

    def summary(self) -> str:
        head = "index updated" if self.written else "index already up to date"
        parts = [f"{len(self.added)} added", f"{len(self.changed)} changed",
                 f"{len(self.removed)} removed", f"{len(self.unchanged)} unchanged"]
        if self.skipped:
            parts.append(f"{len(self.skipped)} skipped")
        line = (f"{head}: {self.index_dir}: " + ", ".join(parts) +
                f"; {self.documents} documents, {self.chunks} chunks, {self.sentences} sentences"
                f" ({self.embedded} texts embedded in {self.seconds:.1f} s)")
        if self.full_rebuild_reason:
            line += f"\nfull rebuild: {self.full_rebuild_reason}"
        return line


def _hash_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


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
    onnx: bool = True,
) -> BuildReport:
    """Build ``index_dir`` from the documents in ``source_dir``, or update it incrementally.

    Unchanged files (same sha256) keep their chunks and vectors; changed files are re-chunked
    and re-embedded; files no longer present are dropped. The new index replaces the old one
    atomically; if nothing changed, nothing is written. ``progress=None`` shows a bar on a TTY.
    ``onnx``: also store an ONNX export of the encoder for torch-free queries (indexer.onnx_export).
    """
    t0 = time.perf_counter()
    source_dir, index_dir = Path(source_dir), Path(index_dir)
    encoder = encoder or SentenceTransformerEncoder()
    settings = settings or ChunkerSettings()
    report = BuildReport(index_dir)
    with writer_lock(index_dir):
        recover_dir(index_dir)
        sweep(index_dir)  # killed runs' temporary folders, replaced indexes no reader uses any more
        files, report.skipped = find_files(source_dir)
        old, report.full_rebuild_reason = _open_previous(index_dir, encoder, settings, rebuild)
        old_docs = {d["source"]: d for d in old.manifest["documents"]} if old else {}

        plan: list[tuple[SourceFile, str]] = []
        for f in files:
            try:
                plan.append((f, _hash_file(f.path)))
            except OSError as e:
                _unreadable(f, e, old_docs, plan, report)
        current = {f.source for f, _ in plan}
        report.removed = sorted(s for s in old_docs if s not in current)
        todo_bytes = 0
        for f, sha in plan:
            prev = old_docs.get(f.source)
            if prev is None:
                report.added.append(f.source)
            elif prev["sha256"] != sha:
                report.changed.append(f.source)
            else:
                report.unchanged.append(f.source)
                continue
            todo_bytes += _size(f.path)
        export_ok = not onnx or old is None or export_is_current(old.manifest, encoder)
        if old is not None and not (report.added or report.changed or report.removed) and export_ok:
            report.documents = len(old_docs)
            report.chunks, report.sentences = old.manifest["counts"]["chunks"], old.manifest["counts"]["sentences"]
            report.seconds = time.perf_counter() - t0
            return report
        if not plan and not old_docs:
            raise SourceError(f"nothing to index in {source_dir}: no readable documents"
                              + (f" ({len(report.skipped)} skipped)" if report.skipped else ""))

        writer = IndexWriter(index_dir, encoder.dim)
        try:
            _write_all(plan, old, old_docs, encoder, settings, writer, report, todo_bytes, progress, batch_size)
            manifest = {
                "model": {"name": encoder.name, "fingerprint": encoder.fingerprint, "dim": encoder.dim},
                "chunker": settings.to_dict(),
                "source_dir": str(source_dir.resolve()),
                "updated_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            }
            previous = index_dir if index_dir.exists() and not rebuild else None
            if onnx and (entry := attach_query_encoder(encoder, writer.tmp, previous)) is not None:
                manifest["query_encoder"] = entry  # the torch-free query encoder, beside its vectors
            if old is not None:
                old.close()
            writer.commit(manifest, build_faiss)
        except BaseException:
            writer.abort()
            raise
        report.written = True
        report.documents, report.chunks, report.sentences = writer.n_docs, writer.n_chunks, writer.n_sentences
    report.seconds = time.perf_counter() - t0
    return report


def _write_all(plan, old, old_docs, encoder, settings, writer, report, todo_bytes, progress, batch_size) -> None:
    from tqdm.auto import tqdm

    bar = tqdm(total=todo_bytes, unit="B", unit_scale=True, desc="indexing",
               disable=(None if progress is None else not progress), leave=False)
    pending: list[tuple[Document, list, list]] = []
    n_pending = 0

    def flush() -> None:
        nonlocal pending, n_pending
        if not pending:
            return
        texts: dict[str, int] = {}
        for _, sentences, chunks in pending:
            for item in (*chunks, *sentences):
                texts.setdefault(item.text, len(texts))
        vecs = encoder.encode(list(texts), batch_size=batch_size)
        report.embedded += len(texts)
        for doc, sentences, chunks in pending:
            writer.add(DocumentRecord(
                doc.source, doc.sha256, doc.size, doc.text, sentences, chunks,
                vecs[[texts[c.text] for c in chunks]].reshape(-1, encoder.dim),
                vecs[[texts[s.text] for s in sentences]].reshape(-1, encoder.dim),
            ))
            bar.update(doc.size)
        pending, n_pending = [], 0

    try:
        for f, sha in plan:
            prev = old_docs.get(f.source)
            if prev is not None and prev["sha256"] == sha:
                rec = old.load_document(f.source)
                if rec is not None and rec.sha256 == sha:
                    writer.add(rec)
                    continue
            try:
                doc = read_document(f)
            except (OSError, SourceError) as e:
                reason = skip_reason(e)
                _forget(report, f.source)
                rec = old.load_document(f.source) if prev is not None else None
                if rec is not None:
                    writer.add(rec)  # nothing indexed is lost: keep the previous version
                    report.unchanged.append(f.source)
                    reason += " (previous version kept)"
                report.skipped.append(Skipped(f.source, reason))
                continue
            if doc.note:
                report.notes.append(Skipped(doc.source, doc.note))
            sentences, chunks = chunk_regions(doc.text, doc.source, doc.regions, settings)
            if not chunks:
                empty = np.zeros((0, encoder.dim), np.float32)
                writer.add(DocumentRecord(doc.source, doc.sha256, doc.size, doc.text, [], [], empty, empty))
                bar.update(doc.size)
                continue
            pending.append((doc, sentences, chunks))
            n_pending += len(sentences) + len(chunks)
            if n_pending >= EMBED_FLUSH_TEXTS:
                flush()
        flush()
    finally:
        bar.close()


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:  # vanished or unreadable since the scan: reported when it is read
        return 0


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


def _forget(report: BuildReport, source: str) -> None:
    for lst in (report.added, report.changed):
        if source in lst:
            lst.remove(source)
