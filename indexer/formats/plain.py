"""Plain text (.txt): bytes decoded as they are, in UTF-8 or a detected encoding; no newline translation."""

from __future__ import annotations

import codecs
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from indexer.errors import FileSkipped
from indexer.formats.layout import Extracted, Heading, Region, clean_title, section_regions, under
from indexer.sentences import indent

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


def known_codec(name: str) -> str:
    """The canonical name of a codec a user named (``--encoding``), or ValueError saying it is unknown."""
    codec = _codec(name)
    if codec is None:
        raise ValueError(f"unknown encoding {name!r} (Python codec names: cp1252, latin-1, cp1250, "
                         f"cp1251, utf-16, ...)")
    try:
        codecs.getincrementaldecoder(codec)
        b"x".decode(codec)
    except (LookupError, TypeError, UnicodeDecodeError):
        raise ValueError(f"{name!r} is not a text encoding") from None
    return codec


@dataclass(frozen=True)
class Decoded:
    """A file's text and how it was decoded.

    ``how``: "utf-8", "bom" (a UTF-16/32 byte-order mark), "declared" (e.g. an HTML ``<meta
    charset>``), "given" (``--encoding``) or "guessed" (charset-normalizer, with ``confidence``
    from 0 to 1 and the ``language`` it saw).
    """

    text: str
    codec: str
    how: str = "utf-8"
    confidence: float | None = None
    language: str | None = None

    def record(self) -> dict | None:
        """What the manifest keeps about the decoding (None for UTF-8)."""
        if self.codec in _UTF8_NAMES:
            return None
        out: dict = {"codec": self.codec, "how": self.how}
        if self.confidence is not None:
            out["confidence"] = self.confidence
        return out  # (not the language: charset-normalizer's is often wrong for short texts)


def decode_text(source: str, data: bytes, declared: str | None = None,
                encoding: str | None = None) -> tuple[str, str]:
    """The text of ``data`` and the codec that decoded it, or ``FileSkipped`` saying why not
    (:func:`decode_bytes` also says how the codec was chosen)."""
    d = decode_bytes(source, data, declared, encoding)
    return d.text, d.codec


