"""Default locations: the index dir ``ask`` uses, the seeds folder it indexes first, server files."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/quarry`` (``~/.cache/quarry``)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "quarry"


def default_index_dir() -> Path:
    """``$QUARRY_INDEX_DIR``, else ``~/.cache/quarry/index``."""
    env = os.environ.get("QUARRY_INDEX_DIR")
    return Path(env).expanduser() if env else cache_dir() / "index"


def default_seeds_dir() -> Path:
    """``$QUARRY_SEEDS``, else the project's ``seeds/`` folder, else ``./seeds``."""
    env = os.environ.get("QUARRY_SEEDS")
    if env:
        return Path(env).expanduser()
    project = Path(__file__).resolve().parent.parent / "seeds"
    return project if project.is_dir() else Path("seeds")


def server_file(index_dir: str | os.PathLike) -> Path:
    """Where a running ``python -m server`` for ``index_dir`` advertises itself (see server/discovery.py).

    ``$XDG_CACHE_HOME/quarry/servers/<key>.json``, key = the first 16 hex digits of the sha256 of
    the index dir's resolved path; the file holds ``{"url", "pid", "index_dir", "api_key": bool}``.
    """
    key = hashlib.sha256(str(Path(index_dir).resolve()).encode()).hexdigest()[:16]
    return cache_dir() / "servers" / f"{key}.json"
