"""File formats: each reader turns a file's bytes into the text the index stores, with regions.

Text formats (.txt, .md) are stored as decoded, so offsets index the file itself; PDF, DOCX and
HTML are stored as their extracted text, which offsets index (``python -m indexer --show-text``).
A gzip-compressed file (``FAQ.txt.gz``, ``README.gz``) is read as the file it holds, and offsets index
its decompressed text (what ``zcat`` prints).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Collection, Iterable, Iterator
from pathlib import PurePosixPath

from indexer.errors import FileSkipped
from indexer.formats.layout import Extracted, Region
from indexer.formats.registry import EXTENSIONS, READERS

__all__ = ["EXTENSIONS", "READERS", "Extracted", "Region", "extension", "extract", "format_of", "gunzip", "gunzipped",
           "is_roff", "supported", "text_extension", "UNSUPPORTED"]

# a documentation folder's plain-text files named for what they are, with a suffix of their own
# ("README.Debian", "NEWS.Debian", "changelog.Debian.amd64", "README.source")
_DOC_NAME = re.compile(r"(?:readme|news|changelog|changes|todo|install|faq|copying|authors|thanks|bugs|"
                       r"hacking|notice|licen[cs]e)\.[a-z]\w*(?:\.\w+)*$", re.I)
GZIP = ".gz"
UNSUPPORTED = "unsupported extension"  # how a skip for a file's extension opens (the extension follows)
MAX_GUNZIPPED = 256 << 20  # bytes a compressed file may hold; more is refused (a decompression bomb)
# a manual page's roff source (grep.1.gz): a comment line, a title macro, a link to another page
_ROFF = re.compile(rb"\A(?:\.\\\"|'\\\"|\.(?:TH|Dd|so)[ \t])")
ROFF_SKIPPED = "a manual page's roff source: index it as text (MANWIDTH=80 man -l FILE | col -bx > NAME.txt)"


def is_roff(head: bytes) -> bool:
    """Whether a file opening with ``head`` is roff source (a manual page before ``man`` renders it)."""
    return _ROFF.match(head) is not None


def format_of(name: str, as_text: Collection[str] = ()) -> str | None:
    """The extension whose reader reads the file ``name`` (lower case, with its dot), or None.

    A name with no extension ("README", "COPYING", "GPL-3"), a number for one ("Apache-2.0",
    "MPL-1.1", "notes.2") or a documentation file's name with a suffix of its own ("README.Debian",
    "changelog.Debian") is read as plain text, as such files in a documentation folder are; a binary
    one is skipped when read (NUL bytes). A gzip file is read as the file it holds ("FAQ.txt.gz").
    ``as_text``: more extensions read as plain text (:func:`text_extension`: ".tex", ".log"; ``--text-ext``).
    """
    suffix = PurePosixPath(name).suffix.lower()
    if suffix == GZIP:  # the file it holds: "FAQ.txt.gz", "README.gz"; not an archive ("docs.tar.gz")
        inner = name[: -len(GZIP)]
        return None if not PurePosixPath(inner).name or inner.lower().endswith(GZIP) else format_of(inner, as_text)
    if suffix in READERS:
        return suffix
    if suffix in as_text:
        return ".txt"
    if not suffix or suffix[1:].isdigit() or _DOC_NAME.match(PurePosixPath(name).name):
        return ".txt"
    return None


def extension(name: str) -> str:
    """A file's extension as a skip message names it: a compressed file's with the one it holds (".ps.gz")."""
    path = PurePosixPath(name)
    suffix = path.suffix.lower()
    inner = PurePosixPath(path.stem).suffix.lower() if suffix == GZIP else ""
    return inner + suffix


def supported(name: str, as_text: Collection[str] = ()) -> bool:
    """Whether quarry reads a file of this name (:func:`format_of`)."""
    return format_of(name, as_text) is not None


def text_extension(value: str) -> str:
    """A file extension to read as plain text, as ``--text-ext`` takes it ("tex", ".LOG"), lower case with its
    dot; ValueError for one that is no extension or that quarry already reads (".md", ".gz").

    >>> text_extension("TEX"), text_extension(".log")
    ('.tex', '.log')
    """
    ext = "." + value.strip().lower().lstrip(".")
    if ext == "." or not re.fullmatch(r"\.[\w.+-]+", ext) or ext.endswith("."):
        raise ValueError(f"not a file extension: {value!r} (say: .tex)")
    if ext in READERS or ext == GZIP:
        raise ValueError(f"{ext} files are read already" + (" (a compressed file as the file it holds)"
                                                             if ext == GZIP else ""))
    return ext


def extract(source: str, data: bytes, encoding: str | None = None, fmt: str | None = None) -> Extracted:
    """The text and regions of the file ``source`` (its name picks the reader, or ``fmt``: an extension such as
    ".txt", for a file read as plain text by the user's choice) holding ``data``.

    ``encoding`` decodes text files (.txt, .md, .html) that are not UTF-8 instead of a guess.
    Raises ``FileSkipped`` with a short reason when the file cannot be indexed.
    """
    from indexer.formats.registry import reader

    ext = fmt or format_of(source)
    if ext is None:
        raise FileSkipped(source, f"{UNSUPPORTED} {extension(source)}")
    if not data:
        raise FileSkipped(source, "empty file")
    if source.lower().endswith(GZIP):
        data = gunzip(source, data)
        if not data:
            raise FileSkipped(source, "empty file (once decompressed)")
    if ext == ".txt" and is_roff(data):
        raise FileSkipped(source, ROFF_SKIPPED)
    mod = reader(ext)
    out = (mod.extract(source, data, encoding=encoding) if encoding and getattr(mod, "TAKES_ENCODING", False)
           else mod.extract(source, data))
    if not out.text.strip():
        raise FileSkipped(source, "no text (only white space)")
    return out


def gunzip(source: str, data: bytes, limit: int = MAX_GUNZIPPED) -> bytes:
    """The bytes a gzip file holds (every member of a concatenated one), or ``FileSkipped`` when it is
    damaged, cut short, or holds more than ``limit`` bytes."""
    return b"".join(gunzipped([data], source, limit))


def gunzipped(blocks: Iterable[bytes], source: str, limit: int = MAX_GUNZIPPED) -> Iterator[bytes]:
    """The bytes a gzip file arriving as ``blocks`` holds, a piece at a time (:func:`gunzip`; a large one is
    read so, in bounded memory: :class:`indexer.stream.TextStream`)."""
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    size, member, first = 0, False, True  # member: some of the current member's bytes were read
    for data in blocks:
        while data:
            if not member:
                if not first:
                    data = data.lstrip(b"\0")  # some writers pad a member with NUL bytes
                    if not data:
                        break
                member, first = True, False
            try:
                out = d.decompress(data, limit - size + 1)
            except zlib.error as e:
                raise FileSkipped(source, f"damaged gzip file ({e})") from None
            size += len(out)
            if size > limit:
                raise FileSkipped(source, f"holds more than {limit >> 20} MB once decompressed")
            if out:
                yield out
            if d.eof:
                data, d, member = d.unused_data, zlib.decompressobj(16 + zlib.MAX_WBITS), False
            else:
                data = d.unconsumed_tail
    if member:
        raise FileSkipped(source, "damaged gzip file (cut short)")
