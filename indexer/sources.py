"""Finding and reading the documents of a folder: which files, their bytes, hash and text."""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from indexer.errors import FileSkipped, SourceError
from indexer.formats import EXTENSIONS, Region, extract, supported

log = logging.getLogger(__name__)

__all__ = ["EXTENSIONS", "Document", "Skipped", "SourceFile", "find_files", "read_document", "skip_reason"]


@dataclass(frozen=True)
class SourceFile:
    """A file found in the folder: where it is and what it is called in citations."""

    path: Path
    source: str  # relative to the folder, '/'-separated


@dataclass(frozen=True)
class Document:
    """A decoded document: ``text`` is what every offset indexes.

    ``regions`` cut the text into pages and sections (empty: none); ``note`` is something the
    summary should say (e.g. "not UTF-8: decoded as cp1252").
    """

    source: str
    sha256: str
    size: int
    text: str
    regions: tuple[Region, ...] = ()
    note: str | None = None


@dataclass(frozen=True)
class Skipped:
    """A file that was not indexed, and why."""

    source: str
    reason: str


def find_files(root: Path) -> tuple[list[SourceFile], list[Skipped]]:
    """The indexable files under ``root``, sorted by relative path, and the files passed over.

    Directory symlinks are not followed (no loops, nothing outside the folder) and are listed as
    skipped, as are symlink loops, broken links, special files and unsupported extensions. Hidden
    files and folders (a name starting with ".") are ignored without a mention.
    """
    root = Path(root)
    if not root.exists():
        raise SourceError(f"source folder not found: {root}")
    if not root.is_dir():
        raise SourceError(f"not a folder: {root}")
    found: list[SourceFile] = []
    skipped: list[Skipped] = []

    def on_error(err: OSError) -> None:
        skipped.append(Skipped(_rel(root, Path(err.filename or root)), f"cannot list: {err.strerror}"))

    for dirpath, dirnames, filenames in os.walk(root, onerror=on_error):
        keep = []
        for d in sorted(dirnames):
            if d.startswith("."):
                continue
            if os.path.islink(os.path.join(dirpath, d)):
                skipped.append(Skipped(_rel(root, Path(dirpath) / d), "directory symlink, not followed"))
            else:
                keep.append(d)
        dirnames[:] = keep
        for name in filenames:
            if name.startswith("."):
                continue
            path = Path(dirpath) / name
            reason = _not_indexable(path)
            if reason:
                skipped.append(Skipped(_rel(root, path), reason))
            else:
                found.append(SourceFile(path, _rel(root, path)))
    found.sort(key=lambda f: f.source)
    skipped.sort(key=lambda s: s.source)
    return found, skipped


def _not_indexable(path: Path) -> str | None:
    """Why the directory entry ``path`` cannot be indexed, or None when it can be read as a document."""
    try:
        st = os.stat(path)  # follows a file symlink
    except OSError as e:
        if e.errno == errno.ELOOP:
            return "symlink loop"
        if e.errno == errno.ENOENT:
            return "broken symlink" if os.path.islink(path) else "vanished while scanning"
        return f"cannot read: {e.strerror or e}"
    if stat.S_ISDIR(st.st_mode):
        return "directory symlink, not followed"
    if not supported(path.name):
        return f"unsupported extension {path.suffix.lower() or '(none)'}"
    if not stat.S_ISREG(st.st_mode):
        return "not a regular file (a pipe, socket or device)"
    return None


def _rel(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def read_bytes(f: SourceFile) -> tuple[bytes, str]:
    """The file's bytes and their sha256."""
    data = f.path.read_bytes()
    return data, hashlib.sha256(data).hexdigest()


def read_document(f: SourceFile) -> Document:
    """Read, decode or extract one file.

    Raises ``OSError`` when the file cannot be read and ``FileSkipped`` when it holds nothing to
    index (binary, undecodable, empty, damaged, or its format's library is not installed);
    ``skip_reason`` turns either into the summary's words.
    """
    data, digest = read_bytes(f)
    out = extract(f.source, data)
    if out.note:
        log.info("%s: %s", f.source, out.note)
    return Document(f.source, digest, len(data), out.text, out.regions, out.note)


def decode(f: SourceFile, data: bytes) -> str:
    """The text offsets index for a file's bytes (without its regions: prefer ``read_document``)."""
    return extract(f.source, data).text


def skip_reason(e: OSError | SourceError) -> str:
    """A few words for the summary about why a file could not be read or indexed."""
    if isinstance(e, FileSkipped):
        return e.reason
    if isinstance(e, FileNotFoundError):
        return "vanished while indexing"
    if isinstance(e, PermissionError):
        return "cannot read: permission denied"
    if isinstance(e, OSError):
        return f"cannot read: {e.strerror or e}"
    return str(e)


def iter_documents(files: list[SourceFile]) -> Iterator[Document | Skipped]:
    """Read each file; unreadable or unindexable files come back as ``Skipped``."""
    for f in files:
        try:
            yield read_document(f)
        except (OSError, SourceError) as e:
            yield Skipped(f.source, skip_reason(e))
