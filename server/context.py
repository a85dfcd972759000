"""The text around a span of a document, cut at line (or word) boundaries, for "show in context"."""

from __future__ import annotations

import re

from indexer.text import LINE_BREAK

_SPACE = re.compile(r"\s")


def context_bounds(text: str, start: int, end: int, chars: int) -> tuple[int, int]:
    """``(lo, hi)`` with ``lo <= start``, ``end <= hi``: at most ``chars`` more on each side.

    Each side is cut at a line break when one falls in its outer half (so whole lines show),
    else at white space (so no word is cut in half), else exactly at ``chars``. A document
    shorter than the window comes back whole.
    """
    lo, hi = max(0, start - chars), min(len(text), end + chars)
    half = chars // 2
    if lo > 0:
        m = LINE_BREAK.search(text, lo, min(start, lo + half + 1))
        m = m or _SPACE.search(text, lo, start)
        lo = m.end() if m else lo
    if hi < len(text):
        cut = _last(LINE_BREAK, text, max(end, hi - half - 1), hi) or _last(_SPACE, text, end, hi)
        hi = cut.start() if cut else hi
    return lo, hi


def _last(pattern: re.Pattern, text: str, lo: int, hi: int) -> re.Match | None:
    matches = list(pattern.finditer(text, lo, hi))
    return matches[-1] if matches else None
