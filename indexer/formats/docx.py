"""Word (.docx): paragraphs and table rows in document order, one per line, sections at Heading styles."""

from __future__ import annotations

import io
import logging
import re

from indexer.errors import FileSkipped
from indexer.formats.layout import (
    ENDS_LIKE_SENTENCE,
    Extracted,
    Heading,
    clean_extracted,
    clean_title,
    heading_types,
    section_regions,
)
from indexer.formats.plain import type_level
from indexer.formats.registry import require

log = logging.getLogger(__name__)

# the text has one block a line (a paragraph, a list item, a row): no line is wrapped, so none runs on
# into the next (indexer.sentences.wraps_into)
BLOCK_LINES = True

_HEADING_STYLE = re.compile(r"^Heading (\d)$")


def _level(paragraph) -> int | None:
    """The heading level of a paragraph from its style ("Title" is 0, "Heading 2" is 2), else None."""
    try:
        name = paragraph.style.name or ""
    except (AttributeError, KeyError, ValueError):
        return None
    if name == "Title":
        return 0
    m = _HEADING_STYLE.match(name)
    return int(m.group(1)) if m else None


def _row_text(row) -> str:
    cells, seen = [], set()
    for cell in row.cells:
        if id(cell._tc) in seen:  # a merged cell is listed once per grid column it spans
            continue
        seen.add(id(cell._tc))
        cells.append(" ".join(cell.text.split()))
    return " | ".join(cells)


DEFAULT_PT = 11.0  # Word's type size where neither a run, its style nor the document's defaults set one


def _default_size(document) -> float:
    """The document's default type size in points (its styles' ``w:docDefaults``), else ``DEFAULT_PT``."""
    from docx.oxml.ns import qn

    try:
        sz = document.styles.element.xpath("w:docDefaults/w:rPrDefault/w:rPr/w:sz")
        return int(sz[0].get(qn("w:val"))) / 2 if sz else DEFAULT_PT
    except (ValueError, TypeError, AttributeError):
        return DEFAULT_PT


def _looks(paragraph, default: float) -> tuple[bool, float]:
    """Whether every run of a paragraph that holds text is bold (and there is one: a hyperlink's text is in
    none), and its largest type size in points (a run's, else its paragraph style's, else ``default``): how a
    heading formatted by hand stands out."""
    bold, sizes = True, []
    try:
        for run in paragraph.runs:
            if not run.text.strip():
                continue
            b = run.bold
            if b is None:
                b = (run.style is not None and run.style.font.bold) or paragraph.style.font.bold
            bold = bold and bool(b)
            size = run.font.size or paragraph.style.font.size
            sizes.append(size.pt if size is not None else default)
    except (AttributeError, KeyError, ValueError):
        return False, default
    return bold and bool(sizes), max(sizes, default=default)


def lines_of(document) -> list[tuple[str, int | None]]:
    """(text, heading level or None) for each non-empty paragraph and table row of the body. With no
    paragraph in a Heading style, a short one formatted as a heading by hand is one (:func:`hand_levels`)."""
    from docx.table import Table

    out: list[tuple[str, int | None]] = []
    looks: dict[int, tuple[str, bool, float]] = {}
    default = _default_size(document)
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            out.extend((t, None) for t in (_row_text(r) for r in block.rows) if t.strip(" |"))
        elif block.text.strip():
            looks[len(out)] = (block.text, *_looks(block, default))
            out.append((block.text, _level(block)))
    if all(level is None for _, level in out):
        for i, level in hand_levels(looks).items():
            out[i] = (out[i][0], level)
    return out


HEADING_WORDS = 12  # at most this many words in a heading formatted by hand


def hand_levels(paragraphs: dict[int, tuple[str, bool, float]]) -> dict[int, int]:
    """Levels of the paragraphs (by place: text, all bold, type size) that are headings formatted by hand:
    at most ``HEADING_WORDS`` words, not ending like a sentence, in a larger type (ranked by size:
    :func:`indexer.formats.layout.heading_types`), or in bold at the level below them (unless half the
    paragraphs or more are bold: then bold sets nothing apart); a numbered one a level deeper for each part of
    its number (:func:`indexer.formats.plain.type_level`: "3.1. Powers" under "3. Developers")."""
    chars: dict[float, int] = {}
    for text, _, size in paragraphs.values():
        chars[size] = chars.get(size, 0) + len(text)
    big = heading_types(chars)
    bold_apart = 2 * sum(bold for _, bold, _ in paragraphs.values()) < len(paragraphs)
    out = {}
    for i, (text, bold, size) in paragraphs.items():
        title = " ".join(text.split())
        if len(title.split()) > HEADING_WORDS or ENDS_LIKE_SENTENCE.search(title):
            continue
        if size in big:
            out[i] = type_level(1 + big.index(size), title)
        elif bold and bold_apart:
            out[i] = type_level(1 + len(big), title)
    return out


def extract(source: str, data: bytes) -> Extracted:
    docx = require(source, "docx", "python-docx")
    try:
        lines = lines_of(docx.Document(io.BytesIO(data)))
    except Exception as e:  # noqa: BLE001 - zip, XML and package errors all mean a damaged file
        log.debug("%s: python-docx failed", source, exc_info=True)
        raise FileSkipped(source, f"damaged or unreadable DOCX ({e.__class__.__name__})") from None
    parts, heads, pos = [], [], 0
    for text, level in lines:
        text = clean_extracted(text)
        if level is not None:
            heads.append(Heading(pos, pos + len(text), level, clean_title(text)))
        parts.append(text)
        pos += len(text) + 1
    text = "\n".join(parts)
    if not text.strip():
        raise FileSkipped(source, "no text (an empty document)")
    return Extracted(text, section_regions(text, heads))
