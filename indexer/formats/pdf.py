"""PDF (.pdf): the text of each page, extracted by pypdf, pages joined by a form-feed line; a page's running
header and footer (a line that heads or foots three pages or more, a bare page number) left out, a word
hyphenated at a line break made whole, a blank line between paragraphs (from the lines' heights), and
sections at its headings (from their type sizes)."""

from __future__ import annotations

import io
import logging
import math
import re
import statistics
from bisect import bisect_right
from collections import Counter
from collections.abc import Sequence
from typing import NamedTuple

from indexer.errors import FileSkipped
from indexer.formats.layout import (
    ENDS_LIKE_SENTENCE,
    Extracted,
    Heading,
    Region,
    clean_extracted,
    clean_title,
    heading_types,
    page_regions,
    section_regions,
    split_by_sections,
)
from indexer.formats.plain import LEADER, MARGIN_TITLE_WORDS, blocks, headings, type_level
from indexer.formats.registry import require
from indexer.sentences import PAGE_BREAK_LINE, PDF_WIDEST_LINE

log = logging.getLogger(__name__)

# a wrapped line of a PDF may be as wide as its page sets it (the sentence splitter's widest: indexer.build)
WIDEST_LINE = PDF_WIDEST_LINE

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


# a line this much further below the one before it than the document's usual line spacing opens a paragraph
# (Texinfo's 13.2-point lines are 15-19 points apart between paragraphs; a heading's are further)
PARAGRAPH_GAP = 1.12


class Line(NamedTuple):
    """A line of a page's text, with the height on the page and the font size of its first piece of text
    (None for a line with no text, or when the pieces pypdf reports do not make up the page's text)."""

    text: str
    y: float | None = None
    size: float | None = None


# TeX's OT1 font encoding sets its ligatures at control codes (ff 0x0B, fi 0x0C, fl 0x0D, ffi 0x0E, ffl 0x0F), and
# pypdf reads a PDF set in such a font without a map to Unicode as those codes ("Con\x0cguring", glpk's manual):
# beside a letter they are the letters, where a line break or a page break would cut the word in two
_OT1 = re.compile(r"(?<=[^\W\d_])[\x0b-\x0f]|[\x0b-\x0f](?=[^\W\d_])")
_OT1_LETTERS = {"\x0b": "ff", "\x0c": "fi", "\x0d": "fl", "\x0e": "ffi", "\x0f": "ffl"}


def ot1_ligatures(text: str) -> str:
    """``text`` with TeX's OT1 ligature codes beside a letter made letters.

    >>> ot1_ligatures("Con\x0cguring the \x0cle e\x0eciently, a\x0bect")
    'Configuring the file efficiently, affect'
    """
    return _OT1.sub(lambda m: _OT1_LETTERS[m[0]], text)


def _lines(page) -> list[Line]:
    """A page's text as pypdf extracts it, line by line (:class:`Line`; TeX's ligature codes made letters:
    :func:`ot1_ligatures`)."""
    pieces: list[tuple[str, float, float]] = []

    def visit(text, cm, tm, font, size) -> None:  # the text matrix times the current one: height, scale
        pieces.append((text, tm[4] * cm[1] + tm[5] * cm[3] + cm[5],
                       abs(size * math.hypot(tm[2], tm[3]) * math.hypot(cm[2], cm[3]))))

    text = page.extract_text(visitor_text=visit) or ""
    if "".join(t for t, _, _ in pieces) != text:
        return [Line(ot1_ligatures(line)) for line in text.split("\n")]
    lines: list[list] = [["", None, None]]
    for piece, y, size in pieces:
        for k, part in enumerate(piece.split("\n")):
            if k:
                lines.append(["", None, None])
            if lines[-1][1] is None and part.strip():
                lines[-1][1:] = [y, round(size, 1)]
            lines[-1][0] += part
    return [Line(ot1_ligatures(x[0]), x[1], x[2]) for x in lines]


def with_paragraphs(pages: list[list[Line]]) -> list[str]:
    """Each page's text with a blank line where a line sits further below the one before it than
    ``PARAGRAPH_GAP`` times the document's usual line spacing (:func:`line_spacing`; both measured in the
    lower line's type size, so that code in a smaller type is spaced as the body is): pypdf writes no blank
    line between paragraphs, and without one a paragraph ran on into the next. A line higher than the one
    before (the next column) opens none."""
    placed = [_placed(page) for page in pages]
    below = [(a, d) for lines in placed for a, b in zip(lines, lines[1:]) if (d := _drop(a, b)) > 0]
    usual = [d for _, d in below]
    # measured below lines of running text: a formula's pieces (a bracket, "=", a subscript) sit a fraction
    # of a line apart, and a paper full of them would set every line of its prose a paragraph apart
    running = [d for a, d in below if len(a.text.strip()) >= RUNNING_LINE_CHARS]
    if not usual:
        return ["\n".join(x.text for x in page) for page in pages]
    gap = PARAGRAPH_GAP * line_spacing(running or usual)
    out = []
    for page in pages:
        lines: list[str] = []
        above: Line | None = None
        for x in page:
            if x.y is not None and above is not None and _drop(above, x) > gap and lines and lines[-1].strip():
                lines.append("")
            lines.append(x.text)
            if x.y is not None and x.text.strip():
                above = x
            elif not x.text.strip():
                above = None
        out.append("\n".join(lines))
    return out


