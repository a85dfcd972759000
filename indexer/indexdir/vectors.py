"""The FAISS index over chunk vectors: exact inner product for small corpora, HNSW or IVF above a threshold.

Row ``i`` of ``chunk_vectors.npy`` is chunk id ``i`` in every kind of index:

- ``flat``: ``IndexFlatIP`` behind an ``IndexIDMap2``, exact.
- ``hnsw``: ``IndexHNSWFlat`` (inner product); approximate, no training, the default above
  ``approximate_above`` vectors.
- ``ivf``: ``IndexIVFFlat`` (inner product) with ``nlist`` k-means cells trained on a sample.

The index is rebuilt from the stored vectors at every commit (nothing is re-embedded), so changing
these settings only costs the FAISS build. Search-time parameters (``ef_search``, ``nprobe``) are
recorded in the manifest and can be overridden when the index is opened.

HNSW and IVF are the exception: building the graph, or training the cells, is the slow part
(minutes at a million vectors), so an incremental update keeps the previous index, adds the vectors
of new and changed documents to it, and leaves the vectors of removed and changed ones in it as
tombstones. Its internal positions then no longer equal chunk ids: ``chunks.faiss.ids.npy`` maps
each position to its chunk id (-1: a tombstone, never returned: searches skip it with an
``IDSelectorBitmap``). Once tombstones would be more than ``MAX_DEAD_SHARE`` of the index, or the
settings changed, it is built anew (IVF cells are then trained again on the current vectors).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from indexer.errors import IndexCorrupt

if TYPE_CHECKING:  # numpy and faiss load when an index is built or read, not for --help
    import numpy as np

log = logging.getLogger(__name__)

ADD_BATCH = 16384  # vectors added to FAISS at a time (25 MB at 384 dimensions)
FAISS_IDS = "chunks.faiss.ids.npy"  # an index updated in place: internal position -> chunk id (-1: removed)
MAX_DEAD_SHARE = 0.2  # rebuilt once removed vectors would be more than this share of an updated index
KINDS = ("auto", "flat", "hnsw", "ivf")
APPROXIMATE = ("hnsw", "ivf")


@dataclass(frozen=True)
class VectorSettings:
    """Which FAISS index to build and how; ``kind="auto"`` is exact up to ``approximate_above`` vectors."""

    kind: str = "auto"  # auto | flat | hnsw | ivf
    approximate_above: int = 100_000  # auto: more chunk vectors than this get ``approximate``
    approximate: str = "hnsw"  # what auto switches to: hnsw | ivf
    hnsw_m: int = 32  # links per node
    ef_construction: int = 80  # candidate list while building
    ef_search: int = 128  # candidate list while searching (at least k is used)
    ivf_nlist: int | None = None  # None: about 4 * sqrt(n) cells
    nprobe: int = 128  # cells visited per query

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"index kind must be one of {', '.join(KINDS)}")
        if self.approximate not in APPROXIMATE:
            raise ValueError(f"the approximate index must be one of {', '.join(APPROXIMATE)}")
        if self.approximate_above < 0:
            raise ValueError("approximate_above must be at least 0")
        for name in ("hnsw_m", "ef_construction", "ef_search", "nprobe"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.ivf_nlist is not None and self.ivf_nlist < 1:
            raise ValueError("ivf_nlist must be at least 1")

    def choose(self, n: int) -> str:
        """The kind of index ``n`` vectors get."""
        if self.kind != "auto":
            return self.kind
        return self.approximate if n > self.approximate_above else "flat"

    def nlist(self, n: int) -> int:
        """IVF cells for ``n`` vectors: enough points per cell to train (at least 39), about 4 sqrt(n)."""
        want = self.ivf_nlist or int(4 * math.sqrt(max(n, 1)))
        return max(1, min(want, n // 39 or 1))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PreviousFaiss:
    """The FAISS index of the index being replaced, and where its kept documents' chunks went."""

    path: Path  # its FAISS file (its ids file, if any, beside it)
    info: dict[str, Any]  # its manifest entry
    n_chunks: int  # its chunk count
    moved: list[tuple[int, int, int]]  # (its first chunk id, chunk count, new first chunk id) per kept document
    files: dict[str, Any] | None = None  # its manifest's checksummed files (the ids file must be one)


