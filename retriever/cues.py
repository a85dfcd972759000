"""Answer-type and entity cues: what a question asks for, and whether a text holds it.

Plain regular expressions over English text, no model: a question is typed (money, percent,
number, duration, date, place, name, or none) and a candidate text is checked for that kind of
thing; the question's named entities (capitalised words, numbers) are checked for presence.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from functools import lru_cache

from indexer.text import STOPWORDS, stem, term_set, terms, words

# an amount of money: a currency's sign, a large amount's word or letter, a currency named in words or by its
# ISO code after the number or before it ("40,000 euros", "USD 500", "20 Swiss francs")
_CURRENCIES = (r"(?:US |Swiss |Canadian |Australian )?"
               r"(?:dollars?|euros?|pounds? sterling|yen|yuan|francs?|rupees?|cents?)")
_CODES = r"(?:USD|EUR|GBP|JPY|CHF|CNY|CAD|AUD|INR|SEK|NOK|DKK)"
_MONEY = re.compile(rf"[$€£¥]\s?\d|\d\s?(?:bn|billion|million|trillion|thousand)\b|\b\d+(?:\.\d+)?\s?[BMK]\b"
                    rf"|\d\s?{_CURRENCIES}\b|\d\s?(?-i:{_CODES})\b|\b(?-i:{_CODES})\s?\d", re.I)
# an amount of memory or storage ("How much RAM is needed?": "at least 8GB"), which "how much" asks for as
# often as for money in a manual
_SIZE = re.compile(r"\d\s?(?:[KMGTP]i?B|[KMGT]bytes|bytes?)\b")
_PERCENT = re.compile(r"\d\s?%|\bper ?cent\b", re.I)
_NUMBER_WORDS = (r"hundreds?|thousands?|millions?|billions?|trillions?|dozens?|two|three|four|five|six|seven|"
                 r"eight|nine|ten|eleven|twelve|twenty|fifty")
# a count given in words: "a small number of firms", "a handful", "several", "only one"
_QUANTITY = (r"(?:only|just|exactly) one|a single|both|several|few|a couple|a handful|"
             r"an? (?:(?:small|large|limited|growing|increasing|tiny|huge)\s+)?number of")
_NUMBER = re.compile(rf"\d|\b(?:{_NUMBER_WORDS}|{_QUANTITY})\b", re.I)
# what is no count of anything: a year, a version ("4.0.0", "v2.1"), a month's day ("9 July", "June 23")
_MONTHS = r"January|February|March|April|May|June|July|August|September|October|November|December"
_NOT_A_COUNT = re.compile(
    r"\b(?:1[89]|20)\d\d\b|\bv?\d+(?:\.\d+){2,}\b|\b(?:version|release|v)\s?\d+(?:\.\d+)*\b|"
    rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{_MONTHS})\b|\b(?:{_MONTHS})\s+\d{{1,2}}(?:st|nd|rd|th)?\b", re.I)
_TIME_UNITS = re.compile(r"\bhow many\s+(?:more\s+)?(?:years?|months?|weeks?|days?|hours?|minutes?|seconds?|"
                         r"decades?|centuries|times)\b", re.I)
_DURATION = re.compile(rf"\d|\b(?:{_NUMBER_WORDS}|decades?|years?|months?|weeks?|days?|hours?|minutes?)\b", re.I)
# a date or a time of day ("when does the shop close?": "at noon on Sundays", "at 6 pm")
_DATE = re.compile(
    rf"\b(?:1[89]|20)\d\d\b|\b(?:{_MONTHS}|(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)days?|weekends?|"
    r"spring|summer|autumn|winter|yesterday|today|tomorrow|tonight|quarterly|daily|weekly|monthly|yearly|"
    r"noon|midnight|morning|afternoon|evening|o'clock|\d{1,2}(?::\d\d)?\s?[ap]\.?m\.?|\d{1,2}:\d\d|"
    r"\d{1,2}[/-]\d{1,2}[/-](?:\d{4}|\d\d)|"  # a date in figures: "01/06/94", "6-1-1994"
    r"(?:last|next|coming|past|following|current|this) (?:years?|months?|weeks?|quarters?|decades?))(?!\w)", re.I)
# A capitalised word that does not start the text or a sentence, or a word with inner capitals (OpenAI, CEO, xAI).
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)(?<![“\"])\b[A-Z][\w’'-]*[A-Za-z]|\b[A-Z][a-z]*[A-Z]\w*|\b[a-z]+[A-Z]\w*")
_QUESTION_START = re.compile(r"^\W*\w+")

_AUX = r"(?:is|are|was|were|did|do|does|has|have|had|will|would|can|could|should|might)"

KINDS = ("money", "percent", "number", "duration", "date", "place", "name")


def question_type(question: str) -> str | None:
    """What kind of answer the question wants: one of ``KINDS``, or None (a description, a reason)."""
    q = question.lower().strip()
    if re.search(r"\bhow much\b", q) or (
            re.search(r"\b(?:amount|sum(?! up\b)|estimate|figure|size|big|large)\b", q)
            and re.search(r"\b(?:spend\w*|spent|invest\w*|cost\w*|pa(?:y|id)|fund\w*|price|worth|valu\w*|"
                          r"revenue)\b", q)) or re.search(r"\bvalued at\b|\bvaluation\b|\bworth\b", q):
        return "money"
    if re.search(r"\bwhat (?:percentage|share|fraction)\b|\bpercent", q):
        return "percent"
    if re.search(r"\bhow long\b", q):
        return "duration"
    # a count, or a quantity asked by its dimension ("How big was Debian 2.2 in lines of source code?")
    if re.search(r"\bhow many\b|\bwhat number\b|\bwhat numeric\b|"
                 r"^how (?:big|large|small|old|tall|heavy|far|wide|deep|high)\b", q):
        return "number"
    if re.search(r"^when\b|\bwhat (?:(?:is|was) the )?(?:year|month|day|date)\b|"
                 r"\b(?:which|what|in which) (?:year|month)\b|\bby when\b|\buntil when\b", q):
        return "date"
    if re.search(r"^where\b|\bwhat (?:city|country|place)\b|\bin (?:which|what) (?:city|country)\b", q):
        return "place"
    # "which company ...", "what person ...": generic words for whoever is named; the seeds' own nouns
    # (carmaker, publication, rivals, ...) went: they gained on no other corpus (docs/corpora.md)
    if re.search(r"^(?:who|whom|whose)\b", q) or re.search(
            rf"\b(?:which|what) (?!{_AUX}\b)(?:[a-z-]+ ){{0,2}}(?:company|companies|person|people|"
            r"organi[sz]ations?)\b", q):
        return "name"
    return None


# a label glued to its count in scraped page text ("Development231"); not a model name ("H100", "GPT4")
_GLUED = re.compile(r"([A-Za-z]{3,})\d+$")


def word_key(word: str) -> str:
    """A word as names are compared: lower-cased, a possessive cut ("OpenAI’s" -> "openai")."""
    return word.lower().replace("’", "'").split("'")[0]


@lru_cache(maxsize=8192)
def _word_set(text: str) -> frozenset[str]:
    """Lower-cased words of a text, possessives cut ("OpenAI's" -> "openai"), and the word of a word
    glued to a number ("Development231", a count in scraped page text, also gives "development");
    remembered."""
    out = {word_key(w) for w in words(text)}
    out |= {m.group(1) for w in out if (m := _GLUED.fullmatch(w))}
    return frozenset(out)


_FIRST_WORD = re.compile(r"(?:^|(?<=[.!?]\s))[A-Z][\w’'-]*[A-Za-z]")


@lru_cache(maxsize=8192)
def known_names(text: str) -> frozenset[str]:
    """Lower-cased words that ``text`` capitalises where a sentence does not start (names it uses)."""
    return frozenset(word_key(m.group()) for m in _NAME.finditer(text)) - STOPWORDS


_CAPS = re.compile(r"[A-Z]{2,}")


def new_names(text: str, question: str, known: frozenset[str] = frozenset()) -> list[str]:
    """Capitalised words of ``text`` that the question does not already mention. A word opening a
    sentence counts only when it is among ``known`` (names used elsewhere, say in the paragraph)."""
    asked = _word_set(question)
    found = [m for m in _NAME.finditer(text)]
    if known:
        found += [m for m in _FIRST_WORD.finditer(text) if word_key(m.group()) in known]
        found.sort(key=lambda m: m.start())
    out = []
    for m in found:
        w = word_key(m.group())
        # an acronym is a name even when it spells a common word ("IT departments", "the US")
        if w not in asked and (w not in STOPWORDS or _CAPS.fullmatch(m.group())):
            out.append(m.group())
    return out


# "who is/are [adverb] VERBed/VERBing ..." and "which group of people ...": a group may answer
# ("smaller players are shut out", "venture capitalists"), where "who is the CEO of X?" and
# "who is Jane Roe?" want a name
_GROUP_QUESTION = re.compile(
    r"^(?:who|whom)\s+(?:is|are|was|were)\s+(?:[a-z]+ly\s+)?(?:being\s+)?"
    r"(?:[a-z]+(?:ed|en|ing)|shut|left|cut|put|set|kept|held|hit|hurt)\b|"
    # "who believes ...", "whose expectations ...", "for whom does ...": any but a role or an identity
    r"^(?:who|whose|(?:for|to|with|by)\s+whom)\s+(?!(?:is|are|was|were|runs|leads|heads|founded|co-founded|owns|"
    r"chairs|hosts|manages|directs|wrote|created|invented|conducted|said|says)\b)[a-z]+\b|"
    r"\b(?:which|what)\s+(?:groups?|kinds?|types?|sorts?)\s+of\s+(?:people|players|companies|firms)\b", re.I)
# plural nouns for kinds of actors (the closed set such an answer is made of)
_ACTORS = re.compile(
    r"\b(?:players|companies|firms|businesses|investors|capitalists|startups|start-ups|developers|"
    r"researchers|executives|analysts|users|customers|governments|regulators|giants|labs|providers|"
    r"makers|leaders|rivals|competitors|people|workers|engineers|departments|teams|banks|funds|"
    r"consumers|critics|employees|founders|incumbents|newcomers)\b", re.I)


def names_a_group(text: str, question: str) -> bool:
    """Whether ``question`` may be answered by a group ("Who is shut out?": "smaller players") and
    ``text`` names a kind of actor the question does not."""
    if not _GROUP_QUESTION.search(question.strip()):
        return False
    asked = _word_set(question)
    return any(m.group().lower() not in asked for m in _ACTORS.finditer(text))


def type_match(qtype: str | None, text: str, question: str = "", known: frozenset[str] = frozenset()) -> float:
    """1.0 when ``text`` holds the kind of thing ``qtype`` asks for, 0.0 when not, 0.5 with no type.

    A name or a place must be one the question does not already mention; a "who is VERBed" question
    may also be answered by a group (``names_a_group``).
    """
    if qtype is None:
        return 0.5
    if qtype in ("name", "place"):
        found = new_names(text, question, known) or (qtype == "name" and names_a_group(text, question))
        return 1.0 if found else 0.0
    if qtype == "number":
        return 1.0 if _NUMBER.search(count_text(text, question)) else 0.0
    patterns = {"money": (_MONEY, _SIZE), "percent": (_PERCENT,), "duration": (_DURATION,), "date": (_DATE,)}[qtype]
    return 1.0 if any(p.search(text) for p in patterns) else 0.0


def count_text(text: str, question: str = "") -> str:
    """``text`` without what cannot answer "how many": the numbers the question already gives ("in the
    2020 election"), and years, versions and days of a month ("elected in April 2020", "version 4.0.0"),
    unless the question counts years, days or times itself ("How many years ...?": "since 1993")."""
    for n in set(re.findall(r"\d+(?:[.,]\d+)*", question)):
        text = re.sub(rf"(?<![\d.,]){re.escape(n)}(?![\d]|[.,]\d)", " ", text)
    return text if _TIME_UNITS.search(question) else _NOT_A_COUNT.sub(" ", text)


@lru_cache(maxsize=4096)
def question_entities(question: str) -> tuple[str, ...]:
    """The question's named things, lower-cased: capitalised words after the first word, and numbers."""
    body = _QUESTION_START.sub("", question)
    found: dict[str, None] = {}
    for m in _NAME.finditer(" " + body):
        w = word_key(m.group())
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
    present = _word_set(text)
    ws = [weight(w) if weight else 1.0 for w in wanted]
    total = sum(ws)
    # a name the question glues to a word ("MIT-licensed", "GPL-compatible") is mentioned by the name alone
    return sum(x for w, x in zip(wanted, ws) if w in present or w.split("-", 1)[0] in present) / total \
        if total > 0 else 1.0


# "the deals table", "the AI infrastructure deals table", "this table";
# not the idioms "at the table", "on/off the table"
_TABLE = re.compile(r"(?<!\bat )(?<!\bon )(?<!\boff )\b(?:the|this|that|a|its) "
                    r"(?:(?!(?:the|an?|on|at|off|in|of|to|for|from|with|by)\b)[\w&-]+ ){0,3}table\b", re.I)
_TITLE_WORD = re.compile(r"[A-Z0-9]")
_TRAILING_ASIDE = re.compile(r"\s+\([^()\n]*\)$")  # "... Guidelines (DFSG)", "... Project (v1.9)"
# a manual page's running header or footer closes with its name and section after a wide gap:
# "GNU coreutils 9.1               September 2022               WC(1)"
_MAN_PAGE_REF = re.compile(r"\s{2,}[\w.:+-]+\(\d\w*\)$")


def table_question(question: str) -> bool:
    """Whether the question asks about a table ("according to the deals table", "in the table")."""
    return bool(_TABLE.search(question))


# a numbered section's title line closes with a full stop: "Section 6 -- Term and Termination.", "1. Definitions."
_NUMBERED_TITLE = re.compile(r"(?:(?:section|article|part|chapter)\s+)?(?:\d+(?:\.\d+)*\.?|[A-Z][.)])\s+(?:--?\s+)?"
                             r"[^.!?;:]+\.", re.I)


def is_heading(text: str) -> bool:
    """A title or heading: one line, no closing punctuation, most content words capitalised
    ("Podcast Appearances", "Why This Matters to You"); a table row is not one, nor a label glued to
    its count ("Software Development231", a list item in scraped page text). A numbered section's title
    may close with a full stop ("Section 6 -- Term and Termination.", "10. Automatic Licensing."), and any title
    with an aside in brackets ("The Debian Free Software Guidelines (DFSG)", "Constitution ... (v1.9)"); a manual
    page's running header or footer is one ("GNU coreutils 9.1      September 2022      WC(1)")."""
    t = text.strip()
    if _NUMBERED_TITLE.fullmatch(t):
        t = t[:-1]
    t = _MAN_PAGE_REF.sub("", _TRAILING_ASIDE.sub("", t))
    if not t or "\n" in t or t.startswith("|") or t[-1] in ".!?:;,\"”)’'" or _GLUED.search(t):
        return False
    ws = [w for w in t.split() if w[:1].isalnum() and w.lower() not in STOPWORDS]
    return bool(ws) and sum(bool(_TITLE_WORD.match(w)) for w in ws) >= 0.75 * len(ws)


_LETTERS = re.compile(r"[\W_]+")


TITLE_PART = 20  # letters and digits of a sentence that is part of its section's title (not "Usage.")


# an Org headline: its stars, a TODO keyword (in capitals), a priority, the title, statistics cookies, tags
_ORG_HEADLINE = re.compile(r"\*+\s+(?:[A-Z]+\s+)?(?:\[#\w\]\s+)?(.*?)(?:\s+\[\d*(?:/\d*|%)\])*(?:\s+:[\w@#%:]+:)?")


def is_section_title(text: str, section: str | None) -> bool:
    """Whether ``text`` is the heading its document's markup opens its section with (Markdown
    ``## Title``, an HTML ``<h2>``, a DOCX heading style): the last title of the ``section`` trail,
    read without markup ("### `PIP_CONFIG_FILE`" is the title "PIP_CONFIG_FILE"), or without its number
    ("Manage release-critical bugs¶" under "3.1.3. Manage release-critical bugs¶": the sentence splitter cuts
    the number off), or one sentence of a title of several (a plain-text FAQ's "25.30. Is it possible to
    un-source a script? In other words, reverse all the commands ...", wrapped over its lines)."""
    if not section:
        return False
    title = _LETTERS.sub("", section.rsplit(" > ", 1)[-1]).lower()
    org = _ORG_HEADLINE.fullmatch(text.strip())  # "* TODO [#A] Title [1/3]   :tag:" is the title "Title"
    for own in {_LETTERS.sub("", text).lower(), _LETTERS.sub("", org.group(1)).lower() if org else ""} - {""}:
        if own in (title, title.lstrip("0123456789")) or len(own) >= TITLE_PART and own in title:
            return True
    return False


# The thing a question asks about, by the shape of the question (no word lists of topics):
# "what is/was [the] [Name's] X [of|in ... | ?]" (X: one or two plain words, the last its head),
# "where/when/how ... did Name VERB its/the X?" (the object of the verb), and
# "who/which company VERBed Name?" (the relation itself: founded, acquired), "when/where was Name VERBed?",
# and "what did Name say about X?" (the topic).
# a capitalised word, or one with inner capitals (xAI); not "I", the asker ("How do I copy a folder ...?" is
# no "did Acme open its office?": the task is in the asker's words, and a manual may say "directories")
_CAP = r"(?:(?!I\b)[A-Z][\w-]*|[a-z]+[A-Z][\w-]*)"
_POSSESSOR = rf"(?:(?:{_CAP}\s+)*{_CAP}[’']s\s+)?"
_PLAIN = r"[a-z][a-z-]*"
_SUBJECT_FOCUS = re.compile(
    rf"^(?:what|which|who|how much|how many|how large|how big)\s+(?:is|was|are|were)\s+(?:the\s+|an?\s+)?"
    rf"{_POSSESSOR}((?:{_PLAIN}\s+)?{_PLAIN})(?=\s+(?:of|in|at|for|on|among|last|next|according)\b|\s*\?|\s*$)")
# ... and a property of three plain words when the question ends with it or its "of" ("Who is
# Acme's chief financial officer?")
_SUBJECT_FOCUS3 = re.compile(
    rf"^who\s+(?:is|was|are|were)\s+(?:(?:the|an?)\s+|(?:{_CAP}\s+)*{_CAP}[’']s\s+)"
    rf"((?:{_PLAIN}\s+){{2}}{_PLAIN})(?=\s+of\b|\s*\?|\s*$)")
_OBJECT_FOCUS = re.compile(
    rf"^(?:where|when|how|why|what|which)\b[^?]*?\b{_AUX}\s+(?:{_CAP}\s+)+{_PLAIN}\s+"
    rf"(?:its|the|a|an|their|his|her)\s+((?:{_PLAIN}\s+){{0,2}}{_PLAIN})"
    r"(?=\s*\?|\s+(?:in|at|on|for|from|with|by|to|of)\b)")
_RELATION_FOCUS = re.compile(rf"^(?:who|(?:which|what)\s+[a-z]+)\s+([a-z]+ed)\s+(?:{_CAP}\s*)+\?")
# "who VERBed the/a X ...?": the act itself ("who conducted the interview with Name?")
_ACT_FOCUS = re.compile(r"^who\s+([a-z]+ed)\s+(?:the|an?|its|their|his|her)\s")
# "when/where was [the] Name VERBed?": the event itself (founded, acquired, launched)
_EVENT_FOCUS = re.compile(
    rf"^(?:when|where|in\s+(?:which|what)\s+(?:city|country|state|town|year))\s+(?:is|are|was|were)\s+"
    rf"(?:the\s+)?(?:{_CAP}\s+(?:and\s+)?)+([a-z]+ed)\s*(?:\?|$)")


# "what did Name say about [the] X?": the topic X (up to three plain words, ending the question)
_TOPIC_FOCUS = re.compile(
    rf"^(?:what|how)\s+(?:did|does|do)\s+(?:the\s+)?(?:[\w’'-]+\s+){{1,3}}?"
    rf"(?:say|write|think|argue|claim|warn|note)\s+about\s+(?:the\s+|an?\s+)?"
    rf"(?!(?:what|whether|how|why|who|whom|where|when|which|if)\b)((?:{_PLAIN}\s+){{0,2}}{_PLAIN})\s*\??\s*$")

# heads that name a part or an aspect of what follows ("the low end of the estimate", "the rest of
# the money"), not a property a text states in those words
_PART_OF = frozenset("""end ends part parts half bit top bottom rest side start beginning middle kind
    type sort""".split())


@lru_cache(maxsize=4096)
def asked_property(question: str) -> tuple[str, ...]:
    """The words naming what the question asks about, when its shape shows it; the last is the head."""
    q = question.strip()
    q = q[:1].lower() + q[1:]
    for pattern in (_SUBJECT_FOCUS3, _SUBJECT_FOCUS, _OBJECT_FOCUS, _RELATION_FOCUS, _ACT_FOCUS, _EVENT_FOCUS,
                    _TOPIC_FOCUS):
        m = pattern.search(q)
        if m:
            ws = tuple(w for w in m.group(1).split())
            if ws and ws[-1] not in STOPWORDS and ws[-1] not in _PART_OF:
                return ws
    return ()


_ACRONYM = re.compile(r"\b[A-Z]{2,6}s?\b")


def _mentions(word: str, have: frozenset[str]) -> bool:
    t = stem(word)
    return t in have or (len(t) >= 5 and any(h[:5] == t[:5] for h in have))


def states(words_: tuple[str, ...], text: str) -> bool:
    """Whether ``text`` mentions the head of ``words_`` (the last) and the word before it (a compound
    or a modified noun: "market share", "data center", "key trend"): each by its stem or a word sharing
    its first five letters (found/founder, describe/description); or an acronym the words' initials
    begin ("chief executive": CEO)."""
    wanted = [w for w in words_[-2:] if w not in STOPWORDS]
    have = term_set(text)
    if all(_mentions(w, have) for w in wanted):
        return True
    initials = "".join(w[0] for w in words_).upper()
    return len(initials) >= 2 and any(m.group().startswith(initials) for m in _ACRONYM.finditer(text))


# Answer kinds a span must visibly hold; "place" is not among them ("where" often asks for a
# situation, not a map location) and neither are untyped questions.
HARD_KINDS = frozenset({"money", "percent", "number", "duration", "date", "name"})
_HOW_MANY = re.compile(r"\bhow many\s+(?:of\s+)?(?:the\s+)?([a-z][\w-]*)", re.I)


_CODE_LINE = re.compile(
    r"^\s*(?:(?:def|class|import|from|return|if|elif|else|for|while|try|except|finally|with|case|switch|"
    r"struct|int|void|char|static|const|var|let|function|public|private)\b[^.!?]*[:;{)]\s*$"  # a statement
    r"|[\w.\[\]>-]+\s*[-+*/|&]?=\s*[^.!?]*[^.!?\s]\s*$"  # an assignment
    r"|.*[;{}]\s*$"  # a line ending as C, Java or JavaScript lines do
    r"|[$#>] \S"  # a shell prompt
    r"|</?[A-Za-z][\w:.-]*(?:\s[^<>]*)?/?>(?:.*>)?\s*$)")  # markup: XML or HTML tags, "<fontconfig>", "</match>"


# a command's usage, as a manual's synopsis gives it: "cp [OPTION]... [-T] SOURCE DEST", "grep [OPTION...]",
# "tar {--extract|--get} [-f ARCHIVE] [MEMBER...]"
_USAGE_ARG = re.compile(r"[\[{][^\s\]}]*[\]}]?(?:\.\.\.)?|[^\s\[{]*[\]}](?:\.\.\.)?|[A-Z][A-Z0-9_|-]*(?:\.\.\.)?|"
                        r"\.\.\.|-{1,2}[\w-]+(?:=[\w]+)?|\|")


def is_usage(text: str) -> bool:
    """A command's usage line(s): the command, then only options, placeholders in capitals and
    bracketed arguments, at least one of them bracketed or repeated ("ls [OPTION]... [FILE]...")."""
    words_ = text.split()
    if len(words_) < 2 or not re.fullmatch(r"[a-z][\w.+-]*", words_[0]):
        return False
    args = [w for w in words_[1:] if w != words_[0]]
    return bool(args) and all(_USAGE_ARG.fullmatch(w) for w in args) and any(
        c in w for w in args for c in ("[", "{", "..."))


def is_code_line(text: str) -> bool:
    """A line of program code, markup or a shell command, not prose ("except Exception:", "x = f(y);",
    "<fontconfig>", "$ make install"), or a command's usage ("cp [OPTION]... SOURCE DEST"): it cannot state an answer
    by itself."""
    t = text.strip()
    return ("\n" not in t and bool(_CODE_LINE.match(t))) or is_usage(t)


@dataclass(frozen=True)
class Candidate:
    """What an answer check reads: the question, the span, its paragraph and what the corpus knows."""

    question: str
    span: str
    paragraph: str
    unknown: set[str]
    known: frozenset[str]
    qtype: str | None
    section: str | None = None  # the heading trail the span sits under (Markdown, HTML, DOCX)
    block: str | None = None  # the lines around the span up to a blank line (indexer.sentences.block)


# "when" asks for a date or a time about an event, past or set ("When was X released?", "When is the next full
# moon?", "When will it ship?") or when it names the unit ("what year ..."); with "do" or a modal it may ask for an
# occasion or a condition as well ("When do long tests run?": "on all commits to the release branch"; "When
# should I use --force?"), which no pattern holds
_POINT_IN_TIME = re.compile(r"^when\s+(?:did|was|were|had|is|are|will)\b|\b(?:what|which) (?:year|month|day|date)\b|"
                            r"\b(?:by|until) when\b", re.I)


def asks_point_in_time(question: str) -> bool:
    """Whether a "date" question wants a date or a time for certain (:data:`_POINT_IN_TIME`), not maybe an
    occasion or a condition."""
    return bool(_POINT_IN_TIME.search(question.strip()))


def check_answer_type(c: Candidate) -> list[str]:
    """An amount, percentage, number, duration, date or name asked for must be in the span (a date only when
    the question wants one for certain: :func:`asks_point_in_time`)."""
    if c.qtype == "date" and not asks_point_in_time(c.question):
        return []
    if c.qtype in HARD_KINDS and type_match(c.qtype, c.span, c.question, c.known) == 0.0:
        return [f"holds no {c.qtype}"]
    return []


def check_table_row(c: Candidate) -> list[str]:
    """A question about a table ("in the deals table") is answered by a table row."""
    return ["is no table row"] if table_question(c.question) and not c.span.lstrip().startswith("|") else []


# a table of contents' dot leader and page number closing a line: "... and "suppressed"? ........ 6"
_LEADER = re.compile(r"(?:\.[ \t]?){5,}[ \t]*(?:\d+|[ivxlc]+)[ \t]*$", re.I)


def contents_entry(span: str, paragraph: str) -> bool:
    """Whether ``span`` is (part of) a table of contents' entry: its last line, or the line it runs on
    into, closes with a dot leader and a page number (a PDF manual's contents, a plain-text one's)."""
    t = span.strip()
    lines = paragraph.splitlines()
    tail = t.splitlines()[-1] if t else ""
    for i, line in enumerate(lines):
        at = line.find(tail) if tail else -1
        if at < 0:
            continue
        rest = line[at + len(tail):]
        if _LEADER.search(line) or (not rest.strip() and i + 1 < len(lines) and _LEADER.search(lines[i + 1])):
            return True
    return False


def check_contents_entry(c: Candidate) -> list[str]:
    """A table of contents' entry names a section and its page; it answers nothing (:func:`contents_entry`)."""
    return ["is a table of contents entry"] if contents_entry(c.span, c.paragraph) else []


# a section's number opening a line: "2.5. ", "4.1.3 ", "Section 3 -- " (not "3. ", a numbered list's item)
_SECTION_NUMBER = re.compile(r"[ \t]*(?:(?:section|article|part|chapter)\s+\d+(?:\.\d+)*|\d+(?:\.\d+)+)\.?[ \t]+"
                             r"(?:--?[ \t]+)?", re.I)


def numbered_heading(span: str, paragraph: str) -> bool:
    """Whether ``span`` is the title of a numbered section, whatever its case: the rest of a line that opens
    with a section's number ("2.5. Suppressing errors", where the sentence splitter has cut "2.5." off; not
    a numbered list's "3. install it"), short and closing as no sentence does."""
    t = span.strip()
    if not t or "\n" in t or t[-1] in ".!?:;,\"”)’'" or len(t.split()) > 8 or not t[0].isalpha():
        return False
    return any(line.rstrip().endswith(t) and _SECTION_NUMBER.fullmatch(line.rstrip()[: -len(t)])
               for line in paragraph.splitlines())


def check_heading(c: Candidate) -> list[str]:
    """A heading answers no question but a who/what-name one, or a "when" one when it holds a date (a
    title-cased line: :func:`is_heading`, or a numbered section's title in any case: :func:`numbered_heading`)."""
    if c.qtype == "name" or c.qtype == "date" and type_match("date", c.span):
        return []  # a title names; a dateline ("Revised 01/06/94", "Version 1.1 - 26 February 2007") dates
    return ["is a heading"] if is_heading(c.span) or numbered_heading(c.span, c.paragraph) else []


def check_section_title(c: Candidate) -> list[str]:
    """A line the document's markup makes a heading (Markdown ``## Title``, HTML ``<h2>``, a DOCX
    heading style) answers no question but a who/what-name one, whatever its case."""
    return ["is a heading"] if c.qtype != "name" and is_section_title(c.span, c.section) else []


_ASKS = re.compile(r"\?[\"'”’)\]]*$")


def asks(text: str) -> bool:
    """Whether ``text`` ends as a question does ("How do I make an NTP server?"): a FAQ's own
    question, a heading or a prompt, which states nothing."""
    return bool(_ASKS.search(text.strip()))


def check_question(c: Candidate) -> list[str]:
    """A sentence that asks a question is no answer (:func:`asks`): in a FAQ as users keep it, the
    question heading echoes what was asked better than any answer does; nor is a sentence of such a heading
    ("The admin site is ugly!" of "The admin site is ugly! How can I change it?": :func:`opens_question`)."""
    return ["asks a question"] if asks(c.span) or any(opens_question(c.span, p) for p in (c.paragraph, c.block) if p) \
        else []


# a paragraph longer than this that closes with a question is prose, not a question heading
QUESTION_LINES, QUESTION_CHARS = 4, 300


def opens_question(span: str, paragraph: str) -> bool:
    """Whether ``span`` is followed in ``paragraph`` (its paragraph, or its block of lines), a short one
    (``QUESTION_LINES``, ``QUESTION_CHARS``), by a sentence that asks and closes it: the paragraph is a
    question heading of more than one sentence ("I think I've found a bug! What should I do?", "When I use
    ":%bd", not all the buffers are deleted. Why?")."""
    t, p = span.strip(), paragraph.strip()
    at = p.find(t) if t else -1
    return at >= 0 and len(p) > at + len(t) and asks(p) and p.count("\n") < QUESTION_LINES \
        and len(p) <= QUESTION_CHARS


_DATE_WORDS = frozenset({"date", "year", "day", "month"})


def check_focus(c: Candidate) -> list[str]:
    """The property a question asks about ("what is the X of Y") must be stated in the paragraph."""
    focus = asked_property(c.question)
    if focus and focus[-1] in _DATE_WORDS and type_match("date", c.span):
        return []  # "what is the date of X" is answered by a date, whether or not it says "date"
    return [f"does not mention {' '.join(focus[-2:])}"] if focus and not states(focus, c.paragraph) else []


def check_how_many(c: Candidate) -> list[str]:
    """"How many X" needs an X the corpus knows of (a corpus that never says "employees" cannot count them)."""
    m = _HOW_MANY.search(c.question)
    if m and terms(m.group(1)) and terms(m.group(1))[0] in c.unknown:
        return [f"the documents never mention {m.group(1)}"]
    return []


def check_code_line(c: Candidate) -> list[str]:
    """A line of code or a shell command is no answer (:func:`is_code_line`)."""
    return ["is a line of code"] if is_code_line(c.span) else []


# a Markdown link, inline or by reference ("[TSC meetings](#tsc-meetings)", "[Python versions][]", an image too)
_MD_LINK = re.compile(r"!?\[[^\]\n]*\](?:\([^)\n]*\)|\[[^\]\n]*\])?")


def is_link_only(text: str) -> bool:
    """A line that is nothing but Markdown links, as a table of contents or a list of references is
    ("* [TSC meetings](#tsc-meetings)", "[Building with Ninja](doc/ninja.md)."): it says where something is,
    not what it is. A sentence around a link ("See [the guide](guide.md) for more.") is not one."""
    rest, n = _MD_LINK.subn(" ", text)
    return n > 0 and not any(ch.isalnum() for ch in rest)


def check_link_only(c: Candidate) -> list[str]:
    """A sentence that is only a link (:func:`is_link_only`) is no answer."""
    return ["is only a link"] if is_link_only(c.span) else []


# every answer check by name, in the order they run; SpanConfig.checks_off switches any of them off
CHECKS: dict[str, Callable[[Candidate], list[str]]] = {
    "answer_type": check_answer_type, "table_row": check_table_row, "heading": check_heading,
    "contents_entry": check_contents_entry,
    "focus": check_focus, "how_many": check_how_many, "code_line": check_code_line,
    "section_title": check_section_title, "question": check_question, "link_only": check_link_only,
}


def unmet(question: str, span: str, paragraph: str, unknown: set[str],
          known: frozenset[str] = frozenset(), off: Collection[str] = (), section: str | None = None,
          block: str | None = None) -> list[str]:
    """What the question asks that ``span`` visibly lacks, by every check of ``CHECKS`` not in
    ``off``; empty when the span can answer it. ``unknown`` holds the stemmed question terms no
    passage contains; ``known`` the names the retrieved passages use mid-sentence
    (a word opening the span's sentence counts as a name when it is among them)."""
    c = Candidate(question, span, paragraph, unknown, known, question_type(question), section, block)
    return [problem for name, check in CHECKS.items() if name not in off for problem in check(c)]
