"""Word (.docx): paragraphs and table rows in document order, one per line, sections at Heading styles."""

from __future__ import annotations

import io
import logging
import re

from indexer.errors import FileSkipped
from indexer.formats.layout import Extracted, Heading, clean_extracted, clean_title, section_regions
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


def lines_of(document) -> list[tuple[str, int | None]]:
    """(text, heading level or None) for each non-empty paragraph and table row of the body."""
    from docx.table import Table

    out: list[tuple[str, int | None]] = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            out.extend((t, None) for t in (_row_text(r) for r in block.rows) if t.strip(" |"))
        elif block.text.strip():
            out.append((block.text, _level(block)))
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
