"""File formats: each reader turns a file's bytes into the text the index stores, with regions.

Text formats (.txt, .md) are stored as decoded, so offsets index the file itself; PDF, DOCX and
HTML are stored as their extracted text, which offsets index (``python -m indexer --show-text``).
"""

from __future__ import annotations

from pathlib import PurePosixPath

from indexer.errors import FileSkipped
from indexer.formats.layout import Extracted, Region
from indexer.formats.registry import EXTENSIONS, READERS

__all__ = ["EXTENSIONS", "READERS", "Extracted", "Region", "extract", "supported"]


def supported(name: str) -> bool:
    """Whether a file name has an extension quarry reads."""
    return PurePosixPath(name).suffix.lower() in READERS


def extract(source: str, data: bytes, encoding: str | None = None) -> Extracted:
    """The text and regions of the file ``source`` (its name picks the reader) holding ``data``.

    ``encoding`` decodes text files (.txt, .md, .html) that are not UTF-8 instead of a guess.
    Raises ``FileSkipped`` with a short reason when the file cannot be indexed.
    """
    from indexer.formats.registry import reader

    ext = PurePosixPath(source).suffix.lower()
    if ext not in READERS:
        raise FileSkipped(source, f"unsupported extension {ext or '(none)'}")
    if not data:
        raise FileSkipped(source, "empty file")
    mod = reader(ext)
    out = (mod.extract(source, data, encoding=encoding) if encoding and getattr(mod, "TAKES_ENCODING", False)
           else mod.extract(source, data))
    if not out.text.strip():
        raise FileSkipped(source, "no text (only white space)")
    return out
