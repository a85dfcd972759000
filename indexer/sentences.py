"""Sentence splitting with exact offsets: lines first, then Bling Fire inside each line.

A line break ends a sentence (table rows, headings and list items stay whole), except inside a
hard-wrapped paragraph when ``join_wrapped`` is set (:func:`wraps_into`: prose broken at 72 or 80
columns, as plain-text manuals, FAQs and RFCs are) or inside a list item whose lines hang at its
text's column (:func:`continues_item`, as Markdown wraps a list); inside a line, or such a paragraph, Bling
Fire's sentence breaker finds the boundaries, and a bare reply ("Yes.", "No, sorry.") stays with the
sentence after it. Pieces are trimmed of white space and a sentence
longer than ``max_chars`` is cut at word boundaries, so every piece fits a chunk.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from indexer.text import LINE_BREAK

_SPACE = "\ufeff\u200b"  # a BOM or zero-width space is white space for boundaries


def _is_space(ch: str) -> bool:
    return ch.isspace() or ch in _SPACE


def trim(text: str, start: int, end: int) -> tuple[int, int]:
    """``(start, end)`` moved inwards past white space."""
    while start < end and _is_space(text[start]):
        start += 1
    while end > start and _is_space(text[end - 1]):
        end -= 1
    return start, end


def lines_of(text: str, pos: int = 0) -> Iterator[tuple[int, int]]:
    """The lines of ``text`` from ``pos`` (a line start) on, as ``(start, end)`` without their breaks."""
    for m in LINE_BREAK.finditer(text, pos):
        yield pos, m.start()
        pos = m.end()
    yield pos, len(text)


# what opens a block rather than going on with a wrapped line: a heading, a table row, a quotation, a list item
# or an option ("-a"), a rule or a table's border ("+---+", "====="); not a word in Org's or Markdown's emphasis
# ("=C-h= in the middle ...", "*not* ...", "+FORMAT." wrapped from the line before)
_BLOCK_START = re.compile(r"^(?:[#|>•-]|\*+(?=\s)|\*{3,}[ \t]*$|\+(?=[\s+=-])|=(?=[=\s]|$)"
                          r"|\d{1,3}[.)]\s|[A-Za-z][.)]\s)")


# a line broken by a wrap fills most of a 60-100 column line: shorter ones end a list entry or a
# title, longer ones are whole paragraphs written one a line (nothing is wrapped there)
WRAP_WIDTH = (45, 100)
# ... but a PDF's lines are as wide as its page sets them: 100-120 characters are common (gnuplot's, valgrind's
# and bzip2's manuals: a quarter to a third of their lines), so a PDF's wrapped line may be this long
PDF_WIDEST_LINE = 140


def indent(line: str) -> int:
    """The white space a line opens with, in characters."""
    return len(line) - len(line.lstrip())


# a paragraph's first line may be indented this much more than the lines it wraps into (GNU Info
# manuals, plain-text licences: "   The release is provided as a gzipped tar file called" / "'gdb-...")
FIRST_LINE_INDENT = 8


# a line that stops mid-clause (on a lower-case word or a comma) runs on into a next line that opens in lower
# case or with a code span, whatever its length: Markdown is often wrapped short before a code span or a link
# ("To run the linter without running tests, use" / "`make lint`."); a line longer than a wrapped one also runs
# on into a quotation that goes on with it (a PDF's 110-character line: 'what's the difference between "definitely
# lost", "indirectly lost",' / '"possibly lost", ...'), and stops mid-clause on a word in quotes too ('If you fix the
# "definitely lost"' / 'leaks, the ...'); a short line does not (a setting's 'set username "username"')
# (a word after a space: not "PATH=/usr/bin"; the next line no "label: value" one, no code fence)
_MID_CLAUSE = re.compile(r"(?:(?<=\s)[a-z][a-z'’-]*|,)$")
_RUNS_ON = re.compile(r"(?![\w &-]+:\s|[\w.-]+\s*=)(?:[a-z]|`(?!``))")
# ... and a line longer than a wrapped one (a PDF's) also with a word in quotes, on either side
_MID_CLAUSE_QUOTED = re.compile(r"(?<=\s)[\"“‘']?[a-z][a-z'’-]*[\"”’]$")
_RUNS_ON_QUOTED = re.compile(r"[\"“‘'][a-z]")
FENCE = re.compile(r"[ \t]*(?:```|~~~)")
MID_CLAUSE_CHARS = 20


# a rule: a line of one punctuation mark repeated ("-----", "=====", "* * *"), which separates, not wraps
_RULE = re.compile(r"([-=_*~+#.•·])(?: ?\1){2,}")


def wraps_into(a: str, b: str, first: bool = False, code: bool = False, widest: int = WRAP_WIDTH[1]) -> bool:
    """Whether line ``a`` runs on into line ``b`` as one hard-wrapped paragraph: ``a`` fills a wrapped
    line (``WRAP_WIDTH`` characters, at most ``widest``: a PDF's are wider) or stops mid-clause before a line
    that goes on with it (:data:`_MID_CLAUSE`; not inside a fenced code block, ``code``), both hold text at the same
    indentation (a code block or a quotation is indented otherwise; with ``first``, ``a`` opening a
    paragraph, it may be indented up to ``FIRST_LINE_INDENT`` more), ``b`` opens no list item, heading,
    table row or quotation, and ``a`` is no table row, heading or rule (:data:`_RULE`) and leads into nothing
    (ends in no colon).

    >>> wraps_into("  Note that a Z_BUF_ERROR is not fatal--another call to deflate() or", "  inflate() works.")
    True
    >>> wraps_into("Install it:", "    make install")
    False
    >>> wraps_into("To run the linter without running tests, use", "`make lint`.")
    True
    >>> wraps_into("   The GDB debugger sources, the generic GNU include", "files, the BFD library", first=True)
    True
    """
    sa, sb = a.strip(), b.strip()
    indented = first and indent(b) < indent(a) <= indent(b) + FIRST_LINE_INDENT
    if not sa or not sb or not (indent(a) == indent(b) or indented) or _RULE.fullmatch(sa):
        return False
    if not WRAP_WIDTH[0] <= len(a.rstrip()) <= widest and (
            code or len(sa) < MID_CLAUSE_CHARS or "=" in sa or not _goes_on(a, sa, sb, widest)):
        return False
    return not (sa.startswith(("|", "#")) or sa.endswith(":") or _BLOCK_START.match(sb))


def _goes_on(a: str, sa: str, sb: str, widest: int = WRAP_WIDTH[1]) -> bool:
    """Whether line ``sa`` stops mid-clause and ``sb`` goes on with it (:data:`_MID_CLAUSE`); for a line
    longer than a wrapped one (``a``), a word in quotes on either side counts as well."""
    if _MID_CLAUSE.search(sa) and _RUNS_ON.match(sb):
        return True
    return len(a.rstrip()) > widest and bool(_MID_CLAUSE.search(sa) or _MID_CLAUSE_QUOTED.search(sa)) \
        and bool(_RUNS_ON.match(sb) or _RUNS_ON_QUOTED.match(sb))


# "- ", "2. ", "5.3. ", "(2) ", "(b) ", "a) ", "g. ", "iv. ", "(ii) " (a contract's or a licence's clauses)
_ITEM = re.compile(r"[ \t]*(?:[*+•-]|\d{1,3}(?:\.\d{1,3})*[.)]|\((?:\d{1,3}|[A-Za-z]|[ivx]{2,4})\)"
                   r"|(?:[A-Za-z]|[ivx]{2,4})[.)])[ \t]+(?=\S)")


def item_column(line: str) -> int | None:
    """The column where the text of a list item starts, None for a line that opens no list item.

    >>> item_column("2. UIDs for dynamic users are allocated from this range (see the")
    3
    >>> item_column("  g. License Elements means the license attributes listed in the name")
    5
    """
    m = _ITEM.match(line)
    return m.end() if m else None


def continues_item(column: int | None, b: str) -> bool:
    """Whether line ``b`` goes on with a list item whose text starts at ``column``: it is indented to that
    column (a hanging indent, as Markdown and plain-text lists wrap) and opens no item, heading or row."""
    sb = b.strip()
    return column is not None and bool(sb) and indent(b) == column and not _BLOCK_START.match(sb)


# lines after a line that count for the width its paragraph is wrapped at (:func:`stops_short`)
WIDTH_REACH = 3
# columns a hand-wrapped line may stop short of its paragraph's width and still be wrapped
WRAP_SLACK = 6
_OPEN_END = re.compile(r"[.!?:;,(\[{\"'“‘/&+=-]$")
_CAPITALISED = re.compile(r"[A-Z][a-z]")
# words a line that stops short cannot end a title or a sentence on
_LEADS_ON = frozenset("""
    a an the and or but nor of to in on at by for with from into onto as than that which who whom whose
    if when while because so our your their its his her my this these those is are was were be been
""".split())


def stops_short(a: str, b: str, width: int) -> bool:
    """Whether line ``a`` ends before line ``b`` on purpose, as a title or a sentence without its stop
    does ("5. Works that do not meet our free software standards" / "We acknowledge that ..."): ``b``
    opens with a capitalised word (not one in capitals: a licence's shouted clause) that would have
    fitted on ``a`` with ``WRAP_SLACK`` to spare within ``width`` (the longest line around: a wrap would
    have taken it), and ``a`` ends on no punctuation and no word such as "the" or "and" that leads on.

    >>> stops_short("  5. Works that do not meet our standards", "     We acknowledge that some users require it", 50)
    True
    >>> stops_short("  the licences of the", "     Debian archive", 50)
    False
    """
    sa, sb = a.rstrip(), b.split()
    if not sa or not sb or not _CAPITALISED.match(sb[0]) or _OPEN_END.search(sa):
        return False
    last = sa.split()[-1]
    return last.lower() not in _LEADS_ON and len(sa) + 1 + len(sb[0]) <= width - WRAP_SLACK


PAGE_BREAK_LINE = "\f"  # the line between two pages of a PDF's text (indexer.formats.pdf.PAGE_BREAK)


# a line that a page break cuts in the middle of its sentence ends on a word, a comma or a hyphen (not on a
# stop, a page number of a table of contents, or markup: "</edit>")
_CUT_BY_PAGE = re.compile(r"(?:[^\W\d_]|[,\-–])$")


def goes_over_page(a: str, b: str) -> bool:
    """Whether line ``a``, the last of a PDF's page, runs on into ``b``, the first of the next: it wraps
    into it (:func:`wraps_into`) and stops mid-sentence (``_CUT_BY_PAGE``), a page break being no place
    for a sentence to end unmarked where a line break might be."""
    return bool(_CUT_BY_PAGE.search(a.rstrip())) and wraps_into(a, b, widest=PDF_WIDEST_LINE)


def runs_over_page(page: str, following: str) -> bool:
    """Whether the last line of ``page`` (a PDF's page, with the page break after it) runs on into the
    first line of ``following`` (:func:`goes_over_page`)."""
    before = [t for t in LINE_BREAK.split(page) if t.strip() and t != PAGE_BREAK_LINE]
    after = [t for t in LINE_BREAK.split(following) if t.strip() and t != PAGE_BREAK_LINE]
    return bool(before and after) and goes_over_page(before[-1], after[0])


def units(text: str, join_wrapped: bool, widest: int = WRAP_WIDTH[1],
          own_lines: str | None = None) -> Iterator[tuple[int, int]]:
    """The lines of ``text``, or with ``join_wrapped`` its runs of lines that wrap into each other: a
    hard-wrapped paragraph (:func:`wraps_into`), or a list item with its hanging-indented lines, whatever
    their length (:func:`continues_item`: a link or a code span often leaves a wrapped line short), unless
    the first line stops short of its paragraph's width before a capital (:func:`stops_short`: a title), or
    either line is one that ``own_lines`` (a regular expression) matches at its start (an Org headline).
    A paragraph runs on over a PDF's page break (``PAGE_BREAK_LINE``) where its lines would wrap into each
    other without it."""
    run: tuple[int, int, int] | None = None  # start, end, start of the last line
    column = None  # the text column of the list item the run opens with
    opens = True  # the run's first line opens a paragraph (a blank line, or nothing, before it)
    fenced = False  # inside a Markdown fenced code block
    own = re.compile(own_lines).match if own_lines else None
    lines = list(lines_of(text))
    for i, (a, b) in enumerate(lines):
        if run is not None and join_wrapped and text[a:b] == PAGE_BREAK_LINE and i + 1 < len(lines) \
                and not fenced and goes_over_page(text[run[2]:run[1]], text[slice(*lines[i + 1])]):
            continue  # a PDF's page break inside a paragraph: the sentence runs on over it
        joins = run is not None and join_wrapped and not (own and (own(text, run[2], run[1]) or own(text, a, b))) and (
            continues_item(column, text[a:b])
            or wraps_into(text[run[2]:run[1]], text[a:b], first=opens and run[0] == run[2], code=fenced,
                          widest=widest))
        if joins and run is not None and run[0] == run[2]:  # a title is a paragraph's first line
            ahead = [text[x:y].rstrip() for x, y in lines[i:i + 1 + WIDTH_REACH]]
            ahead = ahead[:next((k for k, t in enumerate(ahead) if not t.strip()), len(ahead))]
            joins = not stops_short(text[run[2]:run[1]], text[a:b], max(map(len, ahead)))
        fenced ^= bool(FENCE.match(text, a, b))
        if joins and run is not None:
            run = (run[0], b, a)
            continue
        if run is not None:
            yield run[0], run[1]
            opens = not text[run[2]:run[1]].strip()
        run = (a, b, a)
        column = item_column(text[a:b])
    if run is not None:
        yield run[0], run[1]


def _blingfire_spans(line: str) -> list[tuple[int, int]]:
    import blingfire

    if len(line) < 2 or not re.search(r"[.!?…][\"'”’)\]]*\s", line):
        return [(0, len(line))]  # no sentence-final punctuation inside: one sentence
    _, offsets = blingfire.text_to_sentences_and_offsets(line)
    if not offsets:
        return [(0, len(line))]
    spans = []
    prev = 0
    for i, (_, b) in enumerate(offsets):
        end = len(line) if i == len(offsets) - 1 else b
        spans.append((prev, end))  # extend each sentence up to the next: nothing is dropped
        prev = end
    return spans


# a bare reply: "Yes.", "No, sorry." (a FAQ's answer opens so; the sentence after it says the rest)
_BARE_REPLY = re.compile(r"(?:yes|no)\b[^.!?\n]{0,16}[.!?]", re.I)


def _with_replies(line: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """``spans`` with a bare reply joined to the sentence after it: "Yes." alone answers nothing, and
    the sentence after it alone leaves out the answer ("However any library routines ...")."""
    out: list[tuple[int, int]] = []
    for a, b in spans:
        if out and _BARE_REPLY.fullmatch(line[out[-1][0]:out[-1][1]].strip()):
            out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


def _cut(text: str, start: int, end: int, max_chars: int) -> Iterator[tuple[int, int]]:
    """Cut ``text[start:end]`` into pieces of at most ``max_chars``, at white space if possible."""
    while end - start > max_chars:
        limit = start + max_chars
        cut = limit
        for i in range(limit, start + max_chars // 2, -1):
            if _is_space(text[i]):
                cut = i
                break
        yield trim(text, start, cut)
        start, _ = trim(text, cut, end)
    if end > start:
        yield start, end


def split_sentences(text: str, max_chars: int = 10_000, join_wrapped: bool = False,
                    widest: int = WRAP_WIDTH[1], own_lines: str | None = None) -> list[tuple[int, int]]:
    """Sentence spans ``(start, end)`` of ``text``, in order, trimmed, none longer than ``max_chars``;
    with ``join_wrapped``, a sentence may run over the lines of a hard-wrapped paragraph (whose wrapped lines
    are at most ``widest`` characters: :func:`wraps_into`), but not over a line that ``own_lines`` matches.

    Every non-space character of ``text`` lies in exactly one span.
    """
    if max_chars < 1:
        raise ValueError("max_chars must be positive")
    spans: list[tuple[int, int]] = []
    for line_start, line_end in units(text, join_wrapped, widest, own_lines):
        s, e = trim(text, line_start, line_end)
        if s == e:
            continue
        for a, b in _with_replies(text[s:e], _blingfire_spans(text[s:e])):
            a, b = trim(text, s + a, s + b)
            if a < b:
                spans.extend(_cut(text, a, b, max_chars))
    return spans


def _joined(a: str, b: str) -> bool:
    """Whether line ``a`` runs on into line ``b``: rows of one table, or prose wrapped mid-sentence."""
    a, b = a.strip(), b.strip()
    if not a or not b:
        return False
    if a.startswith("|") and b.startswith("|"):
        return True
    return a[-1] not in ".!?:;|" and not b.startswith(("#", "|", "-", "*"))


def paragraph(text: str, start: int, end: int) -> tuple[int, int]:
    """The paragraph of ``text`` holding ``text[start:end]``: its lines, widened over lines that run on
    into each other (a hard-wrapped paragraph, the rows of a table), stopping at blank lines."""
    lines = list(lines_of(text))
    first = next(i for i, (a, b) in enumerate(lines) if a <= start <= b)
    last = next(i for i, (a, b) in enumerate(lines) if a <= max(start, end - 1) <= b)
    while first > 0 and _joined(text[slice(*lines[first - 1])], text[slice(*lines[first])]):
        first -= 1
    while last + 1 < len(lines) and _joined(text[slice(*lines[last])], text[slice(*lines[last + 1])]):
        last += 1
    return trim(text, lines[first][0], lines[last][1])


_BLANK_LINE = re.compile(r"\n[ \t\r\f\v\u00a0]*\n")


def block(text: str, start: int, end: int) -> tuple[int, int]:
    """The block of ``text`` holding ``text[start:end]``: its lines up to a blank line (or the text's end) on
    either side, whatever they end with (:func:`paragraph` stops at a line that closes a sentence)."""
    a = 0
    for m in _BLANK_LINE.finditer(text, 0, start):
        a = m.end()
    after = _BLANK_LINE.search(text, end)
    return trim(text, a, after.start() if after else len(text))
