"""Answer-type and entity cues: what a question asks for, and whether a text holds it.

Plain regular expressions over English text, no model: a question is typed (money, percent,
number, duration, date, place, name, or none) and a candidate text is checked for that kind of
thing; the question's named entities (capitalised words, numbers) are checked for presence.
"""

from __future__ import annotations

import re
from functools import lru_cache

from indexer.text import STOPWORDS, words

_MONEY = re.compile(r"[$€£¥]\s?\d|\d\s?(?:bn|billion|million|trillion|thousand)\b|\b\d+(?:\.\d+)?\s?[BMK]\b", re.I)
_PERCENT = re.compile(r"\d\s?%|\bper ?cent\b", re.I)
_NUMBER_WORDS = (r"hundreds?|thousands?|millions?|billions?|trillions?|dozens?|two|three|four|five|six|seven|"
                 r"eight|nine|ten|eleven|twelve|twenty|fifty")
_NUMBER = re.compile(rf"\d|\b(?:{_NUMBER_WORDS})\b", re.I)
_DURATION = re.compile(rf"\d|\b(?:{_NUMBER_WORDS}|decades?|years?|months?|weeks?|days?|hours?|minutes?)\b", re.I)
_DATE = re.compile(
    r"\b(?:1[89]|20)\d\d\b|\b(?:January|February|March|April|May|June|July|August|September|October|"
    r"November|December|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|"
    r"spring|summer|autumn|winter|yesterday|today|last (?:year|month|week))\b", re.I)
# A capitalised word that does not start the text or a sentence, or a word with inner capitals (OpenAI, CEO).
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)(?<![“\"])\b[A-Z][\w’'-]*[A-Za-z]|\b[A-Z][a-z]*[A-Z]\w*")
_QUESTION_START = re.compile(r"^\W*\w+")

KINDS = ("money", "percent", "number", "duration", "date", "place", "name")


def question_type(question: str) -> str | None:
    """What kind of answer the question wants: one of ``KINDS``, or None (a description, a reason)."""
    q = question.lower().strip()
    if re.search(r"\bhow much\b", q) or (
            re.search(r"\b(?:amount|sum|estimate|figure|size|big|large)\b", q)
            and re.search(r"\b(?:spend\w*|spent|invest\w*|cost\w*|pa(?:y|id)|fund\w*|price|worth|valu\w*|"
                          r"revenue)\b", q)):
        return "money"
    if re.search(r"\bwhat (?:percentage|share|fraction)\b|\bpercent", q):
        return "percent"
    if re.search(r"\bhow long\b", q):
        return "duration"
    if re.search(r"\bhow many\b|\bwhat number\b", q):
        return "number"
    if re.search(r"^when\b|\bwhat (?:year|month|day|date)\b|\b(?:which|what|in which) (?:year|month)\b|"
                 r"\bby when\b|\buntil when\b", q):
        return "date"
    if re.search(r"^where\b|\bwhat (?:city|country|place)\b|\bin (?:which|what) (?:city|country)\b", q):
        return "place"
    if re.search(r"^(?:who|whom|whose)\b|\bwhich (?:company|companies|firm|firms|person|people|ceo|executive|"
                 r"carmaker|business|businesses|publication|newspaper)\b|\bwhat (?:company|companies|firm)\b", q):
        return "name"
    return None


@lru_cache(maxsize=4096)
def _question_words(question: str) -> frozenset[str]:
    return frozenset(w.replace("’", "'").split("'")[0] for w in words(question))


def new_names(text: str, question: str) -> list[str]:
    """Capitalised words of ``text`` that the question does not already mention."""
    asked = _question_words(question)
    out = []
    for m in _NAME.finditer(text):
        w = m.group().lower().replace("’", "'").split("'")[0]
        if w not in asked and w not in STOPWORDS:
            out.append(m.group())
    return out


def type_match(qtype: str | None, text: str, question: str = "") -> float:
    """1.0 when ``text`` holds the kind of thing ``qtype`` asks for, 0.0 when not, 0.5 with no type.

    A name or a place must be one the question does not already mention.
    """
    if qtype is None:
        return 0.5
    if qtype in ("name", "place"):
        return 1.0 if new_names(text, question) else 0.0
    pattern = {"money": _MONEY, "percent": _PERCENT, "number": _NUMBER, "duration": _DURATION,
               "date": _DATE}[qtype]
    return 1.0 if pattern.search(text) else 0.0


@lru_cache(maxsize=4096)
def question_entities(question: str) -> tuple[str, ...]:
    """The question's named things, lower-cased: capitalised words after the first word, and numbers."""
    body = _QUESTION_START.sub("", question)
    found: dict[str, None] = {}
    for m in _NAME.finditer(" " + body):
        w = m.group().lower().replace("’", "'").split("'")[0]
        if w not in STOPWORDS:
            found.setdefault(w, None)
    for w in words(body):
        if any(ch.isdigit() for ch in w):
            found.setdefault(w, None)
    return tuple(found)


def entity_coverage(question: str, text: str, weight=None) -> float:
    """Weighted share of the question's named things that ``text`` mentions (1.0 when it names none).

    ``weight(word)`` gives each its importance (say, its IDF); by default all count the same.
    """
    wanted = question_entities(question)
    if not wanted:
        return 1.0
    present = {w.replace("’", "'").split("'")[0] for w in words(text)}
    ws = [weight(w) if weight else 1.0 for w in wanted]
    total = sum(ws)
    return sum(x for w, x in zip(wanted, ws) if w in present) / total if total > 0 else 1.0
