"""reStructuredText (.rst): the file's own text (offsets index the file), cut into sections at its titles.

docutils parses the file (as Sphinx does) to find the section titles and how they nest; the text is
stored as it is, directives and roles included. Sphinx's own directives and roles (``.. toctree::``,
``:ref:``) are unknown to plain docutils: they are left as text and change no title.
"""

from __future__ import annotations

import logging
import re

from indexer.formats.layout import Extracted, Heading, clean_title, section_regions
from indexer.formats.plain import decode_bytes, encoding_note
from indexer.text import LineIndex

log = logging.getLogger(__name__)

# a title's underline or overline: one punctuation character repeated (docutils: any non-alphanumeric
# printable ASCII character)
_ADORNMENT = re.compile(r"([!-/:-@\[-`{-~])\1+[ \t]*")
_SETTINGS = {
    "report_level": 5, "halt_level": 5, "warning_stream": False,  # say nothing, stop for nothing
    "file_insertion_enabled": False, "raw_enabled": False,  # read no other file
    "doctitle_xform": False, "sectsubtitle_xform": False,  # a lone top title stays a section title
}


def headings(text: str, source: str = "") -> list[Heading]:
    """The section titles docutils finds, each from its overline (if any) to the end of its underline,
    with its nesting level (1: top). None when docutils cannot parse the file (logged)."""
    from docutils import nodes
    from docutils.core import publish_doctree

    try:
        doc = publish_doctree(text, settings_overrides=_SETTINGS)
    except Exception as e:  # docutils raises its own errors on input it cannot read; the text is still text
        log.info("%s: no sections (docutils: %s)", source, e)
        return []
    lines = LineIndex(text)
    starts = lines.starts
    out = []
    for section in doc.findall(nodes.section):
        title = section.next_node(nodes.title)
        if title is None or not title.line:
            continue
        at = _title_line(text, starts, title.rawsource, title.line)
        if at is None:
            continue
        first = at - 1 if at and _ADORNMENT.fullmatch(_line(text, starts, at - 1)) else at
        end = starts[at + 2] if at + 2 < len(starts) else len(text)
        level = sum(1 for p in _parents(section) if isinstance(p, nodes.section)) + 1
        out.append(Heading(starts[first], end, level, clean_title(title.astext())))
    return out


def _parents(node):
    while node.parent is not None:
        node = node.parent
        yield node


def _line(text: str, starts: list[int], i: int) -> str:
    """Line ``i`` (0-based) of ``text`` without its line break."""
    end = starts[i + 1] if i + 1 < len(starts) else len(text)
    return text[starts[i]:end].rstrip("\r\n")


def _title_line(text: str, starts: list[int], raw: str, reported: int) -> int | None:
    """The 0-based line a title is on: docutils reports the line of its underline (1-based), and counts
    lines its own way (a form feed ends one for it), so the title is looked for near there, followed by
    its underline."""
    want = raw.strip()
    for i in (reported - 2, reported - 3, reported - 1, reported - 4, reported):
        if 0 <= i < len(starts) - 1 and _line(text, starts, i).strip() == want \
                and _ADORNMENT.fullmatch(_line(text, starts, i + 1)):
            return i
    return None


TAKES_ENCODING = True  # extract() takes the user's --encoding


def extract(source: str, data: bytes, encoding: str | None = None) -> Extracted:
    d = decode_bytes(source, data, encoding=encoding)
    return Extracted(d.text, section_regions(d.text, headings(d.text, source)), encoding_note(d), d.record())
