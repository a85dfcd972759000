"""Reading one file as a stream of decoded text pieces, hashed as it goes, in bounded memory."""

from __future__ import annotations

import codecs
import hashlib
import logging
from collections.abc import Iterator

from indexer.errors import FileSkipped
from indexer.formats import ROFF_SKIPPED, is_roff
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
        with open_regular(self.file.path) as fh:
            while True:
                data = fh.read(self.block)
                if self.consumed < SNIFF and b"\x00" in data[:SNIFF - self.consumed]:
                    raise FileSkipped(self.file.source, "binary file (NUL bytes), not text")
                if not self.consumed and is_roff(data):
                    raise FileSkipped(self.file.source, ROFF_SKIPPED)
                self._sha.update(data)
                held = len(decoder.getstate()[0])  # bytes of an unfinished character from the last block
                try:
                    text = decoder.decode(data, final=not data)
                except UnicodeDecodeError as e:
                    at = self.consumed - held + e.start
                    raise FileSkipped(self.file.source, f"not valid {_name(self.encoding)} at byte "
                                                        f"{max(at, 0)}") from None
                self.consumed += len(data)
                if text:
                    yield text
                if not data:
                    break
        self.sha256 = self._sha.hexdigest()


def _name(encoding: str) -> str:
    name = codecs.lookup(encoding).name
    return "UTF-8" if name == "utf-8" else name


_WIDE_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def scan_file(path, block: int | None = None) -> tuple[str, bool]:
    """The sha256 of a file and whether it is plain UTF-8 text (no UTF-16/32 mark, no NUL in its
    first bytes, valid UTF-8 throughout), which :class:`TextStream` reads in bounded memory."""
    h = hashlib.sha256()
    size = block or READ_BLOCK
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    ok, first = True, True
    with open_regular(path) as fh:
        for data in iter(lambda: fh.read(size), b""):
            h.update(data)
            if first:
                ok = not data.startswith(_WIDE_BOMS) and b"\x00" not in data[:SNIFF]
                first = False
            if ok:
                try:
                    decoder.decode(data)
                except UnicodeDecodeError:
                    ok = False
    if ok:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            ok = False
    return h.hexdigest(), ok
