"""HTML (.html, .htm): the visible text, parsed by BeautifulSoup, one line per block, sections at h1-h6."""

from __future__ import annotations

import logging
import re

from indexer.errors import FileSkipped
from indexer.formats.layout import Extracted, Heading, clean_extracted, clean_title, section_regions
from indexer.formats.plain import decode_bytes, encoding_note

# the text has one block a line (a paragraph, a list item, a row): no line is wrapped, so none runs on
# into the next (indexer.sentences.wraps_into)
BLOCK_LINES = True

# Elements whose content a reader never sees (and navigation: menus, "next | previous", a table of contents
# repeating every heading, the same on every page of a site; a page's own table of contents: _contents_lists).
INVISIBLE = frozenset("""
    head title script style template noscript iframe object embed canvas svg math audio video nav
    select datalist map area base link meta param source track
""".split())
# Elements that start and end a line of text.
BLOCKS = frozenset("""
    address article aside blockquote body caption center dd details dialog div dl dt fieldset
    figcaption figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr html legend li main menu
    ol p pre section summary table tbody tfoot thead tr ul
""".split())
log = logging.getLogger(__name__)

HEADINGS = {f"h{i}": i for i in range(1, 7)}
CELLS = ("td", "th")
_SPACES = re.compile(r"[ \t\n\r\f]+")  # HTML white space (a no-break space is not)
# a definition list's description is indented under its term, as a browser shows it (and as a manual page's
# option list reads in plain text: "--quiet" / "    Print nothing but errors."), so that an answer taken from
# the description is shown with the term it describes (retriever.answer.entry_term)
DD_INDENT = "    "
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)


