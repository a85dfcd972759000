"""AsciiDoc (.adoc, .asciidoc): the file's own text (offsets index the file), cut into sections at its titles.

A section title is a line of one to six ``=`` (or Markdown's ``#``), a space and the title ("== Install",
optionally closed by the same marks), where a block may start: at the top, or after a blank line and any
block anchors, attribute lists or comments (``[[install]]``, ``[appendix]``, ``// note``). Its level is
the number of marks ("= Title" is the document's title, level 1). Lines inside delimited blocks (listing
``----``, literal ``....``, example ``====``, sidebar, quote, passthrough, comment, open ``--``, fenced
code) are never titles. There is no maintained Python parser of AsciiDoc (Asciidoctor is Ruby): the rules
are Asciidoctor's, for titles only; the text is stored as it is.
"""

from __future__ import annotations

import re

from indexer.formats.layout import Extracted, Heading, clean_title, section_regions
from indexer.formats.plain import decode_bytes, encoding_note
from indexer.text import LineIndex

_TITLE = re.compile(r"(={1,6}|#{1,6})[ \t]+(\S.*?)(?:[ \t]+\1)?[ \t]*")
# a delimited block's fence: four or more of one of these characters, the open block's "--", a code fence
_DELIMITER = re.compile(r"([-.=*_+/])\1{3,}|--|```.*")
# what may stand between a blank line and a title: an anchor, an attribute list, a line comment
_METADATA = re.compile(r"\[.*\]|//(?!/).*")
# lines that are sentences of their own (indexer.sentences.units): a title, an attribute entry (":toc:"), a block's
# attribute list or anchor ("[source,sh]"), a block title (".Example")
OWN_LINES = r"(?:={1,6}|#{1,6})[ \t]|:[\w-]+:(?:[ \t]|$)|\[.*\][ \t]*$|\.[^\s.]"
_MARKS = re.compile(r"([*_`]{1,2})(\S(?:.*?\S)?)\1|\+\+\+|\+")


def headings(text: str) -> list[Heading]:
    """The section titles of an AsciiDoc text (see the module's docstring), each its own line."""
    out = []
    fence: str | None = None  # the delimiter of the block the line is in
    may_open = True  # a block may start on this line: the top, or after a blank line (and metadata)
    starts = LineIndex(text).starts
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(text)
        bare = text[start:end].removeprefix("\ufeff" if i == 0 else "").rstrip()  # a BOM is no part of a line
        if fence is not None:
            fence = None if bare == fence else fence
            continue
        if _DELIMITER.fullmatch(bare):
            fence = "```" if bare.startswith("```") else bare
            continue
        if not bare.strip():
            may_open = True
            continue
        m = _TITLE.fullmatch(bare)
        if may_open and m:
            title = clean_title(_MARKS.sub(lambda x: x.group(2) or " ", m.group(2)))
            if title:
                out.append(Heading(start, end, len(m.group(1)), title))
            continue  # the line after a title may hold a block, or another title
        may_open = may_open and _METADATA.fullmatch(bare) is not None
    return out


TAKES_ENCODING = True  # extract() takes the user's --encoding


def extract(source: str, data: bytes, encoding: str | None = None) -> Extracted:
    d = decode_bytes(source, data, encoding=encoding)
    return Extracted(d.text, section_regions(d.text, headings(d.text)), encoding_note(d), d.record())
