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
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from indexer.chunker import ChunkBatch, ChunkerSettings, chunk_regions, chunk_stream
from indexer.encoder import Encoder, SentenceTransformerEncoder
from indexer.errors import FileSkipped, IndexDirError, SourceError
from indexer.formats import READERS, text_extension
from indexer.formats.plain import stream_regions
from indexer.formats.registry import reader as format_reader
from indexer.indexdir import FAISS, IndexStore
from indexer.indexdir.fsutil import human_bytes, recover_dir, sweep, writer_lock
from indexer.indexdir.vectors import MAX_DEAD_SHARE, PreviousFaiss, VectorSettings, build_faiss
from indexer.indexdir.writer import IndexWriter
from indexer.onnx_export import attach_query_encoder, can_export, export_is_current, index_time_encoder
from indexer.progress import Phases, Progress, ProgressInfo
from indexer.schema import Chunk, Sentence
from indexer.sources import Skipped, SourceFile, find_files, read_document, skip_reason
from indexer.stream import TextStream, scan_file

log = logging.getLogger(__name__)

EMBED_FLUSH_TEXTS = 1024  # embed pending texts once this many wait
LIST_LIMIT = 20  # files named per kind (added, changed, removed) in the summary; past it, a count
# How text files that are not UTF-8 are decoded; a change re-reads them (manifest "decoding").
GUESSER = 2  # 2: cp1252 preferred over a near-equal guess for Western-European text
TEXT_SUFFIXES = (".txt", ".text", ".info", ".md", ".markdown", ".rst", ".html", ".htm")


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
    embedder: str | None = None  # what embedded the new texts: onnx | torch (| another encoder's name)
    note: str | None = None
    # every indexed document decoded by a guessed encoding: source -> manifest record (codec, confidence)
    guessed: dict[str, dict] = field(default_factory=dict)

    def summary(self) -> str:
        head = "index updated" if self.written else "index already up to date"
        parts = [f"{len(self.added)} added", f"{len(self.changed)} changed",
                 f"{len(self.removed)} removed", f"{len(self.unchanged)} unchanged"]
        if self.skipped:
            parts.append(f"{len(self.skipped)} skipped")
        line = (f"{head}: {self.index_dir}: " + ", ".join(parts) +
                f"; {self.documents} documents, {self.chunks} chunks, {self.sentences} sentences"
                f" ({self.embedded} texts embedded{' by ' + self.embedder if self.embedded and self.embedder else ''}"
                f" in {self.seconds:.1f} s)")
        if self.index_type:
            exact = self.index_type == "flat"
            line += "; exact vector index" if exact else f"; approximate vector index ({self.index_type})"
        if self.full_rebuild_reason:
            line += f"\nfull rebuild: {self.full_rebuild_reason}"
        if self.note:
            line += f"\n{self.note}"
        for kind, names in (("added", self.added), ("changed", self.changed), ("removed", self.removed)):
            line += "".join(f"\n  {kind} {name}" for name in names[:LIST_LIMIT])
            if len(names) > LIST_LIMIT:
                line += f"\n  ... and {len(names) - LIST_LIMIT} more {kind}"
        return line