class _Writer:
    """Accumulates visible text with HTML white-space rules, keeping exact offsets of headings."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.line_start = True  # nothing but the line break written on the current line
        self.space = False  # a collapsed space is owed before the next word
        self.brk = False  # a line break is owed before the next text
        self.indent = 0  # definition descriptions (<dd>) open around the text: each indents its lines

    def _put(self, s: str) -> None:
        self.parts.append(s)
        self.length += len(s)

    def text(self, s: str, pre: bool = False) -> None:
        if not pre:
            if not s:
                return
            lead, trail = _SPACES.match(s[0]) is not None, _SPACES.match(s[-1]) is not None
            words = _SPACES.sub(" ", s).strip(" ")
            if not words:
                self.space = True
                return
            s, self.space = words, self.space or lead
        elif not s:
            return
        if self.brk and self.length:
            self._put("\n")
            self.line_start, self.space = True, False
        if self.line_start and self.indent and not pre:
            self._put(DD_INDENT * self.indent)
        self.brk = False
        if self.space and not self.line_start:
            self._put(" ")
        self._put(s)
        self.line_start = pre and s.endswith("\n")
        self.space = False if pre else trail

    def block(self) -> None:
        self.brk, self.space = True, False

    def cell(self) -> None:
        """Between the cells of a table row."""
        if not self.line_start and not self.brk:
            self._put(" | ")
            self.space = False


# a heading's permalink, shown on hover only: "¶" after every Sphinx and MkDocs heading ("How do I ...?¶" asks
# nothing to a reader of the text, and the question asked again is not found); DocBook's navigation bars
# ("Prev | Up | Next" and the chapter's title again, above and below every page)
_DECORATIONS = frozenset({"headerlink", "navheader", "navfooter"})


def _hidden(tag) -> bool:
    attrs = tag.attrs or {}
    return ("hidden" in attrs or str(attrs.get("aria-hidden", "")).lower() == "true"
            or str(attrs.get("role", "")).lower() == "navigation"  # a site's menus, a sidebar's contents
            or bool(_HIDDEN_STYLE.search(str(attrs.get("style", ""))))
            or not _DECORATIONS.isdisjoint(attrs.get("class") or ()))


def _contents_lists(soup, page: str | None) -> list:
    """The page's own tables of contents: lists (``ul``, ``ol``, ``dl``, outermost) whose every word is the text
    of a link to a place in this page (``#anchor``, or ``PAGE#anchor`` where ``page`` is the file's name),
    at least two of them: every heading again, with nothing else (DocBook's, docutils' "Contents")."""
    from bs4.element import Tag

    def here(href: str) -> bool:
        path, hashmark, _ = href.partition("#")
        return bool(hashmark) and (not path or (page is not None and path.rsplit("/", 1)[-1] == page))

    found = []
    for lst in soup.find_all(("ul", "ol", "dl")):
        if lst.find_parent(("ul", "ol", "dl")) is not None:
            continue
        links = lst.find_all("a")
        if len(links) < 2 or not all(isinstance(a, Tag) and here(str(a.get("href", ""))) for a in links):
            continue
        if all(t.find_parent("a") is not None for t in lst.find_all(string=True) if t.strip()):
            found.append(lst)
    return found


def visible_text(html: str, page: str | None = None) -> tuple[str, list[Heading]]:
    """The text a reader of the page sees, and the headings in it; ``page``, the file's name, tells a link to a
    place in this page (a table of contents, left out) from one to another page."""
    from bs4 import BeautifulSoup
    from bs4.element import NavigableString, Tag

    soup = BeautifulSoup(html, "html.parser")
    for toc in _contents_lists(soup, page):
        toc.decompose()
    w = _Writer()
    heads: list[Heading] = []
    # an explicit stack (no recursion): deeply nested pages cannot overflow it
    stack: list[tuple[object, bool]] = [(soup, False)]
    pre_depth = 0
    open_heads: list[tuple[int, int]] = []  # (level, parts index when the heading opened)
    while stack:
        node, leaving = stack.pop()
        if isinstance(node, NavigableString):
            if type(node) is NavigableString or node.__class__.__name__ == "CData":
                w.text(str(node), pre=pre_depth > 0)
            continue
        if not isinstance(node, Tag):
            continue
        name = (node.name or "").lower()
        if leaving:
            if name == "pre":
                pre_depth -= 1
            if name == "dd":
                w.indent -= 1
            if name in HEADINGS and open_heads:
                level, mark = open_heads.pop()
                added = w.parts[mark:]
                start = w.length - sum(map(len, added))
                head = "".join(added)
                start += len(head) - len(head.lstrip())  # the line break (and indent) before the heading's text
                if w.length > start:
                    heads.append(Heading(start, w.length, level, clean_title("".join(added))))
            if name in BLOCKS:
                w.block()
            continue
        if node is not soup and (name in INVISIBLE or _hidden(node)):
            continue
        if name == "br":
            w.block()
            continue
        if name in CELLS:
            w.cell()
        elif name in BLOCKS:
            w.block()
        if name == "pre":
            pre_depth += 1
        if name == "dd":
            w.indent += 1
        if name in HEADINGS:
            open_heads.append((HEADINGS[name], len(w.parts)))
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(node.contents))
    return "".join(w.parts), heads


TAKES_ENCODING = True  # extract() takes the user's --encoding


def extract(source: str, data: bytes, encoding: str | None = None) -> Extracted:
    from bs4.dammit import EncodingDetector

    declared = EncodingDetector.find_declared_encoding(data, is_html=True, search_entire_document=False)
    decoded = decode_bytes(source, data, declared=declared, encoding=encoding)
    html = decoded.text
    try:
        text, heads = visible_text(html, source.rsplit("/", 1)[-1])
    except Exception as e:  # noqa: BLE001 - html.parser is lenient; anything it still rejects is damage
        log.debug("%s: HTML parsing failed", source, exc_info=True)
        raise FileSkipped(source, f"unparsable HTML ({e.__class__.__name__})") from None
    text = clean_extracted(text)
    if not text.strip():
        raise FileSkipped(source, "no visible text")
    return Extracted(text, section_regions(text, heads), encoding_note(decoded), decoded.record())
