"""Finding and reading the documents of a folder: which files, their bytes, hash and text."""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from indexer.errors import SourceError

log = logging.getLogger(__name__)

EXTENSIONS = (".txt", ".md")


@dataclass(frozen=True)
class SourceFile:
    """A file found in the folder: where it is and what it is called in citations."""

    path: Path
    source: str  # relative to the folder, '/'-separated


@dataclass(frozen=True)
class Document:
    """A decoded document: ``text`` is what every offset indexes."""

    source: str
    sha256: str
    size: int
    text: str


@dataclass(frozen=True)
class Skipped:
    """A file that was not indexed, and why."""

    source: str
    reason: str


def find_files(root: Path) -> tuple[list[SourceFile], list[Skipped]]:
    """The indexable files under ``root``, sorted by relative path, and the files passed over.

    Directory symlinks are not followed (no loops, nothing outside the folder); hidden files and
    folders are ignored.
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
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            if name.startswith("."):
                continue
            path = Path(dirpath) / name
            rel = _rel(root, path)
            if path.suffix.lower() not in EXTENSIONS:
                skipped.append(Skipped(rel, f"unsupported extension {path.suffix or '(none)'}"))
            elif not path.is_file():
                skipped.append(Skipped(rel, "not a regular file (broken link?)"))
            else:
                found.append(SourceFile(path, rel))
    found.sort(key=lambda f: f.source)
    skipped.sort(key=lambda s: s.source)
    return found, skipped


def _rel(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def read_bytes(f: SourceFile) -> tuple[bytes, str]:
    """The file's bytes and their sha256."""
    data = f.path.read_bytes()
    return data, hashlib.sha256(data).hexdigest()


def decode(f: SourceFile, data: bytes) -> str:
    """The document text: UTF-8 as it is (no newline translation), or a SourceError saying why not."""
    if b"\x00" in data[:8192]:
        raise SourceError(f"{f.source}: looks binary (NUL bytes), skipped")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SourceError(f"{f.source}: not valid UTF-8 at byte {e.start}, skipped") from None


def iter_documents(files: list[SourceFile]) -> Iterator[Document | Skipped]:
    """Read and decode each file; unreadable or undecodable files come back as ``Skipped``."""
    for f in files:
        try:
            data, digest = read_bytes(f)
            yield Document(f.source, digest, len(data), decode(f, data))
        except OSError as e:
            yield Skipped(f.source, f"cannot read: {e.strerror or e}")
        except SourceError as e:
            yield Skipped(f.source, str(e).split(": ", 1)[-1])
