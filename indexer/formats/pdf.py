"""PDF (.pdf): the text of each page, extracted by pypdf, pages joined by a form-feed line."""

from __future__ import annotations

import io
import logging

from indexer.errors import FileSkipped
from indexer.formats.layout import Extracted, clean_extracted, page_regions
from indexer.formats.registry import require

log = logging.getLogger(__name__)

# Between two pages: a line holding only a form feed (the page break of `pdftotext`), so a
# page always starts on a new line and no sentence or chunk runs across two pages.
PAGE_BREAK = "\n\f\n"


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
    text, regions = page_regions(pages, PAGE_BREAK)
    return Extracted(text, regions)
