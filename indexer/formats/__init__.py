"""File formats: each reader turns a file's bytes into the text the index stores, with regions.

Text formats (.txt, .md) are stored as decoded, so offsets index the file itself; PDF, DOCX and
HTML are stored as their extracted text, which offsets index (``python -m indexer --show-text``).
"""

from __future__ import annotations

from pathlib import PurePosixPath

from indexer.errors import FileSkipped
from indexer.formats.layout import Extracted, Region
from indexer.formats.registry import EXTENSIONS, READERS

__all__ = ["EXTENSIONS", "READERS", "Extracted", "Region", "extract", "format_of", "supported"]


def format_of(name: str) -> str | None:
    """The extension whose reader reads the file ``name`` (lower case, with its dot), or None.

    A name with no extension ("README", "COPYING", "GPL-3") or a number for one ("Apache-2.0",
    "MPL-1.1", "notes.2") is read as plain text, as such files in a documentation folder are; a
    binary one is skipped when read (NUL bytes).
    """
    suffix = PurePosixPath(name).suffix.lower()
    if suffix in READERS:
        return suffix
    if not suffix or suffix[1:].isdigit():
        return ".txt"
    return None


def supported(name: str) -> bool:
    """Whether quarry reads a file of this name (:func:`format_of`)."""
    return format_of(name) is not None


def extract(source: str, data: bytes, encoding: str | None = None) -> Extracted:
    """The text and regions of the file ``source`` (its name picks the reader) holding ``data``.

    ``encoding`` decodes text files (.txt, .md, .html) that are not UTF-8 instead of a guess.
    Raises ``FileSkipped`` with a short reason when the file cannot be indexed.
    """
    from indexer.formats.registry import reader

    ext = format_of(source)
    if ext is None:
        raise FileSkipped(source, f"unsupported extension {PurePosixPath(source).suffix.lower()}")
    if not data:
        raise FileSkipped(source, "empty file")
    mod = reader(ext)
    out = (mod.extract(source, data, encoding=encoding) if encoding and getattr(mod, "TAKES_ENCODING", False)
           else mod.extract(source, data))
    if not out.text.strip():
        raise FileSkipped(source, "no text (only white space)")
    return out
