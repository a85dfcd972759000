"""File-system steps that keep an index safe: directory fsync, atomic folder swap, a writer lock,
and read leases that keep a replaced index on disk while a reader (a server) still uses it."""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import fcntl
import logging
import os
import shutil
import stat
import time
from contextlib import contextmanager
from pathlib import Path

from indexer.errors import IndexLocked

log = logging.getLogger(__name__)

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
_PROC_FD = Path("/proc/self/fd")


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
        retire_dir(new, target)  # ``new`` now holds the old index
    else:
        # Fallback: two renames; recover_dir() puts the old folder back if we die in between.
        old = target.parent / f".{target.name}.old"
        if old.exists():
            retire_dir(old, target)
        os.rename(target, old)
        os.rename(new, target)
        retire_dir(old, target)
    fsync_dir(target.parent)


def retire_dir(old: Path, target: Path) -> None:
    """Delete ``old``, a replaced index folder of ``target``, unless a reader holds a lease on it
    (:class:`ReadLease`): then move it aside, to ``.NAME.retired-*``, where :func:`sweep` deletes it
    once it is released."""
    if not _delete_unleased(old):
        aside = target.parent / f".{target.name}.retired-{os.getpid()}-{time.time_ns()}"
        os.rename(old, aside)
        log.info("kept the previous index at %s: a reader still uses it", aside)


def sweep(target: Path) -> None:
    """Delete what earlier runs left beside ``target`` (temporary folders of killed runs, retired
    indexes) unless a reader still holds a lease on it. Call with the writer lock held."""
    target = Path(target)
    for pattern in (f".{target.name}.tmp-*", f".{target.name}.retired-*"):
        for stale in target.parent.glob(pattern):
            if stale.is_dir() and not stale.is_symlink():
                _delete_unleased(stale)


def _delete_unleased(path: Path) -> bool:
    """Delete folder ``path`` unless a reader holds a lease on it; False if it is kept."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except FileNotFoundError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    else:
        shutil.rmtree(path, ignore_errors=True)
        return True
    finally:
        os.close(fd)


class ReadLease:
    """A reader's hold on one index folder: an open descriptor of the folder with a shared lock.

    While it is held, a writer that replaces the folder keeps it on disk (:func:`retire_dir`), and
    ``root`` (``/proc/self/fd/N`` on Linux) keeps naming that folder wherever it is moved, so files
    opened later (SQLite connections of new threads) come from the index the reader opened, never
    from a newer one. ``None`` from :meth:`take` when there is no folder at ``path``.
    """

    def __init__(self, fd: int, path: Path):
        self.fd = fd
        self.root = _PROC_FD / str(fd) if _PROC_FD.is_dir() else path

    @classmethod
    def take(cls, path: Path, attempts: int = 3) -> ReadLease | None:
        for _ in range(attempts):
            try:
                fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
            except (FileNotFoundError, NotADirectoryError):
                return None
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:  # a writer is deleting this folder: it was just replaced, look again
                os.close(fd)
                continue
            return cls(fd, Path(path))
        return None

    def still_at(self, path: Path) -> bool:
        """Whether the folder at ``path`` is still the leased one (a replaced folder never comes back)."""
        try:
            st, mine = os.stat(path), os.fstat(self.fd)
        except OSError:
            return False
        return (st.st_dev, st.st_ino) == (mine.st_dev, mine.st_ino)

    def same_file(self, path: str | os.PathLike, name: str) -> bool:
        """Whether ``path`` is the file ``name`` of the leased folder."""
        try:
            st, mine = os.stat(path), os.stat(name, dir_fd=self.fd)
        except OSError:
            return False
        return (st.st_dev, st.st_ino) == (mine.st_dev, mine.st_ino)

    def release(self) -> None:
        fd, self.fd = self.fd, -1
        if fd >= 0:
            os.close(fd)  # closing the descriptor drops the lock

    def __del__(self) -> None:
        try:
            self.release()
        except Exception:  # at interpreter exit
            pass


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
    """Hold an exclusive lock for writing ``index_dir``; fail at once if another writer has it.

    The lock is taken on the resolved path (symlinks followed): one folder, one lock, however it is named.
    """
    shown, index_dir = index_dir, Path(os.path.realpath(index_dir))
    index_dir.parent.mkdir(parents=True, exist_ok=True)
    lock_path = index_dir.parent / f".{index_dir.name}.lock"
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IndexLocked(f"another indexer is updating {shown}"
                              + (f" ({index_dir})" if Path(shown) != index_dir else ""), index_dir,
                              "Wait for it to finish, then run again") from None
        yield
    finally:
        os.close(fd)


def open_regular(path: Path):
    """Open ``path`` for reading as a binary file object, refusing anything but a regular file.

    The file is opened with O_NONBLOCK (a file swapped for a FIFO after the scan does not hang
    the open) and checked on the descriptor itself (fstat), so what is read is what was checked.
    A non-regular file raises OSError (so it is skipped like an unreadable file).
    """
    fh = open(path, "rb", opener=_open_nonblocking)  # noqa: SIM115 (returned to the caller)
    try:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise OSError(errno.EINVAL, "not a regular file (a pipe, socket or device)", str(path))
        os.set_blocking(fh.fileno(), True)
        return fh
    except BaseException:
        fh.close()
        raise


def _open_nonblocking(path: str, flags: int) -> int:
    return os.open(path, flags | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))


def human_bytes(n: int) -> str:
    """A byte count for people: 812 B, 19.4 KB, 3.2 MB, 1.1 GB."""
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"
