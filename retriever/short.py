"""Short answers: the few words inside an answer span that answer the question ("$8 billion").

A rule-based extractor driven by the question's answer type (``retriever.cues``): an amount, a
percentage, a count, a date or duration, a new name, or for a table row the cells the question
does not already mention. The result is a verbatim slice of the answer span with exact offsets
and lines, or None when nothing fits (the whole span stands).
"""

from __future__ import annotations

import re

from indexer.schema import Span
from indexer.text import STOPWORDS, words
from retriever.cues import question_type, word_key

_NUM = r"\d[\d,]*(?:\.\d+)?"
_SCALE = r"(?:\s?(?:bn|billion|million|trillion|thousand)\b|[BMK]\b)"
_AMOUNT = rf"[~≈]?[$€£¥]\s?{_NUM}\+?{_SCALE}?|{_NUM}{_SCALE}"
_PATTERNS = {
    "money": re.compile(rf"(?:between\s+)?(?:{_AMOUNT})(?:\s+(?:and|to)\s+(?:{_AMOUNT}))?", re.I),
    "percent": re.compile(rf"{_NUM}\s?%|{_NUM} per ?cent", re.I),
    "number": re.compile(rf"(?:(?:hundreds|thousands|millions|billions|dozens|tens) of )*(?:hundreds|thousands|"
                         rf"millions|billions|dozens)|{_NUM}(?:{_SCALE})?|\b(?:two|three|four|five|six|seven|eight|"
                         rf"nine|ten|eleven|twelve|twenty|fifty)\b", re.I),
    "duration": re.compile(rf"(?:{_NUM}|a few|several|many|two|three|four|five|six|seven|eight|nine|ten)\s+"
                           rf"(?:decades?|years?|months?|weeks?|days?|hours?)|\b(?:decades|years|months)\b", re.I),
    "date": re.compile(r"(?:(?:last|next|this|early|late|mid|in|by|through|since)\s+)?(?:(?:January|February|"
                       r"March|April|May|June|July|August|September|October|November|December)(?:\s+\d{1,2})?"
                       r"(?:,?\s+(?:19|20)\d\d)?|(?:19|20)\d\d)\b", re.I),
}
_NAME_RUN = re.compile(r"\b[A-Z][\w’'.-]*[A-Za-z](?:\s+(?:[A-Z][\w’'.-]*[A-Za-z]|(?:of|de|van|von)(?=\s+[A-Z])))*")
_LOCATIVE = re.compile(r"\b(?:in|at|from|near|outside|inside)\s+$", re.I)
_CELL = re.compile(r"[^|]+")


def _content(text: str) -> set[str]:
    return {word_key(w) for w in words(text)} - STOPWORDS


def _name_runs(text: str, asked: set[str]) -> list[tuple[int, int]]:
    """Runs of capitalised words that the question does not mention (a sentence-initial common word
    such as "Before" is skipped when it is a stopword; dates are not names)."""
    out = []
    for m in _NAME_RUN.finditer(text):
        if _PATTERNS["date"].fullmatch(m.group()):
            continue
        toks = m.group().split()
        keep = [t for t in toks if word_key(t) not in asked]
        if not keep or all(t.lower() in STOPWORDS for t in keep):
            continue
        if toks[0].lower() in STOPWORDS or toks[0].lower() in asked:  # trim a leading common/asked word
            start = m.start() + m.group().index(keep[0])
        else:
            start = m.start()
        out.append((start, m.end()))
    return out


def _table_cells(text: str, asked: set[str]) -> tuple[int, int] | None:
    """For a table row "| a | b | c |": the first cell the question does not mention at all."""
    if text.count("|") < 2:
        return None
    cells = [(m.start(), m.end()) for m in _CELL.finditer(text) if m.group().strip()]
    new = [(a, b) for a, b in cells if not (_content(text[a:b]) & asked)]
    if not new or len(new) == len(cells):
        return None
    a, b = new[0]
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return (a, b) if a < b else None


def short_offsets(question: str, text: str) -> tuple[int, int] | None:
    """Offsets, within ``text``, of the short answer to ``question``, or None."""
    asked = _content(question)
    qtype = question_type(question)
    cell = _table_cells(text, asked)
    if cell is not None and qtype is None:
        return cell
    if qtype in _PATTERNS:
        for m in _PATTERNS[qtype].finditer(text):
            if not (_content(m.group()) & asked) or qtype == "date":
                return m.start(), m.end()
        return cell
    if qtype in ("name", "place"):
        runs = _name_runs(text, asked)
        if qtype == "place":  # prefer a name after "in", "at", "from" ...
            runs = sorted(runs, key=lambda r: not _LOCATIVE.search(text[:r[0]]))
        if runs:
            return runs[0]
    return cell


def short_answer(question: str, span: Span) -> Span | None:
    """The short answer inside ``span`` as a verbatim Span of the same document, or None."""
    found = short_offsets(question, span.text)
    if found is None:
        return None
    a, b = found
    start_line = span.start_line + len(re.findall(r"\r\n|\r|\n", span.text[:a]))
    end_line = start_line + len(re.findall(r"\r\n|\r|\n", span.text[a:b]))
    return Span(span.text[a:b], span.source, span.start_char + a, span.start_char + b, start_line, end_line)