def _drop(a: Line, b: Line) -> float:
    """How far line ``b`` sits below line ``a``, in ``b``'s type size where both have one (negative: higher)."""
    if a.y is None or b.y is None:
        return 0.0
    return (a.y - b.y) / b.size if a.size and b.size else a.y - b.y


# a drop from one line to the next this common (a share of all) is a spacing the document sets lines at
COMMON_DROP = 0.1
# a line this long (characters) is running text, whose drop to the next line measures the spacing
RUNNING_LINE_CHARS = 30


def line_spacing(drops: list[float]) -> float:
    """A document's usual line spacing: the least drop from one line to the next, to 2%, that at least
    ``COMMON_DROP`` of its drops have (a manual whose entries stand a blank line apart has more drops of two
    lines than of one); the median where none is that common."""
    counts = Counter(round(math.log(d) / math.log(1.02)) for d in drops)
    common = [k for k, n in counts.items() if n >= COMMON_DROP * len(drops)]
    return 1.02 ** min(common) if common else statistics.median(drops)


def _placed(page: list[Line]) -> list[Line]:
    """The lines of a page that hold text and have a height, in order."""
    return [x for x in page if x.y is not None and x.text.strip()]


def _squeezed(text: str) -> str:
    return "".join(ch for ch in text if ch.isalnum())


def _moved_size(title: str, here: dict[str, float], big: Sequence[float]) -> float:
    """The type of a line that dehyphenation changed ("5. Cachegrind: a cache and branch-" / "prediction
    profiler" reads "... branch-prediction" / "profiler"): a line of its page in a heading type that the
    changed line starts or ends as, or that starts or ends as it; 0.0 when none does."""
    t = _squeezed(title)
    if len(t) < 4:
        return 0.0
    for line, size in here.items():
        s = _squeezed(line)
        if size in big and len(s) >= 4 and (t.startswith(s) or t.endswith(s) or s.startswith(t) or s.endswith(t)):
            return size
    return 0.0


def pdf_headings(text: str, pages: list[list[Line]], regions: Sequence[Region] = ()) -> list[Heading]:
    """A PDF's headings. Where the document sets some lines in a larger type (:func:`heading_types`), its
    headings are those lines: a paragraph of one or
    two lines (``plain.HEADING_LINES`` at most) in such a type, of at most ``MARGIN_TITLE_WORDS`` words,
    that does not end like a sentence; its level is its type's rank among theirs (the largest first), and
    within a type the parts of its number (:func:`type_level`). A
    document in one type has a plain-text file's headings (:func:`indexer.formats.plain.headings`:
    "1.1 What is Bash?" numbered on a line of its own). A line's type is read on its own page (``regions``,
    one a page, as :func:`indexer.formats.layout.page_regions` gives them): the same words may be a small
    heading on one page and a chapter's title on another (gnuplot's "Index", a command's subsection, and the
    book's index)."""
    chars: Counter = Counter()
    size_of: dict[str, float] = {}
    on_page: list[dict[str, float]] = []
    for page in pages:
        here: dict[str, float] = {}
        for x in _placed(page):
            if x.size:
                chars[x.size] += len(x.text.strip())
                key = clean_extracted(" ".join(x.text.split()))
                size_of[key] = max(size_of.get(key, 0.0), x.size)
                here[key] = max(here.get(key, 0.0), x.size)
        on_page.append(here)
    starts = [r.start for r in regions] if len(regions) == len(pages) else []
    big = heading_types(chars)
    if not big:
        return headings(text)
    out = []
    for start, end, lines in blocks(text):
        if len(lines) > 2:
            continue
        titles = [" ".join(text[a:b].split()) for a, b in lines]
        title = " ".join(titles)
        if len(title.split()) > MARGIN_TITLE_WORDS or ENDS_LIKE_SENTENCE.search(title) or LEADER.search(title):
            continue
        here = on_page[bisect_right(starts, start) - 1] if starts else size_of  # no pages: one
        sizes = [here.get(t) or size_of.get(t) or _moved_size(t, here, big) for t in titles]
        if all(z in big for z in sizes):
            out.append(Heading(start, end, type_level(1 + big.index(max(sizes)), title), clean_title(title)))
    return out


def extract(source: str, data: bytes) -> Extracted:
    pypdf = require(source, "pypdf", "pypdf")
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise FileSkipped(source, "encrypted PDF (needs a password)")
        lines = [_lines(page) for page in reader.pages]
        pages = [clean_extracted(text).rstrip() for text in with_paragraphs(lines)]
    except FileSkipped:
        raise
    except Exception as e:  # noqa: BLE001 - pypdf raises many kinds of error on damaged files
        log.debug("%s: pypdf failed", source, exc_info=True)
        raise FileSkipped(source, f"damaged or unreadable PDF ({e.__class__.__name__})") from None
    if not any(p.strip() for p in pages):
        raise FileSkipped(source, "PDF without a text layer (scanned? run OCR on it first)")
    text, regions = page_regions(dehyphenated(without_running_lines(pages)), PAGE_BREAK)
    found = pdf_headings(text, lines, regions)
    return Extracted(text, split_by_sections(regions, section_regions(text, found)) if found else regions)