def _previous_text_extensions(index_dir: Path) -> list[str]:
    """The extensions the index at ``index_dir`` reads as plain text (``--text-ext``; none without an index)."""
    from indexer.indexdir import live_dir, read_manifest

    try:
        got = read_manifest(live_dir(index_dir)).get("text_extensions")
    except (IndexDirError, OSError, ValueError, AttributeError):
        return []
    # an extension quarry has come to read itself since (".org") is read by its reader now
    return sorted(e for e in got if e not in READERS) if isinstance(got, list) else []


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
    if m.get("embedding") != EMBEDDING:
        return None, (f"chunk vectors are made another way now ({EMBEDDING['chunk_vectors']}, were "
                      f"{(m.get('embedding') or {}).get('chunk_vectors', 'embedded separately')})")
    if m.get("segmentation") != SEGMENTATION:
        was = (m.get("segmentation") or {}).get("sentences", 1)
        return None, (f"sentences are split another way now (version {SEGMENTATION['sentences']}, the index's "
                      f"version {was}): every file is read again")
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
    embedder: str = "onnx",
    threads: int | None = None,
    encoding: str | None = None,
    phases: Phases | None = None,
    text_extensions: Sequence[str] | None = None,
) -> BuildReport:
    """Build ``index_dir`` from the documents in ``source_dir``, or update it incrementally.

    Unchanged files (same sha256) keep their chunks and vectors; changed files are re-chunked
    and re-embedded; files no longer present are dropped. The new index replaces the old one
    atomically; if nothing changed, nothing is written. ``progress=None`` shows a bar (bytes, rate,
    ETA) on a TTY; ``on_progress`` is called with a :class:`ProgressInfo` after every stretch.
    ``vectors`` chooses the FAISS index (exact up to a size threshold, then HNSW or IVF).
    ``onnx``: also store an ONNX export of the encoder for torch-free queries (indexer.onnx_export).
    ``follow_links``: also index file symlinks that lead out of ``source_dir`` (skipped by default).
    ``embedder="onnx"``: with ``onnx``, embed with the cached ONNX export of ``encoder``
    (:func:`indexer.onnx_export.index_time_encoder`: same vectors to cosine >= 0.999, about half the
    CPU time, no torch import once cached), else with ``encoder`` itself (``"torch"``, or if the
    export cannot be had). ``threads``: intra-op threads of the ONNX session (None: one per core).
    ``encoding``: the codec of text files that are not UTF-8 (default: guessed, and the guess and its
    confidence kept in the manifest). ``phases`` is told as each step starts (default: a line on
    stderr per step when ``progress`` is not False and stderr is a terminal). ``text_extensions``: more file
    extensions read as plain text (".tex", ".log"; :func:`indexer.formats.text_extension` checks each; ValueError
    for a bad one); None: those the index was last built with (kept in its manifest), an empty list: none.
    """
    if embedder not in ("onnx", "torch"):
        raise ValueError("embedder must be onnx or torch")
    t0 = time.perf_counter()
    if encoding is not None:
        from indexer.formats.plain import known_codec

        encoding = known_codec(encoding)  # ValueError for a name Python does not know
    if text_extensions is not None:
        text_extensions = sorted({text_extension(e) for e in text_extensions})  # ValueError for a bad one
    phases = phases or Phases(None if progress is None else progress)
    decoding = {"guesser": GUESSER, "encoding": encoding}
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
        phases(f"scanning {source_dir}")
        before = _previous_text_extensions(index_dir)
        as_text = before if text_extensions is None else text_extensions
        files, report.skipped = find_files(source_dir, follow_links=follow_links, as_text=as_text)
        old, report.full_rebuild_reason = _open_previous(index_dir, encoder, settings, rebuild)
        old_docs = {d["source"]: d for d in old.manifest["documents"]} if old else {}

        plan: list[tuple[SourceFile, str]] = []
        # plain UTF-8 text files, read in bounded memory (sentence chunks only: "fixed" windows are a baseline)
        streamable: set[str] = set()
        not_utf8: set[str] = set()  # text files read by a guessed or given encoding
        for f in files:
            try:
                sha, plain, text_bytes = scan_file(f.path)
                # a small file is read whole, a large one streamed (a gzip file's size: the text it holds)
                large = plain and text_bytes > STREAM_ABOVE
            except OSError as e:
                _unreadable(f, e, old_docs, plan, report)
                continue
            plan.append((f, sha))
            if not plain and f.format in TEXT_SUFFIXES:
                not_utf8.add(f.source)
            if large and f.format in STREAMED and settings.strategy == "sentences":
                streamable.add(f.source)
        current = {f.source for f, _ in plan}
        report.removed = sorted(s for s in old_docs if s not in current)
        keep: list[SourceFile] = []
        todo: list[SourceFile] = []
        old_decoding = old.manifest.get("decoding") if old is not None else None
        redecode = old is not None and old_decoding != decoding
        redecoded = 0
        for f, sha in plan:
            prev = old_docs.get(f.source)
            if prev is not None and prev["sha256"] == sha:
                if not (redecode and f.source in not_utf8):
                    keep.append(f)
                    continue
                redecoded += 1  # same bytes, another way to decode them: read again
            (report.added if prev is None else report.changed).append(f.source)
            todo.append(f)
        same_vectors = old is not None and old.manifest.get("faiss", {}).get("settings") == vectors.to_dict()
        export_ok = not onnx or old is None or export_is_current(old.manifest, encoder)
        if old is not None and not (todo or report.removed) and same_vectors and export_ok and as_text == before:
            report.unchanged = [f.source for f in keep]
            report.documents = len(old_docs)
            report.chunks, report.sentences = old.manifest["counts"]["chunks"], old.manifest["counts"]["sentences"]
            report.index_type = old.manifest.get("faiss", {}).get("type")
            report.guessed = _guessed(old.manifest["documents"])
            report.seconds = time.perf_counter() - t0
            return report
        if not plan and not old_docs:
            raise SourceError(f"nothing to index in {source_dir}: no readable documents"
                              + (f" ({len(report.skipped)} skipped)" if report.skipped else ""))
        if old is not None and not (todo or report.removed) and not same_vectors:
            report.note = "vector index settings changed: the FAISS index was rebuilt (nothing re-embedded)"
        if redecoded:
            report.note = (f"{redecoded} file(s) that are not UTF-8 read again: "
                           + ("--encoding changed" if (old_decoding or {}).get("encoding") != encoding
                              else "a newer encoding guesser"))

        embed: Encoder = encoder
        if todo and onnx and embedder == "onnx" and can_export(encoder):
            phases(f"loading the embedding model ({encoder.name}, its ONNX export)")
            embed = index_time_encoder(encoder, index_dir if old is not None else None, threads) or encoder
        report.embedder = "onnx" if embed is not encoder else "torch" if can_export(encoder) else encoder.name
        writer = IndexWriter(index_dir, encoder.dim)
        try:
            for f in keep:  # unchanged: copied from the previous index, nothing read or embedded
                assert old is not None  # only documents of the previous index are kept
                if writer.copy(old, f.source):
                    report.unchanged.append(f.source)
                else:
                    report.changed.append(f.source)
                    todo.append(f)
            decoded: dict[str, dict | None] = {}  # how each document read now was decoded
            if todo:
                phases(f"reading and embedding {len(todo)} file(s), {human_bytes(_sizes(todo))}"
                       + (f" ({len(keep)} unchanged, copied)" if keep else ""))
                _load_model(embed, phases)
            _write_new(todo, streamable, old, old_docs, embed, settings, writer, report,
                       Progress(_sizes(todo), progress, on_progress, phases=phases), batch_size, flush_texts,
                       encoding=encoding, decoded=decoded, phases=phases)
            for d in writer.documents:  # additive: a reader that does not know "encoding" ignores it
                rec = decoded[d["source"]] if d["source"] in decoded else old_docs.get(d["source"], {}).get("encoding")
                if rec:
                    d["encoding"] = rec
            report.guessed = _guessed(writer.documents)
            manifest: dict[str, Any] = {
                "model": {"name": encoder.name, "fingerprint": encoder.fingerprint, "dim": encoder.dim},
                "chunker": settings.to_dict(),
                "embedding": EMBEDDING,
                "segmentation": SEGMENTATION,
                "source_dir": str(source_dir.resolve()),
                "decoding": decoding,
                "text_extensions": as_text,
                "skipped": [{"source": sk.source, "reason": sk.reason} for sk in report.skipped],
                "updated_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            }
            previous = index_dir if index_dir.exists() and not rebuild else None
            if onnx and can_export(encoder):
                phases("exporting the query encoder to ONNX (or re-using the previous export)")
            if onnx and (entry := attach_query_encoder(encoder, writer.tmp, previous)) is not None:
                manifest["query_encoder"] = entry  # the torch-free query encoder, beside its vectors
            old_faiss = None
            if old is not None and same_vectors and old.manifest.get("faiss", {}).get("type") in ("hnsw", "ivf"):
                # it is updated: the kept documents' chunks are in it (they moved to writer.moved)
                old_faiss = PreviousFaiss(index_dir / FAISS, old.manifest["faiss"], old.manifest["counts"]["chunks"],
                                          writer.moved, files=old.manifest["files"])
            if old is not None:
                old.close()
            phases("writing the vector index and checksums")
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


def _guessed(documents: list[dict]) -> dict[str, dict]:
    """The documents of a manifest whose encoding was guessed, and their records."""
    return {d["source"]: d["encoding"] for d in documents
            if isinstance(d.get("encoding"), dict) and d["encoding"].get("how") == "guessed"}


def _load_model(encoder: Encoder, phases: Phases) -> None:
    """Load a lazily loaded model now, as its own phase (it can take many seconds)."""
    model = getattr(type(encoder), "model", None)
    if isinstance(model, property) and getattr(encoder, "_model", 0) is None:
        phases(f"loading the embedding model ({getattr(encoder, 'name', '?')})")
        model.__get__(encoder)  # the property loads it


def _sizes(files: list[SourceFile]) -> int:
    total = 0
    for f in files:
        try:
            total += f.path.stat().st_size
        except OSError:
            pass
    return total


EMBEDDING = {"chunk_vectors": "pooled_sentences", "version": 1}  # in the manifest: a change rebuilds
# how indexer.sentences splits a text, in the manifest: a change rebuilds, since an unchanged file kept from an
# index made before would keep its old sentences. Raise it with every change to the splitting. 2: a list item
# runs on into its hanging-indented lines (an index without the key is version 1); 3: a paragraph whose first
# line is indented more than the rest (GNU Info, plain-text licences) is one paragraph; 4: a bare reply ("Yes.",
# "No, sorry.") is one sentence with the one after it; 5: a line that stops mid-clause runs on into a next line
# that goes on with it, whatever its length (not inside a Markdown code fence), and the lines of extracted HTML
# and DOCX text (one block each) never run on (and the HTML reader leaves out navigation, heading permalinks and
# a page's own table of contents); 6: an item opening with "(2) ", "(b) " or "a) " runs on into its hanging lines;
# 7: a line that stops mid-clause also runs on into a next line that opens with a quotation going on with it;
# 8: a line longer than a wrapped one that stops on a lower-case word in quotes ('If you fix the "definitely lost"')
# stops mid-clause, and 7's quotation rule holds for such lines only (not a setting's 'set username "username"');
# 9: a PDF's running header and footer (a page number) are left out of its text (indexer.formats.pdf);
# 10: a paragraph's first line that stops short of its width before a capitalised word is a sentence of its own
# (a title: "5. Works that do not meet our free software standards" / "We acknowledge ...": stops_short); 11: an
# item numbered in levels ("5.3. How do I save ...") runs on into its hanging-indented lines, as "5. " does;
# 12: a plain-text file is cut into sections at its headings (indexer.formats.plain.headings); 13: a numbered
# heading may go on after its question ("25.30. Is it possible to un-source a script? In otherwords, ..."); 14: a
# lettered or roman-numbered item ("g. ", "ii. ") runs on into its hanging lines; 15: DocBook's headings ("1.1." and
# a no-break space) and an appendix's "A.1." are headings; 16: so is a title or a question at the margin over
# indented text; 17: a ligature of extracted text (a PDF's "ﬁ") is its letters; 18: a rule ("-----") runs on into
# no line; 19: a PDF's pages are read as one text, a sentence running on over a page break (indexer.chunker.flows);
# 20: a word a PDF hyphenated at a line break is made whole (indexer.formats.pdf.dehyphenated); 21: a PDF's
# paragraphs are apart (a blank line where a line sits further below the one before: with_paragraphs) and its
# headings cut it into sections (pdf_headings); a table of contents' line ("3 Shell Features . . . 5") is no heading;
# 22: a PDF's line spacing is measured in type sizes and is its least common one (pdf.line_spacing); 23: a Word file
# with no Heading style has the headings formatted by hand, in bold or a larger type (indexer.formats.docx); 24: such
# headings (and a PDF's) of one type nest by their numbers (plain.type_level); 25: a PDF's line spacing is measured
# below lines of running text, and TeX's OT1 ligature codes are letters; 26: a PDF's wrapped line may be 140
# characters (sentences.PDF_WIDEST_LINE); 27: an HTML definition's description (<dd>) is indented under its term,
# and a PDF line's type is read on its own page, a dehyphenated title's too (pdf.pdf_headings); a streamed text
# file has sections (plain.stream_regions)
SEGMENTATION = {"sentences": 27}


def pool_sentences(vectors: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """A chunk's vector from its sentences' unit vectors: their mean weighted by length, renormalised.

    Mean pooling over a chunk's tokens is, up to context, the token-weighted mean of its sentences'
    token means; sentence length in characters stands in for the token count. One sentence: its own
    vector, exactly.
    """
    v = (np.asarray(weights, dtype=np.float32)[:, None] * vectors).sum(axis=0)
    norm = float(np.linalg.norm(v))
    return (v / norm if norm > 0 else vectors[0]).astype(np.float32)


class _Embedder:
    """Texts waiting for vectors: embedded a batch at a time and appended to the writer in id order.

    Single pass: only sentences go through the model; a chunk of whole sentences gets the
    length-weighted mean of its sentences' vectors (:func:`pool_sentences`), so each token is
    embedded once. Chunks of the ``fixed`` baseline (windows that cut sentences) are embedded as
    themselves (``pool=False``). Sentence ids run on within a document and a chunk may name sentences of an earlier
    flush, so the vectors of the document's last few sentences are kept across flushes.
    """

    def __init__(self, encoder: Encoder, writer: IndexWriter, batch_size: int, flush_texts: int,
                 report: BuildReport, pool: bool = True):
        self.encoder, self.writer, self.report = encoder, writer, report
        self.batch_size, self.flush_texts, self.pool = batch_size, flush_texts, pool
        self.chunks: list[tuple[int, Chunk]] = []  # (document number, chunk)
        self.sentences: list[tuple[int, Sentence]] = []
        self.direct = 0  # queued chunks embedded as themselves
        self.doc = 0  # number of the document being written
        # vectors and lengths of sentences flushed already that queued or later chunks still pool, by (document
        # number, id): the document being written's, and until the next flush the one before's (its last chunk,
        # carried to the end of a streamed file, may be queued after its sentences were flushed)
        self.recent: dict[tuple[int, int], tuple[np.ndarray, int]] = {}
        self._mark = (0, 0)  # where the document being written starts in the queues

    def put(self, chunks: Sequence[Chunk], sentences: Sequence[Sentence]) -> None:
        self.chunks.extend((self.doc, c) for c in chunks)
        self.sentences.extend((self.doc, s) for s in sentences)
        self.direct += sum(1 for c in chunks if not self._pooled(c))
        if len(self.sentences) + self.direct >= self.flush_texts:
            self.flush()

    def _pooled(self, c: Chunk) -> bool:
        """Whether ``c``'s vector is pooled from its sentences' (it is exactly those sentences)."""
        return self.pool and c.last_sentence >= c.first_sentence >= 0

    def mark(self) -> None:
        """A new document starts here."""
        self.doc += 1
        self._mark = (len(self.chunks), len(self.sentences))

    def drop_document(self) -> None:
        """Forget the queued texts of the document being written."""
        dropped = self.chunks[self._mark[0]:]
        self.direct -= sum(1 for _, c in dropped if not self._pooled(c))
        del self.chunks[self._mark[0]:], self.sentences[self._mark[1]:]
        self.recent = {key: vn for key, vn in self.recent.items() if key[0] != self.doc}

    def flush(self) -> None:
        if not self.chunks and not self.sentences:
            return
        direct = [c for _, c in self.chunks if not self._pooled(c)]
        unique: dict[str, int] = {}
        for text in (*(s.text for _, s in self.sentences), *(c.text for c in direct)):
            unique.setdefault(text, len(unique))
        vecs = self.encoder.encode(list(unique), batch_size=self.batch_size)
        self.report.embedded += len(unique)
        dim = self.encoder.dim
        sent_vecs = vecs[[unique[s.text] for _, s in self.sentences]].reshape(-1, dim)
        known = dict(self.recent)
        for (doc, s), v in zip(self.sentences, sent_vecs):
            known[(doc, s.id)] = (v, len(s.text))
        chunk_vecs = np.empty((len(self.chunks), dim), dtype=np.float32)
        for row, (doc, c) in enumerate(self.chunks):
            if not self._pooled(c):
                chunk_vecs[row] = vecs[unique[c.text]]
                continue
            try:
                parts = [known[(doc, i)] for i in range(c.first_sentence, c.last_sentence + 1)]
            except KeyError as e:  # would be a chunker bug: a chunk naming a sentence never queued
                raise RuntimeError(f"chunk {c.id} of {c.source} names sentence {e.args[0][1]}, "
                                   "which was not queued") from None
            chunk_vecs[row] = pool_sentences(np.stack([v for v, _ in parts]), np.array([n for _, n in parts]))
        self.writer.add_vectors(chunk_vecs, sent_vecs)
        # the current document's later chunks start after its last queued chunk's first sentence
        last = next((c.first_sentence for doc, c in reversed(self.chunks) if doc == self.doc), None)
        self.recent = {(doc, i): vn for (doc, i), vn in known.items()
                       if doc == self.doc and (last is None or i >= last)}
        self.chunks, self.sentences, self.direct, self._mark = [], [], 0, (0, 0)


STREAMED = (".txt", ".text", ".info")  # formats read as a stream when the file is plain UTF-8 text
# ... and larger than this: a smaller one is read whole (a peak of about 60 MB a MB of text, docs/scaling.md)
# and cut into sections at its headings (indexer.formats.plain.headings), which a stream is not
STREAM_ABOVE = 1 << 20


class _WholeDocument:
    """A document extracted whole (other formats, other encodings), shaped like a TextStream."""

    def __init__(self, f: SourceFile, encoding: str | None = None):
        self.doc = read_document(f, encoding)
        self.sha256, self.size = self.doc.sha256, self.doc.size
        self.consumed = self.size


def _open_document(f: SourceFile, settings: ChunkerSettings, stream: bool, encoding: str | None = None):
    """A document's reader (``consumed``, then ``sha256`` and ``size``) and its spans, a stretch at a time.

    Plain UTF-8 text streams, whatever its size; other formats and encodings are read and
    extracted whole (:func:`indexer.sources.read_document`) and give one batch, cut into regions.
    """
    if not stream:
        whole = _WholeDocument(f, encoding)
        doc = whole.doc
        # HTML, DOCX: a line is a block; a PDF's lines are as wide as its page
        mod = format_reader(f.format or ".txt")
        if getattr(mod, "BLOCK_LINES", False):
            settings = replace(settings, join_wrapped=False)
        if getattr(mod, "WIDEST_LINE", None):
            settings = replace(settings, wrap_width=mod.WIDEST_LINE)
        if getattr(mod, "OWN_LINES", None):  # Org, AsciiDoc: headlines, titles, drawers, attributes
            settings = replace(settings, own_lines=mod.OWN_LINES)
        return whole, iter([ChunkBatch(0, doc.text, *chunk_regions(doc.text, doc.source, doc.regions, settings))])
    # a first pass finds its sections (a plain-text file's headings), the second chunks it under them
    regions = stream_regions(TextStream(f))
    reader = TextStream(f)
    return reader, _nonblank(reader, chunk_stream(reader, f.source, settings, regions=regions), f.source)


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
               flush_texts, encoding=None, decoded=None, phases=None) -> None:
    """Read, chunk, embed and write the added and changed documents, one stretch at a time."""
    embedder = _Embedder(encoder, writer, batch_size, flush_texts, report, pool=settings.strategy == "sentences")
    try:
        for f in todo:
            writer.begin(f.source)
            embedder.mark()
            counted = 0
            try:
                stream, batches = _open_document(f, settings, f.source in streamable, encoding)
                doc = getattr(stream, "doc", None)
                note = getattr(doc, "note", None)
                if decoded is not None:
                    decoded[f.source] = getattr(doc, "encoding", None)
                if note:
                    report.notes.append(Skipped(f.source, note))
                for batch in batches:
                    writer.add_text(batch.start_char, batch.text)
                    writer.add_spans(batch.sentences, batch.chunks)
                    embedder.put(batch.chunks, batch.sentences)
                    progress.update(stream.consumed - counted, chunks=len(batch.chunks))
                    counted = stream.consumed
            except (OSError, SourceError) as e:
                if decoded is not None:
                    decoded.pop(f.source, None)  # if its previous version is kept, so is its record
                embedder.drop_document()
                writer.discard()
                progress.update(max(_sizes([f]) - counted, 0))
                _keep_previous(f, e, old, old_docs, embedder, writer, report)
                continue
            writer.end(stream.sha256, stream.size)
        pending = len(getattr(embedder, "chunks", ())) + len(getattr(embedder, "sentences", ()))
        if phases is not None and pending:
            phases(f"embedding the last {pending} texts")
        embedder.flush()
    finally:
        progress.close()


def _keep_previous(f: SourceFile, error: OSError | SourceError, old, old_docs, embedder: _Embedder,
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
