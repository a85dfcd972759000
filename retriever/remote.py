"""Asking a running quarry server for the same index: the ``ask`` side of server discovery.

A server for ``INDEX_DIR`` writes ``indexer.paths.server_file(INDEX_DIR)``, a JSON file
``{"url", "pid", "index_dir", "api_key"}``, once it is up, and removes it when it stops. ``ask``
reads it, checks that it names this index, a live process and a loopback URL, asks it to switch to
the index on disk if that was updated (``/admin/reload``) and POSTs the question to ``/ask`` (with
``X-API-Key: $QUARRY_API_KEY`` when set). Anything unexpected (no
file, a dead pid, a refused connection, a timeout, a non-200 reply, a body that is not the
contract) returns ``None``, silently: the caller answers in process.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from indexer.paths import server_file
from retriever.settings import api_key

log = logging.getLogger(__name__)

TIMEOUT_S = 10.0
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def find_server(index_dir: str | os.PathLike) -> dict[str, Any] | None:
    """The announcement of a live server for ``index_dir``, or None."""
    path = server_file(index_dir)
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        pid, url = int(info["pid"]), str(info["url"])
        same = Path(info["index_dir"]) == Path(index_dir).resolve()
    except (OSError, ValueError, KeyError, TypeError):
        return None
    parts = urlsplit(url)
    if not same or parts.scheme != "http" or parts.hostname not in LOOPBACK or parts.port is None:
        log.debug("ignoring %s: not a loopback server for %s", path, index_dir)
        return None
    if pid <= 0 or not _alive(pid):
        log.debug("ignoring %s: process %s is gone", path, pid)
        return None
    return info


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, run by someone else
    return True


def ask_server(index_dir: str | os.PathLike, question: str, k: int, timeout: float = TIMEOUT_S) -> dict | None:
    """The JSON body a running server gives for ``question``, or None (then answer in process)."""
    info = find_server(index_dir)
    if info is None:
        return None
    import http.client

    parts = urlsplit(info["url"])
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    key = api_key()
    if key:
        headers["X-API-Key"] = key
    elif info.get("api_key") is True:
        log.debug("server %s wants an API key and QUARRY_API_KEY is not set: falling back", info["url"])
        return None
    body = json.dumps({"question": question, "k": k}).encode("utf-8")
    root = parts.path.rstrip("/") or ""
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        # the index may have been updated a moment ago (`quarry index`) and the server not have seen it yet
        # (it looks every --watch seconds): it switches now if so, or this question is answered in process
        for path, payload in ((f"{root}/admin/reload", b""), (f"{root}/ask", body)):
            conn.request("POST", path, body=payload, headers=headers)
            reply = conn.getresponse()
            data = reply.read()
            if reply.status != 200:
                log.debug("server %s answered %s to %s: falling back", info["url"], reply.status, path)
                return None
        result = json.loads(data.decode("utf-8"))
    except (OSError, http.client.HTTPException, ValueError) as e:
        log.debug("server %s failed (%s): falling back", info["url"], e)
        return None
    finally:
        conn.close()
    return result if _is_contract(result) else None


def _is_contract(body: Any) -> bool:
    """Whether ``body`` has the shape of ``Result.to_dict()`` (so it can be shown like a local answer)."""
    try:
        if not isinstance(body, dict) or not isinstance(body["passages"], list) or "answer" not in body:
            return False
        result_from_dict(body)
        return True
    except (KeyError, TypeError, ValueError):
        return False


def result_from_dict(body: dict[str, Any]):
    """A ``Result`` from the JSON contract (unknown fields ignored: the server may be newer)."""
    from dataclasses import fields

    from indexer.schema import Answer, Passage, Result

    def build(cls, d):
        if not isinstance(d, dict):
            raise TypeError("not an object")
        names = {f.name for f in fields(cls)}
        obj = cls(**{k: v for k, v in d.items() if k in names})
        if not (isinstance(obj.text, str) and isinstance(obj.source, str) and all(
                isinstance(getattr(obj, n), int) for n in ("start_char", "end_char", "start_line", "end_line"))
                and isinstance(obj.score, (int, float))):
            raise TypeError(f"bad field types in {cls.__name__}")
        return obj

    answer = build(Answer, body["answer"]) if body["answer"] is not None else None
    return Result(str(body["question"]), answer, tuple(build(Passage, p) for p in body["passages"]))