def build_faiss(vectors: np.ndarray, path: Path, settings: VectorSettings | None = None,
                previous: PreviousFaiss | None = None) -> dict[str, Any]:
    """Write a FAISS index for ``vectors`` (row i has id i) to ``path``; return its description.

    ``vectors`` may be a memory-mapped array: it is read in blocks (IVF training reads a sample).
    The description goes into the manifest; the retriever reads its search parameters from it.
    ``previous``: an HNSW or IVF index to update instead of building one (see the module's notes).
    """
    import faiss
    import numpy as np

    settings = settings or VectorSettings()
    n, dim = vectors.shape
    kind = settings.choose(n)
    t0 = time.perf_counter()
    info: dict[str, Any] = {"type": kind, "metric": "inner_product"}
    updated = _update_in_place(vectors, settings, kind, previous) if previous is not None else None
    if updated is not None:  # hnsw or ivf: the previous index, with the new vectors added
        index, labels = updated
        dead = int(np.count_nonzero(labels < 0))
        if dead or not np.array_equal(labels, np.arange(len(labels))):
            np.save(path.parent / FAISS_IDS, labels)
            info.update(ids=FAISS_IDS)
        info.update(updated_in_place=True, removed=dead)
    elif kind == "flat":
        index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        _add(index, vectors, with_ids=True)
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, settings.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = settings.ef_construction
        index.hnsw.efSearch = settings.ef_search
        _add(index, vectors)
    else:
        nlist = settings.nlist(n)
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
        index.train(_sample(vectors, min(n, 64 * nlist)))  # FAISS asks for 39 to 256 points per cell
        index.nprobe = min(settings.nprobe, nlist)
        _add(index, vectors)
    if kind == "hnsw":
        info.update(M=settings.hnsw_m, ef_construction=settings.ef_construction, ef_search=settings.ef_search)
    elif kind == "ivf":
        info.update(nlist=int(index.nlist), nprobe=int(index.nprobe))
    faiss.write_index(index, str(path))
    info.update(ntotal=int(index.ntotal), settings=settings.to_dict())
    log.info("built a %s FAISS index over %d vectors in %.1f s", kind, n, time.perf_counter() - t0)
    return info


def _ids_path(previous: PreviousFaiss) -> Path:
    """The previous index's ids file, once it is a checksummed file inside that index."""
    from indexer.indexdir.manifest import contained

    root = previous.path.parent
    files = previous.files if previous.files is not None else {previous.info["ids"]: None}
    return contained(root, previous.info["ids"], files, root, "faiss.ids")


def _update_in_place(vectors: np.ndarray, settings: VectorSettings, kind: str, previous: PreviousFaiss):
    """The previous HNSW or IVF index with the new chunks' vectors added, and its position -> chunk id
    map; None when it cannot be reused (another kind or settings, unreadable, too many tombstones)."""
    import faiss
    import numpy as np

    info = previous.info
    if kind not in ("hnsw", "ivf") or info.get("type") != kind or info.get("settings") != settings.to_dict():
        return None
    try:
        index = faiss.read_index(str(previous.path))  # into memory: it is added to
        old_labels = (np.load(_ids_path(previous), allow_pickle=False) if info.get("ids")
                      else np.arange(index.ntotal, dtype=np.int64))
    except (RuntimeError, OSError, ValueError, IndexCorrupt) as e:
        log.warning("cannot reuse the previous %s index (%s): building a new one", kind, str(e).strip()[:200])
        return None
    n = len(vectors)
    expected = faiss.IndexHNSWFlat if kind == "hnsw" else faiss.IndexIVFFlat
    if (not isinstance(index, expected) or index.d != vectors.shape[1] or len(old_labels) != index.ntotal
            or (len(old_labels) and int(old_labels.max()) >= previous.n_chunks)):
        return None
    remap = np.full(previous.n_chunks, -1, dtype=np.int64)  # old chunk id -> new chunk id (-1: gone)
    for old_first, count, new_first in previous.moved:
        remap[old_first:old_first + count] = np.arange(new_first, new_first + count)
    labels = np.full(len(old_labels), -1, dtype=np.int64)
    live = old_labels >= 0
    labels[live] = remap[old_labels[live]]
    covered = np.zeros(n, dtype=bool)
    covered[labels[labels >= 0]] = True
    fresh = np.flatnonzero(~covered)  # chunks of new and changed documents
    dead = int(np.count_nonzero(labels < 0))
    if dead > MAX_DEAD_SHARE * (len(labels) + len(fresh)):
        log.info("%d of %d %s vectors would be removed ones: building a new index", dead, len(labels) + len(fresh),
                 kind)
        return None
    for start in range(0, len(fresh), ADD_BATCH):
        index.add(np.ascontiguousarray(vectors[fresh[start:start + ADD_BATCH]], dtype=np.float32))
    log.info("updated the %s index in place: %d vectors added, %d removed ones skipped by searches",
             kind, len(fresh), dead)
    return index, np.concatenate([labels, fresh.astype(np.int64)])


