"""Finding and reading the documents of a folder: which files, their bytes, hash and text."""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import stat
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from indexer.errors import FileSkipped, SourceError
from indexer.formats import EXTENSIONS, UNSUPPORTED, Region, extension, extract, format_of, supported
from indexer.indexdir.fsutil import open_regular

log = logging.getLogger(__name__)

__all__ = ["EXTENSIONS", "Document", "Skipped", "SourceFile", "find_files", "read_document", "skip_reason"]


@dataclass(frozen=True)
class SourceFile:
    """A file found in the folder: where it is and what it is called in citations."""

    path: Path
    source: str  # relative to the folder, '/'-separated
    as_text: bool = False  # of an extension quarry reads as plain text because the user said so (--text-ext)

    @property
    def format(self) -> str | None:
        """The extension whose reader reads it (:func:`indexer.formats.format_of`), ".txt" for ``as_text``."""
        return ".txt" if self.as_text else format_of(self.path.name)


@dataclass(frozen=True)
class Document:
    """A decoded document: ``text`` is what every offset indexes.

    ``regions`` cut the text into pages and sections (empty: none); ``note`` is something the
    summary should say (e.g. "not UTF-8: decoded as cp1252"); ``encoding`` how a text file that
    is not UTF-8 was decoded (:attr:`indexer.formats.Extracted.encoding`).
    """

    source: str
    sha256: str
    size: int
    text: str
    regions: tuple[Region, ...] = ()
    note: str | None = None
    encoding: dict | None = None


@dataclass(frozen=True)
class Skipped:
    """A file that was not indexed, and why."""

    source: str
    reason: str


def find_files(root: Path, follow_links: bool = False,
               as_text: Collection[str] = ()) -> tuple[list[SourceFile], list[Skipped]]:
    """The indexable files under ``root``, sorted by relative path, and the files passed over.

    Directory symlinks are not followed (no loops, nothing outside the folder) and are listed as
    skipped, as are symlink loops, broken links, special files, unsupported extensions, names
    that are not valid UTF-8 and file symlinks that lead out of the folder (unless
    ``follow_links``); ``as_text``: more extensions read as plain text (``--text-ext``). Hidden files and
    folders (a name starting with ".") are ignored without a mention. The walk is iterative: any depth of
    nested folders is fine.
    """
    root = Path(root)
    if not root.exists():
        raise SourceError(f"source folder not found: {root}")
    if not root.is_dir():
        raise SourceError(f"not a folder: {root}")
    real_root = root.resolve()
    found: list[SourceFile] = []
    skipped: list[Skipped] = []
    links: set[str] = set()  # the found files that are symlinks
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as err:
            skipped.append(Skipped(_rel(root, folder), f"cannot list: {err.strerror or err}"))
            continue
        for entry in entries:
            name = entry.name
            if name.startswith("."):
                continue
            path = Path(entry.path)
            if not _utf8(name):
                skipped.append(Skipped(_printable(_rel(root, path)), "file name is not valid UTF-8"))
                continue
            if entry.is_dir(follow_symlinks=False):
                stack.append(path)
                continue
            if entry.is_symlink() and os.path.isdir(path):
                skipped.append(Skipped(_rel(root, path), "directory symlink, not followed"))
                continue
            reason = _not_indexable(path, as_text)
            if reason is None and not follow_links and entry.is_symlink() and not _inside(path, real_root):
                reason = "symlink to outside the folder, not followed (--follow-links follows it)"
            if reason:
                skipped.append(Skipped(_rel(root, path), reason))
            else:
                found.append(SourceFile(path, _rel(root, path), as_text=format_of(name) is None))
                if entry.is_symlink():
                    links.add(found[-1].source)
    found.sort(key=lambda f: f.source)
    if links:
        found = _without_second_names(found, links, skipped)
    skipped.sort(key=lambda s: s.source)
    return found, skipped


def _without_second_names(found: list[SourceFile], links: set[str], skipped: list[Skipped]) -> list[SourceFile]:
    """``found`` without the file symlinks (``links``, by source) to a file it already holds (under its own
    name, or by an earlier link), each listed in ``skipped``: one file indexed twice would answer twice, its
    passages doubled in every list."""
    names = {os.path.realpath(f.path): f.source for f in found if f.source not in links}
    kept = []
    for f in found:
        if f.source in links:
            target = os.path.realpath(f.path)
            if target in names:
                skipped.append(Skipped(f.source, f"symlink to {names[target]}, indexed under that name"))
                continue
            names[target] = f.source
        kept.append(f)
    return kept


def _utf8(name: str) -> bool:
    """Whether a file name (decoded by Python with surrogateescape) is valid UTF-8."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _printable(name: str) -> str:
    """A name with its undecodable bytes written as \\xNN, safe to print and store."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def _inside(path: Path, real_root: Path) -> bool:
    """Whether ``path`` resolves to somewhere inside ``real_root``."""
    try:
        return Path(os.path.realpath(path)).is_relative_to(real_root)
    except OSError:
        return False


def _not_indexable(path: Path, as_text: Collection[str] = ()) -> str | None:
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
    if not supported(path.name, as_text):
        return f"{UNSUPPORTED} {extension(path.name)}"
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
    with open_regular(f.path) as fh:
        data = fh.read()
    return data, hashlib.sha256(data).hexdigest()


def read_document(f: SourceFile, encoding: str | None = None) -> Document:
    """Read, decode or extract one file (``encoding``: for text files that are not UTF-8, instead of a guess).

    Raises ``OSError`` when the file cannot be read and ``FileSkipped`` when it holds nothing to
    index (binary, undecodable, empty, damaged, or its format's library is not installed);
    ``skip_reason`` turns either into the summary's words.
    """
    data, digest = read_bytes(f)
    out = extract(f.source, data, encoding, f.format)
    if out.note:
        log.info("%s: %s", f.source, out.note)
    return Document(f.source, digest, len(data), out.text, out.regions, out.note, out.encoding)


def decode(f: SourceFile, data: bytes) -> str:
    """The text offsets index for a file's bytes (without its regions: prefer ``read_document``)."""
    return extract(f.source, data, fmt=f.format).text


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

