"""Reading one file as a stream of decoded text pieces, hashed as it goes, in bounded memory."""

from __future__ import annotations

import codecs
import hashlib
import logging
from collections.abc import Callable, Iterator

from indexer.errors import FileSkipped
from indexer.formats import GZIP, ROFF_SKIPPED, gunzipped, is_roff
from indexer.indexdir.fsutil import open_regular
from indexer.sources import SourceFile

log = logging.getLogger(__name__)

READ_BLOCK = 1 << 18  # bytes read at a time
SNIFF = 8192  # leading bytes checked for NUL (binary files)


class TextStream:
    """The text of ``f`` as pieces of about ``block`` bytes each (default ``READ_BLOCK``), decoded strictly.

    Iterate once; afterwards ``sha256`` and ``size`` describe the bytes that were read, and
    ``consumed`` tells how many bytes have been read so far (for progress). A file that is binary
    or not valid in ``encoding`` raises FileSkipped (possibly after some pieces were yielded:
    callers discard what they wrote of it); a read failure raises OSError.
    """

    def __init__(self, f: SourceFile, encoding: str = "utf-8", block: int | None = None):
        self.file = f
        self.encoding = encoding
        self.block = block or READ_BLOCK
        self.consumed = 0
        self._sha = hashlib.sha256()
        self.sha256: str | None = None

    @property
    def size(self) -> int:
        return self.consumed

    def __iter__(self) -> Iterator[str]:
        decoder = codecs.getincrementaldecoder(self.encoding)("strict")
        text_bytes = 0  # of the text: the file's, or what a gzip file holds
        with open_regular(self.file.path) as fh:

            def seen(data: bytes) -> None:
                self._sha.update(data)
                self.consumed += len(data)

            blocks = text_blocks(iter(lambda: fh.read(self.block), b""), self.file.path.name, self.file.source, seen)
            for data in _with_end(blocks):
                if text_bytes < SNIFF and b"\x00" in data[:SNIFF - text_bytes]:
                    raise FileSkipped(self.file.source, "binary file (NUL bytes), not text")
                if not text_bytes and is_roff(data):
                    raise FileSkipped(self.file.source, ROFF_SKIPPED)
                held = len(decoder.getstate()[0])  # bytes of an unfinished character from the last block
                try:
                    text = decoder.decode(data, final=not data)
                except UnicodeDecodeError as e:
                    at = text_bytes - held + e.start
                    raise FileSkipped(self.file.source, f"not valid {_name(self.encoding)} at byte "
                                                        f"{max(at, 0)}") from None
                text_bytes += len(data)
                if text:
                    yield text
        self.sha256 = self._sha.hexdigest()


def text_blocks(raw: Iterator[bytes], name: str, source: str, seen: Callable[[bytes], None]) -> Iterator[bytes]:
    """The bytes of the text a file named ``name`` holds, from its ``raw`` blocks (each given to ``seen`` as it is
    read: its hash, its progress): a gzip file's decompressed, its offsets those of the text it holds, as read
    whole (:func:`indexer.formats.gunzipped`)."""

    def tapped() -> Iterator[bytes]:
        for data in raw:
            seen(data)
            yield data

    return gunzipped(tapped(), source) if name.lower().endswith(GZIP) else tapped()


def _with_end(blocks: Iterator[bytes]) -> Iterator[bytes]:
    """The blocks that hold bytes, then b"" (the end)."""
    for data in blocks:
        if data:
            yield data
    yield b""


def _name(encoding: str) -> str:
    name = codecs.lookup(encoding).name
    return "UTF-8" if name == "utf-8" else name


_WIDE_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def scan_file(path, block: int | None = None) -> tuple[str, bool, int]:
    """The sha256 of a file, whether it is plain UTF-8 text (no UTF-16/32 mark, no NUL in its first bytes, valid
    UTF-8 throughout), which :class:`TextStream` reads in bounded memory, and the size of that text in bytes: a
    gzip file's (``.gz``) is the text it holds (0 and not plain when it is damaged: read whole, it says so)."""
    h = hashlib.sha256()
    size = block or READ_BLOCK
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    ok, text_bytes = True, 0
    with open_regular(path) as fh:
        raw = iter(lambda: fh.read(size), b"")
        blocks = text_blocks(raw, str(path), str(path), h.update)
        try:
            for data in blocks:
                if not text_bytes:
                    ok = not data.startswith(_WIDE_BOMS) and b"\x00" not in data[:SNIFF]
                text_bytes += len(data)
                if ok:
                    try:
                        decoder.decode(data)
                    except UnicodeDecodeError:
                        ok = False
        except FileSkipped:
            ok = False
            for data in raw:  # the rest of the file, for its sha256
                h.update(data)
    if ok:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            ok = False
    return h.hexdigest(), ok, text_bytes