def _add(index, vectors: np.ndarray, with_ids: bool = False) -> None:
    import numpy as np

    for start in range(0, len(vectors), ADD_BATCH):
        block = np.ascontiguousarray(vectors[start:start + ADD_BATCH], dtype=np.float32)
        if with_ids:
            index.add_with_ids(block, np.arange(start, start + len(block), dtype=np.int64))
        else:
            index.add(block)


def _sample(vectors: np.ndarray, size: int, seed: int = 0) -> np.ndarray:
    """``size`` rows picked uniformly (sorted, so a memory-mapped file is read in order)."""
    import numpy as np

    if size >= len(vectors):
        return np.ascontiguousarray(vectors, dtype=np.float32)
    rows = np.sort(np.random.default_rng(seed).choice(len(vectors), size, replace=False))
    return np.ascontiguousarray(vectors[rows], dtype=np.float32)


def read_faiss(path: Path, mmap: bool = True):
    """Open a FAISS index file, memory-mapped where FAISS can (flat, HNSW and IVF storage).

    ``IO_FLAG_MMAP_IFC`` maps the vectors (and the HNSW graph, and IVF lists) instead of copying
    them into the process: opening is instant and the pages are shared between processes. If this
    FAISS cannot map the file, it is read into memory. Raises RuntimeError if FAISS cannot read it.
    """
    import faiss

    if mmap:
        flag = getattr(faiss, "IO_FLAG_MMAP_IFC", None)
        if flag is not None:
            try:
                return faiss.read_index(str(path), flag | faiss.IO_FLAG_READ_ONLY)
            except RuntimeError as e:
                log.info("%s cannot be memory-mapped (%s); reading it into memory",
                         path, str(e).strip().splitlines()[0][:120] if str(e).strip() else "?")
    return faiss.read_index(str(path))


@dataclass
class PositionMap:
    """An index updated in place: chunk id of each internal position (-1: removed), and the FAISS
    selector that keeps removed ones out of searches (it reads ``live_bits``: keep this object alive)."""

    labels: np.ndarray
    live_bits: np.ndarray
    selector: Any

    @classmethod
    def read(cls, path: Path) -> PositionMap:
        import faiss
        import numpy as np

        labels = np.load(path, allow_pickle=False)
        bits = np.packbits(labels >= 0, bitorder="little")
        return cls(labels, bits, faiss.IDSelectorBitmap(len(labels), faiss.swig_ptr(bits)))

    @property
    def live(self) -> int:
        import numpy as np

        return int(np.count_nonzero(self.labels >= 0))

    def chunk_ids(self, positions: np.ndarray) -> np.ndarray:
        """Chunk ids of search results (FAISS's -1, no result, stays -1)."""
        import numpy as np

        return np.where(positions >= 0, self.labels[np.maximum(positions, 0)], -1)


def search_params(index, info: dict[str, Any], ef_search: int | None = None, nprobe: int | None = None,
                  selector=None):
    """FAISS search parameters for an opened index: the manifest's values unless overridden.
    ``selector``: which internal positions may be returned (the caller keeps it alive)."""
    import faiss

    kind = info.get("type", "flat")
    if kind == "hnsw" and isinstance(index, faiss.IndexHNSW):
        # faiss's __init__.pyi is wrong here: it lacks SearchParametersHNSW and the keyword arguments that
        # faiss's constructors take (SearchParametersIVF(nprobe=...))
        params = faiss.SearchParametersHNSW(efSearch=int(ef_search or info.get("ef_search", 128)))  # type: ignore[attr-defined]
    elif kind == "ivf" and isinstance(index, faiss.IndexIVF):
        params = faiss.SearchParametersIVF(nprobe=int(nprobe or info.get("nprobe", 128)))  # type: ignore[call-arg]
    else:
        return None
    if selector is not None:
        params.sel = selector
    return params
