"""The live index: the retriever requests use, switched to a rebuilt index without failing a request.

``python -m indexer`` writes a new index beside the old one and swaps the folders atomically. The
server notices (it polls the manifest's identity every few seconds, or ``POST /admin/reload``
asks), opens the new index off the event loop, warms it up, and only then points new requests at
it. Requests already running finish on the old retriever, which is closed when the last of them
is done (its read lease then lets the indexer delete the old folder). A new index that fails to
open leaves the old one serving; the error is logged and shown by ``/health`` and the reload call.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fastapi.concurrency import run_in_threadpool

from indexer.errors import QuarryError
from indexer.indexdir import MANIFEST, live_dir
from retriever.pipeline import Retriever
from server.settings import Settings

log = logging.getLogger(__name__)


def manifest_key(index_dir: Path) -> tuple | None:
    """Identity of the manifest now at ``index_dir`` (changes whenever an update swaps a new index in)."""
    try:
        st = os.stat(live_dir(index_dir) / MANIFEST)
    except OSError:
        return None
    return st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size


_versions: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def index_version(retriever: Retriever) -> str:
    """A short digest of the index's manifest: it names one build of the index (computed once per index)."""
    version = _versions.get(retriever.index)
    if version is None:
        manifest = json.dumps(retriever.index.manifest, sort_keys=True, ensure_ascii=False)
        version = _versions[retriever.index] = hashlib.sha256(manifest.encode()).hexdigest()[:12]
    return version


@dataclass(eq=False)
class Served:
    """One opened index and the requests using it."""

    retriever: Retriever
    key: tuple | None  # manifest identity seen before it was opened
    version: str = ""
    users: int = 0
    retired: bool = False

    def __post_init__(self) -> None:
        self.version = index_version(self.retriever)


@dataclass
class ReloadOutcome:
    reloaded: bool
    version: str
    previous: str
    error: str | None = None


class LiveIndex:
    """Holds the served retriever; every method runs on the event loop (no locks needed for counts)."""

    def __init__(self, settings: Settings, load: Callable[[Settings], Retriever]):
        self.settings = settings
        self._load = load
        self.current: Served | None = None
        self.reload_error: str | None = None  # the last failed switch, until one succeeds
        self._failed_key: tuple | None = None
        self._lock = asyncio.Lock()
        self._retired: set[Served] = set()
        self.on_switch: Callable[[], object] | None = None  # called after each switch (workers: tell the others)

    async def start(self) -> Served:
        """Open the index for the first time (errors propagate: the server must not start)."""
        self.current = await self._open()
        return self.current

    async def _open(self) -> Served:
        key = manifest_key(self.settings.index_dir)  # before opening: a later swap is seen as a change
        retriever = await run_in_threadpool(self._load, self.settings)
        try:
            if self.settings.warm_up:  # loads the model and the store before the first request
                await run_in_threadpool(retriever.ask, "warm up")
        except BaseException:
            await run_in_threadpool(retriever.index.close)
            raise
        return Served(retriever, key)

    def acquire(self) -> Served:
        served = self.current
        assert served is not None, "the index is not loaded"
        served.users += 1
        return served

    def release(self, served: Served) -> None:
        served.users -= 1
        if served.retired and served.users == 0:
            self._close(served)

    def changed(self) -> bool:
        """Whether the index on disk is not the one served (and not one that already failed to open)."""
        key = manifest_key(self.settings.index_dir)
        return key is not None and self.current is not None and key != self.current.key and key != self._failed_key

    async def reload(self, force: bool = False) -> ReloadOutcome:
        """Switch to the index now on disk if it changed (``force``: even if a previous try failed)."""
        async with self._lock:
            old = self.current
            assert old is not None
            key = manifest_key(self.settings.index_dir)
            if key == old.key or (key == self._failed_key and not force) or key is None:
                return ReloadOutcome(False, old.version, old.version, self.reload_error if key is not None else
                                     f"no index at {self.settings.index_dir} now (still serving version {old.version})")
            try:
                new = await self._open()
            except Exception as e:  # whatever it is, the old index keeps serving
                if not isinstance(e, QuarryError):
                    log.exception("opening the new index failed")
                self._failed_key = key
                self.reload_error = (f"cannot switch to the index now at {self.settings.index_dir}: {e} "
                                     f"(still serving version {old.version})")
                log.error("%s", self.reload_error)
                return ReloadOutcome(False, old.version, old.version, self.reload_error)
            self.current, self.reload_error, self._failed_key = new, None, None
            old.retired = True
            if old.users == 0:
                self._close(old)
            else:
                self._retired.add(old)  # closed by the last request using it
            log.info("now serving %s version %s (%d chunks; was %s)", self.settings.index_dir, new.version,
                     new.retriever.index.n_chunks, old.version)
            if self.on_switch is not None:
                try:
                    self.on_switch()
                except Exception:  # the switch is done: a failing notice must not undo or hide it
                    log.exception("telling the other workers about the switch failed")
            return ReloadOutcome(True, new.version, old.version)

    async def watch(self, every: float) -> None:
        """Poll the manifest's identity; reload when it changes. Runs until cancelled."""
        while True:
            await asyncio.sleep(every)
            try:
                if self.changed():
                    await self.reload()
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug here must not stop the watch (or the server)
                log.exception("checking %s for a new index failed", self.settings.index_dir)

    def _close(self, served: Served) -> None:
        self._retired.discard(served)
        try:
            served.retriever.index.close()
        except Exception:
            log.exception("closing the previous index failed")

    def close(self) -> None:
        for served in [*self._retired, *([self.current] if self.current else [])]:
            self._close(served)
        self.current = None
