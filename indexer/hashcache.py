"""sha256 of files, remembered on disk by each file's identity so that opening an index stays fast.

A file's identity is its device, inode, size, mtime and ctime (not its name: hard links share
one). Every write to a file changes its ctime, which no user can set, so a remembered digest is
only reused for bytes that have not been touched since they were hashed. As git does for its
index, a file changed less than ``RACY_SECONDS`` before it was hashed is not remembered: a coarse
file-system clock could otherwise give a later write the same timestamps.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from pathlib import Path

from indexer.paths import cache_dir

RACY_SECONDS = 2.0
MAX_ENTRIES = 512
_LOCK = threading.Lock()
_MEMORY: dict[str, str] = {}


def file_sha256(path: str | os.PathLike) -> str:
    """The sha256 of a file's bytes, always computed."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 18), b""):  # 256 KB: as fast, a quarter of the memory
            h.update(block)
    return h.hexdigest()


def _identity(st: os.stat_result) -> str:
    """The file itself, not a name of it: every hard link to the same bytes shares one entry."""
    return f"{st.st_dev}|{st.st_ino}|{st.st_size}|{st.st_mtime_ns}|{st.st_ctime_ns}"


def _cache_file() -> Path:
    return cache_dir() / "checksums.json"


def _load() -> dict[str, str]:
    try:
        data = json.loads(_cache_file().read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def cached_sha256(path: str | os.PathLike) -> str:
    """The sha256 of a file's bytes, reused from an earlier call while the file is untouched."""
    path = Path(path)
    st = path.stat()
    key = _identity(st)
    with _LOCK:
        if key in _MEMORY:
            return _MEMORY[key]
    stored = _load()
    if isinstance(stored.get(key), str):
        with _LOCK:
            _MEMORY[key] = stored[key]
        return stored[key]
    digest = file_sha256(path)
    if time.time() - max(st.st_mtime, st.st_ctime) < RACY_SECONDS or os.stat(path).st_ctime_ns != st.st_ctime_ns:
        return digest  # too fresh (or changed while we read it): hash again next time
    _remember(key, digest, stored)
    return digest


def remember_link(path: str | os.PathLike, digest: str) -> None:
    """Remember ``digest`` for the file at ``path``, a hard link just made to a file whose bytes were
    verified to have that digest a moment before.

    Making a link changes the file's ctime, so without this the next :func:`cached_sha256` of any of
    its names reads it all again (the ONNX export an index shares with the export cache: about 90 MB,
    hashed at every update). The bytes are the verified ones: a link changes no byte, and the files
    quarry links (cache entries, index files) are never written in place.
    """
    _remember(_identity(Path(path).stat()), digest)


def _remember(key: str, digest: str, stored: dict[str, str] | None = None) -> None:
    """Keep ``digest`` for ``key`` in this process and in the cache file (``stored``: its contents, if read)."""
    with _LOCK:
        _MEMORY[key] = digest
    stored = _load() if stored is None else stored
    stored[key] = digest
    _save(stored)


def _save(stored: dict[str, str]) -> None:
    if len(stored) > MAX_ENTRIES:  # dicts keep insertion order: drop the oldest
        stored = dict(list(stored.items())[-MAX_ENTRIES:])
    target = _cache_file()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps(stored))
        os.replace(tmp, target)
    except OSError:
        pass  # a cache that cannot be written only costs time
