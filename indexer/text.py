"""Text normalisation for matching: words, stems, stopwords, SQuAD-style answer normalisation, lines.

Nothing here changes a document: offsets always index the decoded text as it is. These helpers
only derive keys for comparing words (lexical scoring, evaluation) and map offsets to lines.
"""

from __future__ import annotations

import re
import string
import unicodedata
from bisect import bisect_right
from collections.abc import Iterable
from functools import lru_cache

# A line ends at \r\n, \n or a lone \r; offsets keep the original characters.
LINE_BREAK = re.compile(r"\r\n|\r|\n")
_WORD = re.compile(r"[^\W_]+(?:[.,'’][^\W_]+)*", re.UNICODE)
# an inline HTML tag in Markdown ('<a name="x">', "</a>", "<br/>"); not the "<client,peer>" of
# "listen-<client,peer>-urls"
HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>")

# The common English function words (the list used by Lucene and scikit-learn, trimmed).
STOPWORDS = frozenset(
    """
    a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further
    had has have having he her here hers herself him himself his how i if in into is it its itself
    just me more most my myself no nor not now of off on once only or other our ours ourselves out
    over own same she should so some such than that the their theirs them themselves then there
    these they this those through to too under until up very was we were what when where which
    while who whom why will with would you your yours yourself yourselves s t also ever
    """.split()
)


class LineIndex:
    """Maps character offsets of one text to 1-based line numbers."""

    __slots__ = ("starts",)

    def __init__(self, text: str):
        self.starts = [0] + [m.end() for m in LINE_BREAK.finditer(text)]

    def line_of(self, offset: int) -> int:
        """The 1-based line holding the character at ``offset``."""
        return bisect_right(self.starts, offset)

    def lines(self, start: int, end: int) -> tuple[int, int]:
        """First and last line (inclusive) of the non-empty span ``[start, end)``."""
        return self.line_of(start), self.line_of(max(start, end - 1))


def words(text: str) -> list[str]:
    """Lower-cased words and numbers ("$1.5bn" -> ["1.5bn"], "company’s" -> ["company’s"])."""
    return [m.group().lower() for m in _WORD.finditer(text)]


@lru_cache(maxsize=1)
def _stemmer():
    import snowballstemmer

    # The original Porter algorithm: the same stems SQLite FTS5's porter tokenizer makes.
    return snowballstemmer.stemmer("porter")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    return _stemmer().stemWord(word)


@lru_cache(maxsize=8192)
def term_set(text: str) -> frozenset[str]:
    """The distinct ``terms`` of a text (remembered: passages come back question after question)."""
    return frozenset(terms(text))


def terms(text: str) -> list[str]:
    """Content terms of a text for lexical matching: words minus stopwords, Porter-stemmed."""
    out = []
    for w in words(text):
        w = w.replace("’", "'")
        if "'" in w:
            w = w.split("'", 1)[0]
        if w and w not in STOPWORDS:
            out.append(stem(w))
    return out


_NAME_PART = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
# a hash (hexadecimal, with a figure) or a serial number, not a name; "e2fsprogs", "ipv6", "log4j" are names
_NOT_A_NAME = re.compile(r"^(?=.*\d)[0-9a-fA-F]{6,}$|^0\d+$|^\d{5,}$")
_LETTERS_AND_FIGURES = re.compile(r"(?=.*\d)(?=.*[a-z])[a-z0-9]+", re.I)
_COMPRESSED = (".gz", ".bz2", ".xz", ".zst")  # a compressed file's name says what it holds before these


def path_words(source: str) -> str:
    """The words of a file's path, as a name for what it holds: "licences/GPL-3" -> "licences GPL 3",
    "topics/vcs-support.md" -> "topics vcs support", "userGuide.txt" -> "user Guide"; without the
    extension (a number is none: "Apache-2.0" keeps its "2.0"; "README.md.gz" loses both) and without parts
    that are hashes or serial numbers ("000_7964c127cd96d91a.txt" names nothing); a word of letters and
    figures is one word ("ipv6-howto.txt" -> "ipv6 howto")."""
    *folders, name = source.replace("\\", "/").split("/")
    if name.lower().endswith(_COMPRESSED) and name.count(".") >= 2:  # "README.md.gz" names a README
        name = name.rsplit(".", 1)[0]
    stem, dot, suffix = name.rpartition(".")
    if dot and stem and not suffix.isdigit():
        name = stem
    out = []
    for part in re.findall(r"\d+(?:\.\d+)+|[^\W_]+", " ".join([*folders, name])):
        if not _NOT_A_NAME.match(part):
            whole = part[0].isdigit() or _LETTERS_AND_FIGURES.fullmatch(part)  # "2.0", "ipv6": one word
            out.extend([part] if whole else _NAME_PART.findall(part))
    return " ".join(out)


def fts_query(text: str) -> str:
    """An FTS5 MATCH expression: any of the question's content words (OR), each quoted. A number with
    points or commas ("1.1", "2.6.32", "1,000") is the phrase of its parts ("1 1"), as the tokenizer cut
    it in the text: "1" alone, in half the passages of a release history, would find nothing."""
    seen: dict[str, None] = {}
    for w in words(text):
        w = w.replace("’", "'").split("'", 1)[0]
        parts = [p for p in re.split(r"[.,]", w) if p]
        if len(parts) > 1 and all(p.isdigit() for p in parts):
            seen.setdefault(" ".join(parts), None)
            continue
        for part in parts:
            if part not in STOPWORDS:
                seen.setdefault(part, None)
    return " OR ".join(f'"{w}"' for w in seen)


# SQuAD's answer normalisation: lower case, no punctuation, no articles, single spaces.
_PUNCT = set(string.punctuation) | {"’", "‘", "“", "”"}
# A dash or slash between words separates them ("production—not"): it becomes a space, not nothing.
_SEPARATORS = str.maketrans({"—": " ", "–": " ", "/": " "})
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize_answer(text: str) -> str:
    """Normalise an answer string the way the SQuAD evaluation script does (dashes and slashes
    between words become spaces, so words they join stay apart)."""
    text = unicodedata.normalize("NFKC", text).lower().translate(_SEPARATORS)
    text = "".join(ch for ch in text if ch not in _PUNCT)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


_POSSESSIVE = re.compile(r"(?<=\w)['’]s\b")


def contains_answer(span: str, answers: Iterable[str]) -> bool:
    """True when any accepted answer occurs in ``span`` after normalisation; a possessive in the span
    still holds the name ("Microsoft’s investment" holds "Microsoft")."""
    norms = (f" {normalize_answer(span)} ", f" {normalize_answer(_POSSESSIVE.sub('', span))} ")
    return any(a.strip() and any(f" {normalize_answer(a)} " in n for n in norms) for a in answers)
