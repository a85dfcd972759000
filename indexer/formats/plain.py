"""Plain text (.txt): bytes decoded as they are, in UTF-8 or a detected encoding; no newline translation."""

from __future__ import annotations

import codecs
import logging

from indexer.errors import FileSkipped
from indexer.formats.layout import Extracted

log = logging.getLogger(__name__)

# Longest first: the UTF-32-LE mark begins with the UTF-16-LE one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)
_SNIFF = 8192  # bytes looked at for NUL bytes (binary files)
_UTF8_NAMES = {"utf-8", "utf8", "utf_8", "ascii", "us-ascii"}


def _codec(name: str | None) -> str | None:
    """The canonical codec name, or None when Python does not know ``name``."""
    try:
        return codecs.lookup(name).name if name else None
    except LookupError:
        return None


def decode_text(source: str, data: bytes, declared: str | None = None) -> tuple[str, str]:
    """The text of ``data`` and the codec that decoded it, or ``FileSkipped`` saying why not.

    In order: a UTF-16/32 byte-order mark; NUL bytes mean a binary file; the encoding the file
    declares (``declared``, e.g. an HTML ``<meta charset>``); UTF-8 (a UTF-8 BOM is kept as
    U+FEFF, so offsets stay those of the file); else the encoding charset-normalizer detects.
    Decoding is always strict: a file is never silently mangled.
    """
    if not data:
        raise FileSkipped(source, "empty file")
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec), codec
            except UnicodeDecodeError as e:
                raise FileSkipped(source, f"starts with a {codec} byte-order mark but byte {e.start} "
                                          f"is not {codec}") from None
    if b"\x00" in data[:_SNIFF]:
        raise FileSkipped(source, "binary file (NUL bytes), not text")
    declared = _codec(declared)
    if declared and declared not in ("utf-8", "ascii"):
        try:
            return data.decode(declared), declared
        except UnicodeDecodeError:
            log.info("%s: declares %s but does not decode with it", source, declared)
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as e:
        bad = e.start
    return _detect(source, data, bad)


def _detect(source: str, data: bytes, bad: int) -> tuple[str, str]:
    import charset_normalizer

    best = charset_normalizer.from_bytes(data).best()
    codec = _codec(best.encoding) if best is not None else None
    if codec is None:
        raise FileSkipped(source, f"not UTF-8 (byte {bad}) and no text encoding fits: binary or damaged")
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as e:
        raise FileSkipped(source, f"not UTF-8 (byte {bad}); looks like {codec} but byte {e.start} "
                                  f"is not {codec}") from None
    log.info("%s: not UTF-8, decoded as %s", source, codec)
    return text, codec


def encoding_note(codec: str) -> str | None:
    """What the summary says about a file that was not UTF-8 (None when it was)."""
    return None if codec in _UTF8_NAMES else f"not UTF-8: decoded as {codec}"


def extract(source: str, data: bytes) -> Extracted:
    text, codec = decode_text(source, data)
    return Extracted(text, (), encoding_note(codec))
