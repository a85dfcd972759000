"""Org mode (.org): the file's own text (offsets index the file), cut into sections at its headlines.

orgparse reads the outline as Emacs does: a headline is a line of stars, a space and its title; its level
is the number of stars; the title is shown without its TODO keyword (``#+TODO:`` lines name more), its
priority (``[#A]``), its tags (``:work:``) or its emphasis marks (``~org-appear~``), and a link as its
description. The text is stored as it is, ``#+`` keywords, drawers and blocks included.
"""

from __future__ import annotations

import logging
import re

from indexer.formats.layout import Extracted, Heading, clean_title, section_regions
from indexer.formats.plain import decode_bytes, encoding_note
from indexer.text import LineIndex

log = logging.getLogger(__name__)

# what str.splitlines (orgparse's) ends a line at and quarry does not (quarry: \r\n, \r, \n)
_OTHER_BREAKS = re.compile(r"[\v\f\x1c\x1d\x1e\x85\u2028\u2029]")
_HEADLINE = re.compile(r"\*+[ \t]")
# lines that are sentences of their own (indexer.sentences.units): a headline, whose body is often indented under
# it (a list item's hanging indent to the sentence splitter), a "#+" keyword or block line, a drawer's line
OWN_LINES = r"\*+[ \t]|[ \t]*#\+|[ \t]*:[\w-]+:(?:[ \t]|$)"
# a statistics cookie ("[2/3]", "[66%]"): progress, not part of what the heading is about
_COOKIE = re.compile(r"\[\d*(?:/\d*|%)\]")
# Org's emphasis around a word or phrase: *bold*, /italic/, _underline_, =verbatim=, ~code~, +strike-through+
EMPHASIS = re.compile(r"(?<![\w*/=~+])([*/_=~+])(\S(?:[^\n]*?\S)?)\1(?![\w*/=~+])")


def headings(text: str, source: str = "") -> list[Heading]:
    """The headlines orgparse finds, each its own line, with its level (the number of stars)."""
    import orgparse

    body = text[1:] if text.startswith("\ufeff") else text  # a BOM starts no line
    try:
        root = orgparse.loads(_OTHER_BREAKS.sub(" ", body.replace("\r\n", "\n").replace("\r", "\n")))
    except Exception as e:  # noqa: BLE001 - orgparse's errors on input it cannot read; the text is still text
        log.info("%s: no sections (orgparse: %s)", source, e)
        return []
    starts = LineIndex(text).starts
    out = []
    for node in root[1:]:
        i = node.linenumber - 1
        if not 0 <= i < len(starts) or not _HEADLINE.match(text, starts[i] + (i == 0 and body is not text)):
            continue  # not where orgparse says (never seen): no section rather than a wrong one
        end = starts[i + 1] if i + 1 < len(starts) else len(text)
        title = clean_title(EMPHASIS.sub(r"\2", _COOKIE.sub(" ", node.heading)))
        if title:
            out.append(Heading(starts[i], end, node.level, title))
    return out


TAKES_ENCODING = True  # extract() takes the user's --encoding


def extract(source: str, data: bytes, encoding: str | None = None) -> Extracted:
    d = decode_bytes(source, data, encoding=encoding)
    return Extracted(d.text, section_regions(d.text, headings(d.text, source)), encoding_note(d), d.record())