def decode_bytes(source: str, data: bytes, declared: str | None = None,
                 encoding: str | None = None) -> Decoded:
    """The text of ``data`` and how it was decoded, or ``FileSkipped`` saying why not.

    In order: a UTF-16/32 byte-order mark; NUL bytes mean a binary file; the encoding the file
    declares (``declared``, e.g. an HTML ``<meta charset>``); UTF-8 (a UTF-8 BOM is kept as
    U+FEFF, so offsets stay those of the file); else ``encoding`` when the user gave one, else
    the encoding :func:`indexer.formats.encoding.guess` finds. Decoding is always strict: a file
    is never silently mangled.
    """
    if not data:
        raise FileSkipped(source, "empty file")
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return Decoded(data.decode(codec), codec, "bom")
            except UnicodeDecodeError as e:
                raise FileSkipped(source, f"starts with a {codec} byte-order mark but byte {e.start} "
                                          f"is not {codec}") from None
    if b"\x00" in data[:_SNIFF]:
        raise FileSkipped(source, "binary file (NUL bytes), not text")
    declared = _codec(declared)
    if declared and declared not in ("utf-8", "ascii"):
        try:
            return Decoded(data.decode(declared), declared, "declared")
        except UnicodeDecodeError:
            log.info("%s: declares %s but does not decode with it", source, declared)
    try:
        return Decoded(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError as e:
        bad = e.start
    if encoding:
        codec = known_codec(encoding)
        try:
            return Decoded(data.decode(codec), codec, "given")
        except UnicodeDecodeError as e:
            raise FileSkipped(source, f"not UTF-8 (byte {bad}) and not {codec} (--encoding) at byte "
                                      f"{e.start}") from None
    return _detect(source, data, bad)


def _detect(source: str, data: bytes, bad: int) -> Decoded:
    from indexer.formats.encoding import guess

    g = guess(data)
    codec = _codec(g.codec) if g is not None else None
    if g is None or codec is None:
        raise FileSkipped(source, f"not UTF-8 (byte {bad}) and no text encoding fits: binary or damaged")
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as e:
        raise FileSkipped(source, f"not UTF-8 (byte {bad}); looks like {codec} but byte {e.start} "
                                  f"is not {codec}") from None
    log.info("%s: not UTF-8, decoded as %s (a guess, confidence %.2f)", source, codec, g.confidence)
    return Decoded(text, codec, "guessed", g.confidence, g.language)


def encoding_note(codec: str | Decoded) -> str | None:
    """What the summary says about a file that was not UTF-8 (None when it was)."""
    d = codec if isinstance(codec, Decoded) else Decoded("", codec)
    if d.codec in _UTF8_NAMES:
        return None
    note = f"not UTF-8: decoded as {d.codec}"
    if d.how == "guessed":
        note += f" (a guess, confidence {d.confidence:.2f}; --encoding NAME sets it)"
    elif d.how == "given":
        note += " (--encoding)"
    return note


TAKES_ENCODING = True  # extract() takes the user's --encoding


# a plain-text heading, a paragraph of its own (blank lines around it, at most HEADING_LINES lines): numbered
# ("2.5. I have a patch ... Where do I send the patch?", "3. Usage"), underlined ("Usage" / "====="), in
# capitals at the margin ("DESCRIPTION", a manual page's section), or a title at the margin over indented text
HEADING_LINES, HEADING_CHARS = 3, 240
# (a no-break space after the number, as DocBook's text output writes "1.1.\xa0In the Beginning" and
# "Chapter\xa01.\xa0Introduction"; an appendix's "A.1.")
_NUMBERED = re.compile(r"[ \t]{0,3}(?:(?:Chapter|Appendix)[ \t\xa0]+(?P<chapter>\d{1,3}|[A-Z])|"
                       r"(?P<number>(?:\d{1,3}|[A-Z](?=\.\d))(?:\.\d{1,3})*))\.?[ \t\xa0]+\S")
# a title at the margin over text indented under it, as DocBook's text output and many FAQs lay them out
# ("General Appearance" / "   Intelligent. Scruffy. ..."; "Why do long usernames get printed as numbers?" /
# "\tThe UNIX and POSIX standards ..."): one line, at most MARGIN_TITLE_WORDS words, asking, or in title case
# with no closing stop
MARGIN_TITLE_WORDS = 12
_MARGIN_TITLE = re.compile(r"[A-Z][^\t]*")
_UNDERLINE = re.compile(r"[ \t]*(=+|-+)[ \t]*")
_CAPITALS = re.compile(r"[A-Z][A-Z0-9 ,/&()'-]{2,40}")
_ENDS_SENTENCE = re.compile(r"[.;:,!]$")
LEADER = re.compile(r"\.(?: ?\.){3,}")  # a table of contents' dot leader ("3 Basic Shell Features . . . . 5")


def blocks(text: str) -> list[tuple[int, int, list[tuple[int, int]]]]:
    """(start, end, lines) of every run of non-blank lines."""
    out: list[tuple[int, int, list[tuple[int, int]]]] = []
    run: list[tuple[int, int]] = []
    pos = 0
    for line in text.splitlines(keepends=True):
        a, b = pos, pos + len(line.rstrip("\r\n"))
        pos += len(line)
        if text[a:b].strip():
            run.append((a, b))
        elif run:
            out.append((run[0][0], run[-1][1], run))
            run = []
    if run:
        out.append((run[0][0], run[-1][1], run))
    return out


def _title_case(line: str) -> bool:
    """Whether every word of four letters or more in ``line`` opens with a capital ("Things Hackers Detest and
    Avoid"; not "For more information, read")."""
    return all(w[0].isupper() for w in re.findall(r"[^\W\d_][\w'’-]*", line) if len(w) >= 4)


def _margin_title(line: str, below: str) -> bool:
    """Whether ``line``, a paragraph of its own, is a title or a question at the margin over ``below``, the
    first line of the next paragraph, indented by two columns or more (``_MARGIN_TITLE``)."""
    title = line.rstrip()
    return bool(_MARGIN_TITLE.fullmatch(title)) and len(title.split()) <= MARGIN_TITLE_WORDS \
        and (title.endswith("?") or not _ENDS_SENTENCE.search(title) and _title_case(title)) \
        and indent(below.expandtabs()) >= 2


def number_level(title: str) -> int:
    """The parts of a heading's own number: 2 for "3.1. Powers", 1 for "3 Usage", "Chapter 3" or "Appendix A";
    0 for a title without one ("Powers").

    >>> [number_level(t) for t in ("3.1. Powers", "A.2 Scope", "Chapter 3. Usage", "Powers", "2023 Report")]
    [2, 2, 1, 0, 0]
    """
    m = _NUMBERED.match(title)
    return 0 if m is None else 1 if m["chapter"] else m["number"].count(".") + 1


# levels a heading's number may add within its type (:func:`type_level`)
NUMBER_LEVELS = 10


def type_level(rank: int, title: str) -> int:
    """The level of a heading that stands out by its type (a PDF's or a Word file's, ``rank`` its type's place
    among the document's heading types, the first 1), a level deeper for each part of its number after the
    first, so that "3.1. Powers" set in the type of "3. Developers" (in bold, say) goes under it; a heading
    without a number is at the level of a "3.", as the headings of its type were before numbers counted.

    >>> [type_level(1, t) for t in ("3. Developers", "3.1. Powers", "Appendix", "3.1.2. Vote")]
    [11, 12, 11, 13]
    """
    return NUMBER_LEVELS * rank + max(1, min(number_level(title), NUMBER_LEVELS - 1))


def headings(text: str) -> list[Heading]:
    """The headings of a plain-text file (see ``HEADING_LINES``): a numbered one that asks (a question
    heading may go on after its question: "Is it possible to un-source a script? In other words, ...") or
    reads as a title (no closing full stop, colon or comma), an underlined line (as long as its line, give
    or take 3), a line in capitals at the margin, a title or a question at the margin over indented text
    (``_MARGIN_TITLE``). Its level: the parts of its number (1 for a chapter or an appendix), 1 for "=" and
    capitals, 2 for "-" and a title at the margin."""
    out = []
    found = blocks(text)
    for i, (start, end, lines) in enumerate(found):
        below = text[slice(*found[i + 1][2][0])] if i + 1 < len(found) else None
        h = block_heading(text, start, end, lines, below)
        if h is not None:
            out.append(h)
    return out


def block_heading(text: str, start: int, end: int, lines: list[tuple[int, int]], below: str | None) -> Heading | None:
    """The heading that the block ``text[start:end]`` (its ``lines``, as :func:`blocks` gives them) is, if it is
    one (:func:`headings`); ``below``: the first line of the next block (None: there is none)."""
    first, body = text[lines[0][0]:lines[0][1]], text[start:end]
    second = text[lines[1][0]:lines[1][1]] if len(lines) == 2 else ""
    if _UNDERLINE.fullmatch(second) and abs(len(second.strip()) - len(first.strip())) <= 3:
        return Heading(start, end, 1 if "=" in second else 2, clean_title(first))
    if len(lines) > HEADING_LINES or len(body) > HEADING_CHARS or LEADER.search(body):
        return None
    m = _NUMBERED.match(first)
    if m and ("?" in body or not _ENDS_SENTENCE.search(body.rstrip())):
        return Heading(start, end, number_level(first), clean_title(body))
    if len(lines) == 1 and _CAPITALS.fullmatch(first):  # opens with a capital letter
        return Heading(start, end, 1, clean_title(first))
    if len(lines) == 1 and below is not None and _margin_title(first, below):
        return Heading(start, end, 2, clean_title(first))
    return None


# a block longer than this is never a heading (its text is not kept while streaming): a heading is at most
# HEADING_CHARS, an underlined title two lines about as long as each other
BLOCK_KEPT = 4096


def stream_regions(pieces: Iterable[str]) -> tuple[Region, ...]:
    """The section regions of a plain text that arrives as pieces (a file too large to read whole), as
    ``section_regions(text, headings(text))`` gives them for the whole ``text`` (() when it has no heading),
    in memory bounded by ``BLOCK_KEPT`` characters and the regions found; an underlined title longer than
    half of ``BLOCK_KEPT`` is the one heading it misses."""
    regions: list[Region] = []
    trail: list[tuple[int, str]] = []
    start, section, text_since, any_heading = 0, None, False, False
    # a complete block (its start, text and lines), awaiting the next one's first line
    pending: tuple[int, str, list[tuple[int, int]]] | None = None
    block: list[str] = []  # the lines of the block being read, with their breaks, while short enough to keep
    block_start, block_len, block_lines = 0, 0, 0

    def settle(below: str | None) -> None:
        """Decide the pending block, a heading or text, given the next block's first line."""
        nonlocal pending, start, section, text_since, any_heading
        if pending is None:
            return
        at, body, lines = pending
        pending = None
        h = block_heading(body, 0, len(body), lines, below) if lines else None
        if h is None or not h.title:
            text_since = True
            return
        any_heading = True
        if text_since:
            regions.append(Region(start, at, None, section))
            start = at
        section = under(trail, h)
        text_since = False

    def close(end: int) -> None:
        """The block being read ends (a blank line, or the end of the text)."""
        nonlocal pending, block, block_lines
        if not block_lines:
            return
        if block:
            body = "".join(block).rstrip("\r\n")
            lines, pos = [], 0
            for line in block:
                lines.append((pos, pos + len(line.rstrip("\r\n"))))
                pos += len(line)
            pending = (block_start, body, lines)
        else:
            pending = (block_start, "", [])
        block, block_lines = [], 0

    pos = 0
    for line, size, nonblank in _stream_lines(pieces):
        if nonblank:
            if not block_lines:
                settle(line.rstrip("\r\n") if line is not None else "")
                block_start, block_len = pos, 0
            block_lines += 1
            block_len += size
            if line is not None and block_len <= BLOCK_KEPT and block_lines <= HEADING_LINES:
                block.append(line)
            else:
                block = []
        else:
            close(pos)
        pos += size
    close(pos)
    settle(None)
    if not any_heading:
        return ()
    regions.append(Region(start, pos, None, section))
    return tuple(regions)


# where str.splitlines ends a line, as :func:`blocks` reads them (a form feed too, which quarry's line numbers do not
# count)
_LINE_ENDS = re.compile(r"\r\n|[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def _stream_lines(pieces: Iterable[str]) -> Iterator[tuple[str | None, int, bool]]:
    """The lines of a text arriving as ``pieces``, as ``str.splitlines(keepends=True)`` cuts them: each with its
    break (the last may have none), or None when it is longer than ``BLOCK_KEPT`` (it is not kept); its length;
    whether it holds anything but white space."""
    rest, size, nonblank, long = "", 0, False, False
    for piece in pieces:
        rest += piece
        at = 0
        for m in _LINE_ENDS.finditer(rest):
            if m.group() == "\r" and m.end() == len(rest):
                break  # a "\r" ending the piece may be the first half of "\r\n"
            line = rest[at:m.end()]
            yield (None if long else line), size + len(line), nonblank or bool(line.strip())
            at, size, nonblank, long = m.end(), 0, False, False
        rest = rest[at:]
        if len(rest) > BLOCK_KEPT:  # a long line: counted, not kept (its last character may be a "\r")
            size, nonblank, long = size + len(rest) - 1, nonblank or bool(rest[:-1].strip()), True
            rest = rest[-1:]
    if rest or long:
        yield (None if long else rest), size + len(rest), nonblank or bool(rest.strip())


def extract(source: str, data: bytes, encoding: str | None = None) -> Extracted:
    d = decode_bytes(source, data, encoding=encoding)
    found = headings(d.text)
    return Extracted(d.text, section_regions(d.text, found) if found else (), encoding_note(d), d.record())
