"""Building the FAISS index over chunk vectors: exact inner product, behind an id map."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

ADD_BATCH = 65536


def build_faiss(vectors: np.ndarray, path: Path) -> dict[str, Any]:
    """Write a FAISS index for ``vectors`` (row i has id i) to ``path``; return its description."""
    import faiss

    n, dim = vectors.shape
    index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
    for start in range(0, n, ADD_BATCH):
        block = np.ascontiguousarray(vectors[start:start + ADD_BATCH], dtype=np.float32)
        index.add_with_ids(block, np.arange(start, start + len(block), dtype=np.int64))
    faiss.write_index(index, str(path))
    return {"type": "flat", "metric": "inner_product", "ntotal": int(index.ntotal)}
