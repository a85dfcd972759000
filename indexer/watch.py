"""Watch mode: build the index, then update it whenever a file in the folder changes, until Ctrl-C.

Changes are gathered (debounced) by watchfiles, so saving ten files is one update; each update is
the usual incremental build (only changed files re-embedded, the new index swapped in atomically),
and a running server switches to it by itself (server/live.py). The index folder, its temporary
siblings and its lock are never watched, even inside the source folder. A build that fails (say,
every file was deleted) is reported and the previous index stays; watching goes on. Ctrl-C or
SIGTERM stops it (exit status 0); an update it interrupts leaves the previous index in place.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def index_paths_filter(index_dir: str | Path) -> Callable[[Any, str], bool]:
    """watchfiles' default filter (editor swap files, .git, __pycache__ ...) that also drops the index's own
    files: ``index_dir`` itself and its siblings ``.NAME.tmp-*``, ``.NAME.old``, ``.NAME.lock`` ...
    e.g. with index ``docs/.idx``, a change to ``docs/..idx.tmp-1/chunks.sqlite`` is not a change."""
    from watchfiles import DefaultFilter

    default = DefaultFilter()
    index_dir = Path(index_dir).resolve()
    own_prefix = f".{index_dir.name}."

    def keep(change, path: str) -> bool:
        p = Path(path).resolve()
        if p == index_dir or index_dir in p.parents:
            return False
        for q in (p, *p.parents):
            if q.parent == index_dir.parent and q.name.startswith(own_prefix):
                return False
        return default(change, path)

    return keep


def watch_and_index(source_dir: str | Path, index_dir: str | Path, encoder, debounce_ms: int = 1000,
                    build_options: dict | None = None, first_options: dict | None = None,
                    stop_event: threading.Event | None = None, out=None) -> int:
    """Build ``index_dir`` from ``source_dir`` now (with ``first_options`` added, e.g. ``rebuild``), then
    again after each change, until Ctrl-C or ``stop_event``. The exit status: 0, or 1 when the first
    build fails (nothing is watched then)."""
    from watchfiles import watch

    from indexer.build import build_index
    from indexer.errors import QuarryError

    out = out or sys.stdout
    options = dict(build_options or {})
    previous = _stop_on_sigterm()

    def update(extra: dict) -> bool:
        try:
            report = build_index(source_dir, index_dir, encoder=encoder, **options, **extra)
        except QuarryError as e:
            print(f"error: {e}", file=sys.stderr, flush=True)
            return False
        show_report(report, out)
        return True

    try:
        if not update(first_options or {}):
            return 1
        print(f"watching {Path(source_dir).resolve()} for changes (Ctrl-C stops)", file=out, flush=True)
        for changes in watch(source_dir, watch_filter=index_paths_filter(index_dir), debounce=debounce_ms,
                             stop_event=stop_event, raise_interrupt=True):
            print(f"changed: {_names(changes, source_dir)}", file=out, flush=True)
            update({})
    except KeyboardInterrupt:
        print("stopped watching; the index holds the last completed update", file=out, flush=True)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return 0


def _stop_on_sigterm():
    """SIGTERM (a service manager, ``kill``) stops watching as Ctrl-C does: an update under way is abandoned
    and the previous index stays. Returns the handler it replaced (None off the main thread: none set)."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def stop(signum, frame):
        raise KeyboardInterrupt

    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:  # started in the background by a shell: SIGINT
        signal.signal(signal.SIGINT, signal.default_int_handler)  # still stops watching, as documented
    return signal.signal(signal.SIGTERM, stop)


def show_report(report, out=None) -> None:
    """The build's summary, then its skipped files and notes, as ``python -m indexer`` prints them."""
    out = out or sys.stdout
    from indexer.formats import UNSUPPORTED

    print(report.summary(), file=out)
    for s in report.skipped:
        print(f"  skipped {s.source}: {s.reason}", file=out)
    unsupported = sorted({s.reason.rsplit(" ", 1)[-1] for s in report.skipped if s.reason.startswith(UNSUPPORTED)})
    if unsupported:
        print(f"  note: --text-ext EXT reads the files of an extension as plain text ({', '.join(unsupported[:5])}"
              f"{', ...' if len(unsupported) > 5 else ''} here)", file=out)
    for n in report.notes:
        print(f"  note {n.source}: {n.reason}", file=out)
    out.flush()


def _names(changes, source_dir, most: int = 5) -> str:
    """``a.txt, b/c.md (+3 more)``: the changed paths relative to the folder."""
    root = Path(source_dir).resolve()
    names = []
    for _, path in sorted(changes, key=lambda c: c[1]):
        try:
            name = Path(path).resolve().relative_to(root).as_posix()
        except ValueError:
            name = path
        if name not in names:
            names.append(name)
    more = f" (+{len(names) - most} more)" if len(names) > most else ""
    return ", ".join(names[:most]) + more
