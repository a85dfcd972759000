"""The index directory: its layout, writing and opening.

Layout of an index dir::

    manifest.json         format version, model, chunker settings, documents, file checksums
    chunks.sqlite         documents (their text in pieces), sentences, chunks (with their page
                          and section), FTS5 over chunks
    chunks.faiss          FAISS index over chunk vectors (ids = chunk ids): exact, or HNSW/IVF
    chunks.faiss.ids.npy  only for an HNSW/IVF index updated in place: chunk id of each of its vectors
                          (-1: a removed one; see indexer.indexdir.vectors)
    chunk_vectors.npy     float32 chunk vectors, row = chunk id
    sentence_vectors.npy  float32 sentence vectors, row = sentence id
    encoder/              optional: the ONNX export of the embedding model (see indexer.onnx_export)

Every file is written into a temporary sibling folder which then replaces the old one in a
single atomic rename; readers never see a half-written index. Documents are written a stretch
at a time (text pieces, spans, vectors) by :mod:`indexer.indexdir.writer`, so a huge document never has
to be held in memory, and a document left unchanged by an update is copied from the previous
index without re-embedding.

The modules:

- :mod:`~indexer.indexdir.store`: file names, the SQLite schema, reading the manifest, opening an
  index checked (:class:`IndexStore`)
- :mod:`~indexer.indexdir.manifest`: the manifest's schema and the rule for file names it gives
- :mod:`~indexer.indexdir.vectors`: the FAISS index (exact, HNSW, IVF): building, reading, searching
- :mod:`~indexer.indexdir.writer`: writing a new index dir a stretch at a time (the indexer's side)
- :mod:`~indexer.indexdir.fsutil`: fsync, the atomic folder swap, the writer lock, read leases

The names below are the ones both sides use (the indexer writing, the retriever and the server
reading); what only the writer needs is imported from its module. They load on first use, so that
``indexer.indexdir.fsutil`` (used by ``quarry status --help``) does not pull in numpy and pydantic.
Imports go one way: this package imports nothing from ``retriever``, ``server`` or ``eval``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from indexer.indexdir.fsutil import live_dir
    from indexer.indexdir.manifest import contained
    from indexer.indexdir.store import (
        CHUNK_VECTORS,
        DB,
        FAISS,
        FORMAT_VERSION,
        MANIFEST,
        SENTENCE_VECTORS,
        IndexStore,
        read_manifest,
    )
    from indexer.indexdir.vectors import FAISS_IDS, PositionMap, read_faiss, search_params

# name -> the module of this package that defines it
_HOME = {
    "live_dir": "fsutil",
    "contained": "manifest",
    **dict.fromkeys(["CHUNK_VECTORS", "DB", "FAISS", "FORMAT_VERSION", "MANIFEST", "SENTENCE_VECTORS",
                     "IndexStore", "read_manifest"], "store"),
    **dict.fromkeys(["FAISS_IDS", "PositionMap", "read_faiss", "search_params"], "vectors"),
}

__all__ = [  # the names of _HOME
    "CHUNK_VECTORS", "DB", "FAISS", "FAISS_IDS", "FORMAT_VERSION", "MANIFEST", "SENTENCE_VECTORS",
    "IndexStore", "PositionMap", "contained", "live_dir", "read_faiss", "read_manifest", "search_params",
]


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)
    globals()[name] = value
    return value
