"""Server discovery: a running server advertises its URL in a small JSON file that ``ask`` can find.

The file is ``indexer.paths.server_file(index_dir)``, holding
``{"url": "http://127.0.0.1:PORT", "pid": PID, "index_dir": "<resolved path>", "api_key": bool}``;
it is written atomically once the socket listens and removed at shutdown. A reader must check
that ``pid`` is alive (a killed server cannot remove its file) and fall back when anything fails.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from indexer.paths import server_file

log = logging.getLogger(__name__)


def url_for(host: str, port: int) -> str:
    if host in ("0.0.0.0", "::", ""):  # listening everywhere: loopback reaches it
        host = "127.0.0.1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def advertise(index_dir: str | os.PathLike, url: str, api_key: bool) -> Path | None:
    """Write the discovery file (atomically); None if it cannot be written (serving goes on)."""
    path = server_file(index_dir)
    body = {"url": url, "pid": os.getpid(), "index_dir": str(Path(index_dir).resolve()), "api_key": bool(api_key)}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(body), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as e:
        log.warning("cannot write the discovery file %s: %s", path, e)
        return None
    return path


def withdraw(index_dir: str | os.PathLike) -> None:
    """Remove the discovery file if it is this process's (another server may have taken over)."""
    path = server_file(index_dir)
    try:
        if json.loads(path.read_text(encoding="utf-8")).get("pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError, AttributeError):
        pass


def read(index_dir: str | os.PathLike) -> dict | None:
    """The advertised server for ``index_dir`` if its process is alive, else None."""
    try:
        info = json.loads(server_file(index_dir).read_text(encoding="utf-8"))
        os.kill(int(info["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return info
