"""Choosing the encoder for questions: the index's own ONNX export (fast start), else torch.

The ONNX encoder is used only once it has shown that it is the model that embedded the chunks:

1. the index manifest names an export made from the model fingerprint the chunks were embedded
   with, and the export's ``encoder.json`` says the same (its files are covered by the manifest's
   checksums, verified when the index is opened);
2. it embeds a few of the index's own sentences to the vectors stored for them (cosine >=
   ``MIN_COSINE``).

When a model is asked for explicitly (``--model`` or ``$QUARRY_MODEL``), its fingerprint must be
the export's too. ``$QUARRY_ENCODER`` (``auto``, ``onnx``, ``torch``) forces a path.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from indexer.encoder import Encoder, SentenceTransformerEncoder, fingerprint_dir
from indexer.errors import ModelError
from indexer.indexdir import contained
from retriever.index import Index
from retriever.settings import explicit_model, query_encoder_choice

log = logging.getLogger(__name__)

MIN_COSINE = 0.999
PROBE_SENTENCES = 3
PROBE_CHARS = (20, 300)  # sentences of a useful, cheap length


def open_query_encoder(index: Index, model: str | os.PathLike | None = None, prefer: str | None = None,
                       threads: int | None = None) -> Encoder:
    """The encoder to embed questions for ``index``: its verified ONNX export unless ``torch`` is
    preferred or the export is missing or unusable (then the torch model ``model``, default
    ``$QUARRY_MODEL`` or the packaged one; the retriever still checks its fingerprint).
    ``threads``: intra-op threads of the ONNX runtime (None: its default, every core)."""
    choice = query_encoder_choice(prefer)
    if choice != "torch":
        try:
            return onnx_encoder(index, model, threads)
        except ModelError as e:
            if choice == "onnx":
                raise
            log.log(logging.WARNING if getattr(e, "loud", False) else logging.DEBUG,
                    "%s; embedding questions with torch instead", e)
    return SentenceTransformerEncoder(model)


class _Unusable(ModelError):
    """The export exists but failed a check: worth a warning."""

    loud = True


def onnx_encoder(index: Index, model: str | os.PathLike | None = None, threads: int | None = None):
    """The index's ONNX export as a loaded, verified encoder; ModelError saying why not."""
    from indexer.onnx_encoder import FILE_KEYS, OnnxEncoder

    manifest = index.manifest
    entry = manifest.get("query_encoder") or {}
    want = manifest.get("model", {})
    if entry.get("status") != "ok":
        raise ModelError(f"{index.path} has no ONNX export of its model"
                         + (f" (export failed: {entry['error']})" if entry.get("error") else ""))
    explicit = model or explicit_model()
    if explicit and fingerprint_dir(Path(explicit).expanduser()) != want.get("fingerprint"):
        raise ModelError(f"the model asked for ({explicit}) is not the one {index.path} was built with")
    rel = entry.get("path")
    if not isinstance(rel, str) or not rel or "/" in rel or rel.startswith("."):
        raise _Unusable(f"{index.path}: the manifest names a bad ONNX export folder {rel!r}")
    # read through the index's lease (never a newer index's export); name it by its usual path
    folder, shown, listed = index.store.file(rel), index.path / rel, manifest.get("files", {})
    try:
        unlisted = [p.name for p in folder.iterdir() if f"{rel}/{p.name}" not in listed]
        if unlisted or f"{rel}/encoder.json" not in listed:
            raise _Unusable(f"the ONNX export in {shown} is not covered by the manifest's checksums "
                            f"({', '.join(unlisted) or 'encoder.json'})")
        contained(index.store.file(""), f"{rel}/encoder.json", listed, index.path, "the ONNX export")
        encoder = OnnxEncoder(folder, threads=threads)
        for key in FILE_KEYS:  # inside the index (no link out) and checksummed, or the index is refused
            contained(index.store.file(""), f"{rel}/{encoder.settings[key]}", listed, index.path,
                      f"{rel}/encoder.json's {key}")
        if (encoder.fingerprint != want.get("fingerprint") or entry.get("model_fingerprint") != want.get("fingerprint")
                or encoder.dim != want.get("dim")):
            raise _Unusable(f"the ONNX export in {shown} is of another model than the index's")
        encoder.load()
        verify_against_index(encoder, index)
    except _Unusable:
        raise
    except (ModelError, OSError) as e:
        raise _Unusable(str(e)) from None
    return encoder


def verify_against_index(encoder: Encoder, index: Index) -> float:
    """Embed a few of the index's sentences and compare with the vectors stored for them; return the
    smallest cosine, or raise when it is below ``MIN_COSINE``."""
    sentences = probe_sentences(index)
    if not sentences:
        return 1.0  # an index without sentences: nothing to search densely either
    stored = index.sentence_vectors([s.id for s in sentences])
    got = encoder.encode([s.text for s in sentences])
    cosine = float(np.min(np.sum(stored * got, axis=1)))
    if not cosine >= MIN_COSINE:
        raise _Unusable(f"the ONNX export does not reproduce {index.path}'s vectors (cosine {cosine:.4f})")
    return cosine


def probe_sentences(index: Index) -> list:
    """Up to ``PROBE_SENTENCES`` sentences from the first and the last chunk of the index."""
    n = index.n_chunks
    if n == 0:
        return []
    chunks = index.store.chunks(sorted({0, n - 1}))
    lo, hi = PROBE_CHARS
    found = [s for c in chunks.values() for s in index.store.sentences_of(c) if lo <= len(s.text) <= hi]
    if not found:
        found = [s for c in chunks.values() for s in index.store.sentences_of(c)][:1]
    return found[:PROBE_SENTENCES]
