"""PDF (.pdf): the text of each page, extracted by pypdf, pages joined by a form-feed line; a page's running
header and footer (a line that heads or foots three pages or more, a bare page number) left out, and a word
hyphenated at a line break made whole."""

from __future__ import annotations

import io
import logging
import re
from collections import Counter

from indexer.errors import FileSkipped
from indexer.formats.layout import Extracted, clean_extracted, page_regions
from indexer.formats.registry import require
from indexer.sentences import PAGE_BREAK_LINE

log = logging.getLogger(__name__)

# Between two pages: a line holding only a form feed (the page break of `pdftotext`), so a page always
# starts on a new line; a sentence runs on over it where the lines around it wrap (indexer.sentences).
PAGE_BREAK = f"\n{PAGE_BREAK_LINE}\n"
RUNNING_PAGES = 3  # a first or last line on this many pages is a running header or footer
# a page's number alone: "6", "Page 6 of 40", "xiv" (a proper Roman numeral, not any word of its letters)
_PAGE_NUMBER = re.compile(r"(?:page\s+)?(?:\d{1,4}|(?=[ivxlcdm])m{0,3}(?:cm|cd|d?c{0,3})(?:xc|xl|l?x{0,3})"
                          r"(?:ix|iv|v?i{0,3}))(?:\s+of\s+\d{1,4})?", re.I)
_DIGITS = re.compile(r"\d+")


def _shape(line: str) -> str:
    """A line as running headers and footers are compared: numbers as "#", white space collapsed."""
    return _DIGITS.sub("#", " ".join(line.split()))


def without_running_lines(pages: list[str]) -> list[str]:
    """``pages`` without their running header and footer: a page's first (last) line when it is a bare page
    number or the first (last) line of ``RUNNING_PAGES`` pages or more in its shape ("Using and understanding
    the Valgrind core", "Page 6 of 40"). Such a line, read as a sentence, answered questions it names; a
    page holding nothing else keeps it."""
    def edges(page: str) -> tuple[str, str]:
        lines = [x for x in page.splitlines() if x.strip()]
        return (_shape(lines[0]), _shape(lines[-1])) if len(lines) >= 2 else ("", "")

    shapes = [edges(page) for page in pages]
    firsts = Counter(f for f, _ in shapes if f)
    lasts = Counter(last for _, last in shapes if last)

    def running(shape: str, seen: Counter) -> bool:
        return bool(shape) and (bool(_PAGE_NUMBER.fullmatch(shape.replace("#", "1"))) or seen[shape] >= RUNNING_PAGES)

    out = []
    for page, (head, foot) in zip(pages, shapes):  # the shapes of the page's first and last line
        lines = page.splitlines()
        body = [i for i, x in enumerate(lines) if x.strip()]
        if len(body) >= 3:
            first, last = body[0], body[-1]
            keep_from = first + 1 if running(head, firsts) else 0
            keep_to = last if running(foot, lasts) else len(lines)
            lines = lines[keep_from:keep_to]
        out.append("\n".join(lines).strip("\n"))
    return out


# a word a line break hyphenated ("reg-" / "ular expression"), as TeX and other typesetters break words to justify
_BROKEN = re.compile(r"(?<![\w-])([^\W\d_]*[a-z])-$")
_REST = re.compile(r"[ \t]*([a-z][^\W\d_]*)([^\s]*)[ \t]*")
_COMPOUND = re.compile(r"(?<![\w-])([^\W\d_]+)-([^\W\d_]+)(?![\w-])")


def dehyphenated(pages: list[str]) -> list[str]:
    """``pages`` with each word a line break hyphenated made whole on the line it starts ("reg-" / "ular
    expression" -> "regular" / "expression"), so that search and the model read the word, and an answer shows
    it. A compound the document writes with its hyphen elsewhere ("user-defined") keeps it ("user-" / "defined"
    -> "user-defined"). Only a lower-case fragment after a letter, before a line opening in lower case."""
    compounds = {(a.lower(), b.lower()) for page in pages for a, b in _COMPOUND.findall(page)}
    out = []
    for page in pages:
        lines: list[str | None] = list(page.split("\n"))
        for i in range(len(lines) - 1):
            line, below = lines[i], lines[i + 1]
            if not line or not below:
                continue
            head, rest = _BROKEN.search(line), _REST.match(below)
            if head is None or rest is None:
                continue
            word = head[1].lower(), rest[1].lower()
            lines[i] = line[:head.start()] + head[1] + ("-" if word in compounds else "") + rest[1] + rest[2]
            lines[i + 1] = below[rest.end():] or None  # a line that held only the rest of the word goes
        out.append("\n".join(x for x in lines if x is not None))
    return out


def extract(source: str, data: bytes) -> Extracted:
    pypdf = require(source, "pypdf", "pypdf")
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise FileSkipped(source, "encrypted PDF (needs a password)")
        pages = [clean_extracted(page.extract_text() or "").rstrip() for page in reader.pages]
    except FileSkipped:
        raise
    except Exception as e:  # noqa: BLE001 - pypdf raises many kinds of error on damaged files
        log.debug("%s: pypdf failed", source, exc_info=True)
        raise FileSkipped(source, f"damaged or unreadable PDF ({e.__class__.__name__})") from None
    if not any(p.strip() for p in pages):
        raise FileSkipped(source, "PDF without a text layer (scanned? run OCR on it first)")
    text, regions = page_regions(dehyphenated(without_running_lines(pages)), PAGE_BREAK)
    return Extracted(text, regions)
