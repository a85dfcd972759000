"""What a format reader returns: the text the index stores and the page/section regions over it."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

_SPACES = re.compile(r"\s+")
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class Region:
    """``text[start:end]`` lies on one page and under one heading trail (either may be None)."""

    start: int
    end: int
    page: int | None = None
    section: str | None = None


@dataclass(frozen=True)
class Extracted:
    """A file as the index sees it.

    ``text`` is what every offset indexes: the decoded file itself for text formats (.txt, .md),
    the extracted text for the others (PDF, DOCX, HTML). ``regions`` cover ``text`` in order with
    no gaps (empty: the whole text is one region with no page and no section); ``note`` says
    something the user should know (e.g. the file was not UTF-8 and how it was decoded);
    ``encoding`` is how a text file that was not UTF-8 was decoded (codec, how it was chosen,
    confidence of a guess: :meth:`indexer.formats.plain.Decoded.record`), kept in the manifest.
    """

    text: str
    regions: tuple[Region, ...] = ()
    note: str | None = None
    encoding: dict | None = None


@dataclass(frozen=True)
class Heading:
    """A heading found in ``text``: its first character, the end of its line(s), level and title."""

    start: int
    end: int
    level: int
    title: str


def clean_title(title: str, limit: int = 200) -> str:
    """A heading title on one line, white space collapsed, at most ``limit`` characters."""
    title = _SPACES.sub(" ", title).strip()
    return title if len(title) <= limit else title[: limit - 1].rstrip() + "…"


# the Latin ligatures of Unicode's presentation forms (U+FB00-FB06), as a PDF typeset by TeX or DocBook holds
# them: "conﬁguration" is no word of a question, of the full-text index or of the embedding model's vocabulary
_LIGATURES = str.maketrans({"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl",
                            "\ufb05": "st", "\ufb06": "st"})


def clean_extracted(text: str) -> str:
    """Extracted text made storable and searchable: lone surrogates (broken PDF fonts) become U+FFFD, and a
    ligature its letters ("ﬁle" -> "file")."""
    return _SURROGATE.sub("\ufffd", text).translate(_LIGATURES)


def under(trail: list[tuple[int, str]], heading: Heading) -> str:
    """The section trail ("A > B > C") once ``heading`` opens: ``trail`` (levels and titles, outermost first)
    loses the headings at its level or deeper and takes it."""
    while trail and trail[-1][0] >= heading.level:
        trail.pop()
    trail.append((heading.level, heading.title))
    return " > ".join(t for _, t in trail)


def section_regions(text: str, headings: Sequence[Heading]) -> tuple[Region, ...]:
    """Regions of ``text`` cut at headings, each named by its heading trail ("A > B > C").

    A heading opens a new region only when the region before it holds some text besides its own
    headings, so "# Guide\\n## Install\\n..." is one region under "Guide > Install" (no chunk of a
    bare title). Text before the first heading has no section.
    """
    regions: list[Region] = []
    trail: list[tuple[int, str]] = []
    start, body_from, section = 0, 0, None
    for h in sorted(headings, key=lambda h: h.start):
        if not h.title or h.start < body_from:
            continue
        if text[body_from:h.start].strip():
            regions.append(Region(start, h.start, None, section))
            start = h.start
        section = under(trail, h)
        body_from = max(h.end, h.start)
    regions.append(Region(start, len(text), None, section))
    return tuple(regions)


# a heading that stands out by its type (a PDF's, a Word file's formatted by hand): set this many times the body's
# size or larger, and not ending like a sentence
HEADING_SIZE = 1.1
ENDS_LIKE_SENTENCE = re.compile(r"[.;:,]$")


def heading_types(chars: Mapping[float, int]) -> list[float]:
    """The type sizes a document sets its headings in, largest first (a heading's level is its size's place
    there, plus one): ``HEADING_SIZE`` times its body's or larger, the body's being the size most of its
    characters have (``chars``: characters by size)."""
    if not chars:
        return []
    body = max(chars, key=lambda z: chars[z])
    return sorted((z for z in chars if z >= HEADING_SIZE * body), reverse=True)


def split_by_sections(pages: Sequence[Region], sections: Sequence[Region]) -> tuple[Region, ...]:
    """Page regions cut where sections begin: each piece keeps its page and takes the section it lies in
    (both in text order: one walk over the two)."""
    out = []
    first = 0  # the first section not ending before the page
    for p in pages:
        while first < len(sections) and sections[first].end <= p.start:
            first += 1
        for s in sections[first:]:
            if s.start >= p.end:
                break
            a, b = max(p.start, s.start), min(p.end, s.end)
            if a < b:
                out.append(Region(a, b, p.page, s.section))
    return tuple(out)


def page_regions(pages: Sequence[str], separator: str) -> tuple[str, tuple[Region, ...]]:
    """The pages joined by ``separator`` and one region per page (numbered from 1).

    The separator after a page belongs to that page's region, so the regions cover the text.
    """
    regions, pos = [], 0
    for i, page in enumerate(pages):
        end = pos + len(page) + (len(separator) if i < len(pages) - 1 else 0)
        regions.append(Region(pos, end, i + 1, None))
        pos = end
    return separator.join(pages), tuple(regions)
