"""Markdown (.md): the file's own text (offsets index the file), cut into sections at its headings."""

from __future__ import annotations

import re

from indexer.formats.layout import Extracted, Heading, clean_title, section_regions
from indexer.formats.plain import decode_bytes, encoding_note
from indexer.text import LineIndex

# YAML front matter (Jekyll, Hugo, MkDocs): not Markdown, and its closing "---" would make the
# line above it a setext heading.
_FRONT_MATTER = re.compile(r"\A\ufeff?---[ \t]*(?:\r\n|\r|\n).*?(?:\r\n|\r|\n)(?:---|\.\.\.)[ \t]*(?:\r\n|\r|\n|\Z)",
                           re.S)


def headings(text: str) -> list[Heading]:
    """ATX (``# Title``) and setext (``Title\\n===``) headings, found by a CommonMark parser.

    Headings inside code blocks, lists, quotes or a leading YAML front matter are not headings;
    the title is the heading's plain text (emphasis and code marks dropped).
    """
    from markdown_it import MarkdownIt

    # markdown-it counts lines as quarry does (\r\n, \r and \n each end one); a leading BOM is
    # dropped for the parser only, which changes no line number.
    tokens = MarkdownIt("commonmark").parse(text[1:] if text.startswith("\ufeff") else text)
    starts = LineIndex(text).starts
    front = _FRONT_MATTER.match(text)
    skip_to = front.end() if front else 0
    out = []
    for i, tok in enumerate(tokens):
        if tok.type != "heading_open" or tok.map is None or tok.level != 0:
            continue
        first, after = tok.map
        inline = tokens[i + 1]
        title = "".join(c.content for c in inline.children or () if c.type in ("text", "code_inline"))
        if first >= len(starts):
            continue
        end = starts[after] if after < len(starts) else len(text)
        if starts[first] < skip_to:
            continue
        out.append(Heading(starts[first], end, int(tok.tag[1:]), clean_title(title)))
    return out


TAKES_ENCODING = True  # extract() takes the user's --encoding


def extract(source: str, data: bytes, encoding: str | None = None) -> Extracted:
    d = decode_bytes(source, data, encoding=encoding)
    return Extracted(d.text, section_regions(d.text, headings(d.text)), encoding_note(d), d.record())
