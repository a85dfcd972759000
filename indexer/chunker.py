"""Chunking: windows of whole sentences (or fixed-size character windows), with exact offsets and lines."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, NamedTuple

from indexer.schema import Chunk, Sentence
from indexer.sentences import WRAP_WIDTH, runs_over_page, split_sentences, trim
from indexer.text import LINE_BREAK, LineIndex

STRATEGIES = ("sentences", "fixed")

if TYPE_CHECKING:
    from indexer.formats.layout import Region


@dataclass(frozen=True)
class ChunkerSettings:
    """How documents are cut; stored in the manifest, so changing it rebuilds the index.

    ``strategy="sentences"`` packs whole sentences into chunks of at most ``max_chars`` with
    ``overlap_sentences`` shared; ``"fixed"`` cuts plain windows of ``max_chars`` characters that
    start every ``max_chars - overlap_chars`` characters (a baseline: words may be cut).
    """

    max_chars: int = 600
    overlap_sentences: int = 1
    # A sentence longer than this is cut into pieces at word boundaries (default: min(400, max_chars)).
    max_sentence_chars: int | None = None
    strategy: str = "sentences"  # sentences | fixed
    overlap_chars: int = 0  # "fixed" only
    # a sentence may run over the lines of a hard-wrapped paragraph (indexer.sentences.wraps_into)
    join_wrapped: bool = True
    # the widest line a wrap fills (indexer.sentences.WRAP_WIDTH); set for a format whose lines are wider (a
    # PDF's: indexer.sentences.PDF_WIDEST_LINE), not stored: the format decides it, not the user
    wrap_width: int = WRAP_WIDTH[1]
    # lines that are sentences of their own, neither running on nor run into (a regular expression matched at a
    # line's start): an Org headline or drawer line, an AsciiDoc title or attribute entry; set by the format,
    # not stored
    own_lines: str | None = None

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {', '.join(STRATEGIES)}")
        if not 0 <= self.overlap_chars < self.max_chars // 2 + 1:
            raise ValueError("overlap_chars must be in 0..max_chars/2")
        if self.max_sentence_chars is None:
            object.__setattr__(self, "max_sentence_chars", self.sentence_chars)
        if self.max_chars < 20:
            raise ValueError("max_chars must be at least 20")
        if not 0 <= self.overlap_sentences < 20:
            raise ValueError("overlap_sentences must be in 0..19")
        if not 1 <= self.sentence_chars <= self.max_chars:
            raise ValueError("max_sentence_chars must be in 1..max_chars")

    @property
    def sentence_chars(self) -> int:
        """The longest sentence kept whole: ``max_sentence_chars``, by default min(400, max_chars)."""
        return self.max_sentence_chars if self.max_sentence_chars is not None else min(400, self.max_chars)

    def to_dict(self) -> dict[str, int | str]:
        out = asdict(self)
        del out["wrap_width"], out["own_lines"]
        return out


def sentences_of(text: str, source: str, settings: ChunkerSettings) -> list[Sentence]:
    """The sentences of a document, ids numbered from 0 within the document."""
    lines = LineIndex(text)
    out = []
    spans = split_sentences(text, settings.sentence_chars, settings.join_wrapped, settings.wrap_width,
                            settings.own_lines)
    for i, (start, end) in enumerate(spans):
        first, last = lines.lines(start, end)
        out.append(Sentence(text[start:end], source, start, end, first, last, id=i))
    return out


def chunk_sentences(
    text: str, source: str, sentences: list[Sentence], settings: ChunkerSettings
) -> list[Chunk]:
    """Pack consecutive sentences into chunks of at most ``settings.max_chars`` characters.

    Consecutive chunks share ``overlap_sentences`` sentences; chunk ids are numbered from 0
    within the document, ``first_sentence``/``last_sentence`` index ``sentences``.
    """
    lines = LineIndex(text)
    chunks: list[Chunk] = []
    i = 0
    n = len(sentences)
    while i < n:
        j = i
        while j + 1 < n and sentences[j + 1].end_char - sentences[i].start_char <= settings.max_chars:
            j += 1
        start, end = sentences[i].start_char, sentences[j].end_char
        first, last = lines.lines(start, end)
        chunks.append(
            Chunk(text[start:end], source, start, end, first, last,
                  id=len(chunks), first_sentence=i, last_sentence=j)
        )
        if j == n - 1:
            break
        i = max(i + 1, j + 1 - settings.overlap_sentences)
    return chunks


def chunk_fixed(text: str, source: str, sentences: list[Sentence], settings: ChunkerSettings) -> list[Chunk]:
    """Windows of ``settings.max_chars`` characters every ``max_chars - overlap_chars`` characters,
    trimmed of white space at both ends (blank windows are dropped).

    ``first_sentence``/``last_sentence`` name the sentences lying wholly inside the window (an
    empty range, ``last < first``, when none does), so that a chunk's sentences are its own text.
    """
    lines = LineIndex(text)
    starts = [s.start_char for s in sentences]
    ends = [s.end_char for s in sentences]
    step = settings.max_chars - settings.overlap_chars
    chunks: list[Chunk] = []
    pos = 0
    while pos < len(text):
        start, end = trim(text, pos, min(len(text), pos + settings.max_chars))
        if start < end:
            first = bisect_left(starts, start)  # first sentence starting inside
            last = bisect_right(ends, end) - 1  # last sentence ending inside
            first_line, last_line = lines.lines(start, end)
            chunks.append(Chunk(text[start:end], source, start, end, first_line, last_line,
                                id=len(chunks), first_sentence=first, last_sentence=max(last, first - 1)))
        if pos + settings.max_chars >= len(text):
            break
        pos += step
    return chunks


def chunk_text(text: str, source: str, settings: ChunkerSettings | None = None) -> tuple[list[Sentence], list[Chunk]]:
    """Sentences and chunks of one document."""
    settings = settings or ChunkerSettings()
    sentences = sentences_of(text, source, settings)
    if settings.strategy == "fixed":
        return sentences, chunk_fixed(text, source, sentences, settings)
    return sentences, chunk_sentences(text, source, sentences, settings)


STREAM_WINDOW = 1 << 18  # characters split into sentences at a time when a document is streamed


class ChunkBatch(NamedTuple):
    """The next stretch of a streamed document and the spans completed so far.

    ``text`` starts at ``start_char``; the batches' texts, in order, make the whole document.
    Sentence and chunk offsets, lines and ids are those of the whole document; a chunk may
    name sentences of an earlier batch.
    """

    start_char: int
    text: str
    sentences: list[Sentence]
    chunks: list[Chunk]


def chunk_stream(pieces: Iterable[str], source: str, settings: ChunkerSettings | None = None,
                 window: int | None = None, regions: Sequence[Region] = ()) -> Iterator[ChunkBatch]:
    """Sentences and chunks of a document that arrives as text pieces, in memory bounded by ``window``
    (characters; default ``STREAM_WINDOW``).

    Text is split into sentences a stretch at a time, cut after a blank line (else a line break, which a
    sentence may run on over, in a wrapped paragraph or over a page break), and chunks are packed as they
    complete; the last chunk of each round is re-packed with the next round's sentences. The result equals
    :func:`chunk_text` on the whole text whenever every ``window`` characters hold a blank line (or no sentence
    runs over a line break), no line is longer than ``window`` and no stretch of it is blank; a
    longer line is cut before its last sentence (a sentence boundary there may differ) and a chunk
    is closed at a long blank stretch. Every span is verbatim either way. With ``regions`` (the sections
    found beforehand: :func:`indexer.formats.plain.stream_regions`), no chunk crosses a region's start and
    every span carries its region's section, as :func:`chunk_regions` gives them.
    """
    settings = settings or ChunkerSettings()
    window = window or STREAM_WINDOW
    starts = [r.start for r in regions]

    def region_of(pos: int) -> int:
        return max(bisect_right(starts, pos) - 1, 0)

    pos, line = 0, 1  # offset and line number of the next segment
    carried: list[Sentence] = []  # sentences of the chunk still being packed
    buf, buf_start = "", 0  # text from carried[0] on
    n_sentences = n_chunks = 0
    for segment, eof in _segments(pieces, window, settings):
        # the segment's sentences, split apart at the sections' starts in it, as chunk_regions splits each
        # section's text alone (a sentence runs on over a form feed, but not into the next section)
        inside = starts[bisect_right(starts, pos):bisect_left(starts, pos + len(segment))]
        cuts = [0, *(at - pos for at in inside), len(segment)]
        new: list[Sentence] = []
        first_line = line
        for a, b in zip(cuts, cuts[1:]):
            section = regions[region_of(pos + a)].section if regions else None
            new += [replace(s, start_char=s.start_char + pos + a, end_char=s.end_char + pos + a,
                            start_line=s.start_line + first_line - 1, end_line=s.end_line + first_line - 1,
                            id=n_sentences + len(new) + s.id, section=section)
                    for s in sentences_of(segment[a:b], source, settings)]
            first_line += sum(1 for _ in LINE_BREAK.finditer(segment, a, b))
        n_sentences += len(new)
        seg_start = pos
        pos += len(segment)
        line += sum(1 for _ in LINE_BREAK.finditer(segment))
        sents = carried + new
        if not carried:
            buf, buf_start = "", seg_start
        buf += segment
        chunks: list[Chunk] = []
        if sents:
            if sents[0].start_char > buf_start:  # the buffer starts with the first sentence
                buf, buf_start = buf[sents[0].start_char - buf_start:], sents[0].start_char
            # the sentences by region (one group without regions): each is packed alone, and only the last
            # region's last chunk may still grow
            groups: list[list[int]] = []
            for i, s in enumerate(sents):
                if groups and (not regions or region_of(s.start_char) == region_of(sents[groups[-1][0]].start_char)):
                    groups[-1].append(i)
                else:
                    groups.append([i])
            stalled = pos - sents[-1].end_char > max(window, settings.max_chars)
            keep_from = None
            for g, members in enumerate(groups):
                first = sents[members[0]]
                at, base_line = first.start_char, first.start_line
                text = buf[at - buf_start:sents[members[-1]].end_char - buf_start]
                local = [replace(sents[i], start_char=sents[i].start_char - at, end_char=sents[i].end_char - at)
                         for i in members]
                packed = chunk_sentences(text, source, local, settings)
                last = g == len(groups) - 1
                done = packed if eof or stalled or not last else packed[:-1]
                for c in done:
                    chunks.append(replace(c, start_char=c.start_char + at, end_char=c.end_char + at,
                                          start_line=c.start_line + base_line - 1, end_line=c.end_line + base_line - 1,
                                          id=n_chunks, first_sentence=sents[members[c.first_sentence]].id,
                                          last_sentence=sents[members[c.last_sentence]].id, section=first.section))
                    n_chunks += 1
                if last and not (eof or stalled):
                    keep_from = members[packed[-1].first_sentence]
            carried = [] if keep_from is None else sents[keep_from:]
            if carried:
                buf, buf_start = buf[carried[0].start_char - buf_start:], carried[0].start_char
        yield ChunkBatch(seg_start, segment, new, chunks)


def _segments(pieces: Iterable[str], window: int, settings: ChunkerSettings) -> Iterator[tuple[str, bool]]:
    """The text again, as stretches of at most about ``window`` characters cut where sentences
    allow; the flag is true for the last one (which may be empty)."""
    pending = ""
    for piece in pieces:
        pending += piece
        while len(pending) >= window:
            cut = _safe_cut(pending[:window], settings) or _safe_cut(pending, settings)
            if not cut:
                break  # one sentence longer than the text so far: read on
            yield pending[:cut], False
            pending = pending[cut:]
    yield pending, True


_BLANK_LINE = re.compile(r"(?:\r\n|\r(?!\n)|\n)[ \t]*(?:\r\n|\r|\n)")  # not a form feed: a PDF's page break, run over


def _safe_cut(text: str, settings: ChunkerSettings) -> int:
    """Where ``text`` can be cut without changing its sentences: after its last blank line (a sentence may run
    over the lines of a wrapped paragraph, ``join_wrapped``), else after its last line break, else (one long
    line) before its last sentence; 0 if there is no such place yet."""
    if settings.join_wrapped:
        blank = None
        for m in _BLANK_LINE.finditer(text):
            if not (m.end() == len(text) and text[-1] == "\r"):  # never between \r and \n
                blank = m
        if blank is not None:
            return blank.end()
    brk = max(text.rfind("\n"), text.rfind("\r", 0, len(text) - 1))  # never between \r and \n
    if brk >= 0:
        return brk + 1
    spans = split_sentences(text, settings.sentence_chars, settings.join_wrapped, settings.wrap_width,
                            settings.own_lines)
    return spans[-1][0] if len(spans) > 1 else 0


def chunk_regions(
    text: str, source: str, regions: Sequence[Region], settings: ChunkerSettings | None = None
) -> tuple[list[Sentence], list[Chunk]]:
    """Sentences and chunks of a document cut into regions (pages, sections).

    Each section is chunked on its own (``chunk_text`` on its slice), so no sentence or chunk
    crosses a section boundary and no overlap reaches into the next section; every span carries
    its region's ``page`` and ``section``. A PDF's page whose last sentence goes on over the page
    break is read as one text with the next (:func:`flows`): the sentence runs on over the break as it
    does over a line break, and a span carries the page it starts on. Offsets and lines are those of
    the whole ``text``, ids run on across regions. With no regions this is ``chunk_text``.
    """
    settings = settings or ChunkerSettings()
    if not regions:
        return chunk_text(text, source, settings)
    lines = LineIndex(text)
    sentences: list[Sentence] = []
    chunks: list[Chunk] = []
    for flow in flows(text, regions):
        start, end = flow[0].start, flow[-1].end
        if start >= end:
            continue
        starts = [r.start - start for r in flow]
        pages = [r.page for r in flow]
        local_sentences, local_chunks = chunk_text(text[start:end], source, settings)
        s0, c0 = len(sentences), len(chunks)
        sentences.extend(_place(s, start, flow[0].section, _page_at(s.start_char, starts, pages), lines,
                                id=s0 + s.id) for s in local_sentences)
        chunks.extend(_place(c, start, flow[0].section, _page_at(c.start_char, starts, pages), lines, id=c0 + c.id,
                             first_sentence=s0 + c.first_sentence, last_sentence=s0 + c.last_sentence)
                      for c in local_chunks)
    return sentences, chunks


def flows(text: str, regions: Sequence[Region]) -> list[list[Region]]:
    """``regions`` grouped into runs read as one text: a page whose paragraph runs on into the next page
    (:func:`indexer.sentences.runs_over_page`), with that page when it is under the same section and starts
    where it ends; any other region alone."""
    out: list[list[Region]] = []
    for r in regions:
        last = out[-1][-1] if out else None
        if last is not None and r.page is not None and last.page is not None and r.page != last.page \
                and r.section == last.section and r.start == last.end \
                and runs_over_page(text[last.start:last.end], text[r.start:r.end]):
            out[-1].append(r)
        else:
            out.append([r])
    return out


def _page_at(pos: int, starts: list[int], pages: list[int | None]) -> int | None:
    """The page of the region (starting at ``starts``, in order) that offset ``pos`` falls in."""
    return pages[max(bisect_right(starts, pos) - 1, 0)]


def _place(span, offset: int, section: str | None, page: int | None, lines: LineIndex, **ids):
    """A span of a slice starting at ``offset`` moved to the whole text, with its page and section."""
    start, end = span.start_char + offset, span.end_char + offset
    first, last = lines.lines(start, end)
    return replace(span, start_char=start, end_char=end, start_line=first, end_line=last,
                   page=page, section=section, **ids)
