"""File-system steps that keep an index safe: directory fsync, atomic folder swap, a writer lock."""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import fcntl
import logging
import os
import shutil
from contextlib import contextmanager
from pathlib import Path

from indexer.errors import IndexLocked

log = logging.getLogger(__name__)

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths with Linux renameat2(RENAME_EXCHANGE); False if unsupported."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    rc = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def replace_dir(new: Path, target: Path) -> None:
    """Put folder ``new`` at ``target``, replacing what is there, so that a reader of ``target``
    sees either the old folder or the new one, whole, at every instant (and after a crash)."""
    new, target = Path(new), Path(target)
    if not target.exists():
        os.rename(new, target)
    elif _exchange(new, target):
        shutil.rmtree(new)  # ``new`` now holds the old index
    else:
        # Fallback: two renames; recover_dir() puts the old folder back if we die in between.
        old = target.parent / f".{target.name}.old"
        if old.exists():
            shutil.rmtree(old)
        os.rename(target, old)
        os.rename(new, target)
        shutil.rmtree(old)
    fsync_dir(target.parent)


def recover_dir(target: Path) -> None:
    """After a crash between the fallback's two renames, put the previous index back."""
    target = Path(target)
    old = target.parent / f".{target.name}.old"
    if not target.exists() and old.is_dir():
        log.warning("restoring the previous index at %s after an interrupted update", target)
        os.rename(old, target)


def live_dir(target: Path) -> Path:
    """Where the current index is: ``target``, or the previous folder a crash left at ``.NAME.old``
    between the fallback's two renames (readers use it read-only; the next writer restores it)."""
    target = Path(target)
    old = target.parent / f".{target.name}.old"
    if not target.exists() and (old / "manifest.json").is_file():
        return old
    return target


@contextmanager
def writer_lock(index_dir: Path):
    """Hold an exclusive lock for writing ``index_dir``; fail at once if another writer has it."""
    index_dir = Path(index_dir)
    index_dir.parent.mkdir(parents=True, exist_ok=True)
    lock_path = index_dir.parent / f".{index_dir.name}.lock"
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IndexLocked(f"another indexer is updating {index_dir}", index_dir,
                              "Wait for it to finish, then run again") from None
        yield
    finally:
        os.close(fd)
