"""Picking the answer: score every sentence of the top passages, choose one, say how sure we are.

A sentence's score is a weighted sum of features, each in [0, 1]:

* dense: cosine between the question and the sentence (vectors stored at index time);
* lexical: the IDF-weighted share of the question's content terms that the sentence contains
  (terms the corpus has never seen count against it, which is what makes abstention work);
* type: whether the sentence holds what the question asks for (an amount, a date, a new name);
* novelty: the share of the sentence's content terms that the question does not use (a heading
  that merely echoes the question, "Podcast Appearances", answers nothing);
* entities: the IDF-weighted share of the question's named things (capitalised words, numbers)
  mentioned in the passage holding the sentence: a question about a company the text never names
  near the candidate is one the candidate does not answer. Names found in half the passages or
  more (say "AI" in a corpus about AI) carry no weight;
* topical: the cosine between the question and the closest passage of the whole corpus (the
  same for every candidate of a question: a question about chocolate cake is far from every
  passage of a corpus about data centers).
* context: the best cosine between the question and the sentences just before and after it in
  the passage (the question may echo the setting, "attendees queuing for the event", while the
  answer is in the next sentence).
* qa: the cosine between the question and the sentence by the answer-sentence encoder
  (:mod:`retriever.answer_model`: MiniLM fine-tuned on FAQ question/answer pairs), 0 without one.
  It is in the ranking model only: in the answerability model it cost off-topic abstentions.
* field: the median ``dense`` of all the question's candidate sentences (the same for every
  candidate of a question, so in the answerability model only): how close the question's whole
  neighbourhood is. A best sentence at 0.5 stands out where the rest sit at 0.2 and does not where
  they sit at 0.45, and where the rest sit differs by folder and by question.

Two linear models share the features. The ranking weights ``w_*`` order the candidates (fitted
as a conditional logit: per question, a softmax over its candidates). The answerability weights
``a_*`` and ``a_bias`` give the best candidate's confidence, a logistic regression of whether it
is right; below ``abstain_below`` the retriever abstains (``answer = None``), and it always does
when the question is off-topic (``topical`` below ``min_topical``, or no higher than the folder gives
everyday probe questions: ``probe_gate``, applied by the retriever) or when the folder uses none of
the question's terms (``min_known``: nonsense such as "qqq jjj xxkz plom", whose closest passage may
still be fairly close). The weights and the threshold are fitted on the gold
questions of the six benchmark corpora, the seeds' test split left out (``python -m eval --corpora
all --fit-all --fit-hold-out seeds:test``; ``python -m eval.bench.tune`` fits on one gold file).

The answer span is the best sentence, extended by the sentence before it when it opens by
pointing back ("These systems ...", "He described ...") and both fit ``max_answer_chars``, and by
the sentence after it when the question asks why and the sentence gives no reason
(:func:`reason_follows`: "The use of git:// is discouraged." / "The former two use the Git Protocol,
which lacks authentication ..."); a definition list's term or description is shown with the other half
(``whole_entry``: "-i, --interactive" / "prompt before overwrite"); a sentence longer than
``max_answer_chars`` is cut to the run of its clauses that holds the most of the question (``clause_cut``,
:func:`clause_window`). These change what is shown, not what is picked. Where a
candidate asks the question again (a FAQ's own question: :func:`echoes`), the sentences after it
come first (:func:`after_echo`, ``follow_echo``), as sure as the echo is.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from itertools import chain

import numpy as np

from indexer.schema import Chunk, Sentence
from indexer.sentences import FENCE, indent, item_column, lines_of
from indexer.text import HTML_TAG, LINE_BREAK, stem, term_set, terms
from retriever.cues import asks, entity_coverage, is_heading, is_section_title, question_type, type_match

FEATURES = ("dense", "lexical", "type", "entities", "novelty", "topical", "context", "qa", "field")
COMMON_IDF = math.log(2)  # BM25 IDF of a term found in about half the passages


@dataclass(frozen=True)
class SpanConfig:
    """Ranking weights (``w_*``, summing to 1), answerability weights (``a_*``) and the threshold."""

    # fitted on the questions of every benchmark corpus together, but the seeds' test split (six corpora of
    # different kinds: `python -m eval --corpora all --fit-all --fit-hold-out seeds:test`, docs/corpora.md),
    # as each leave-one-corpus-out fold fits on all questions of the others; before, on their dev questions only
    w_dense: float = 0.2849
    w_lexical: float = 0.3729
    w_type: float = 0.0141
    w_entities: float = 0.121
    w_novelty: float = -0.1992
    w_topical: float = 0.0
    w_context: float = 0.0996
    w_qa: float = 0.3068
    w_field: float = 0.0
    # confidence = sigmoid(a_bias + sum of a_f * feature f)
    a_dense: float = 4.5293
    a_lexical: float = 2.1181
    a_type: float = 0.0
    a_entities: float = 1.4007
    a_novelty: float = -0.0013
    a_topical: float = 0.0
    a_context: float = 0.5953
    a_qa: float = 0.0
    a_field: float = -4.4445
    a_bias: float = -3.8056
    abstain_below: float = 0.1743
    # also abstain below this quantile of the confidences of off-topic probe questions asked of the same
    # folder (retriever.probes; None: off), so that a confidence means the same on every folder
    probe_quantile: float | None = None
    # abstain outright when no passage of the corpus is this close to the question (cosine)
    min_topical: float = 0.1221
    # abstain outright when the question is no closer to the folder than this quantile of the everyday
    # off-topic probe questions (retriever.probes) come: its closest passage's cosine at most theirs (1.0:
    # the highest of them; None: off). The folder's own yardstick, where min_topical is one for every folder
    probe_gate: float | None = 1.0
    # abstain outright when at most this share of the question's distinct terms occurs in the folder
    # (None: off); no answerable question of the six benchmark corpora has none, 27 of their 68 off-topic ones do
    min_known: float | None = 0.0
    # sentences each side (same passage) whose names count for "entities"; None: the whole passage
    window: int | None = None
    # drop candidates that visibly cannot answer (see retriever.cues.unmet): no amount, a heading, a line of code
    verify: bool = True
    # answer checks switched off, by name (retriever.cues.CHECKS); each is judged by leave-one-corpus-out over
    # six corpora (python -m eval --corpora all --ablate; docs/corpora.md). Three were dropped that way: names
    # (cost answers and abstentions on every corpus but the seeds it was written from), role (gained on the
    # seeds only) and lead_in (lost on two corpora)
    checks_off: tuple[str, ...] = ()
    # a sentence that asks the question again (a FAQ's own question): the sentences after it come first
    # (after_echo); they are still checked, and scored as any other
    follow_echo: bool = True
    # ... and one asked in other words: when no candidate echoes the question by its terms, the sentence on a
    # line of its own that asks and is closest to the question by its echo score (:func:`echo_score`: the
    # embedding's cosine, the lexical coverage and the answer model's cosine, weighted by echo_w_lexical and
    # echo_w_qa) is taken as asking it again if that score is at least ``echo_min`` and ``echo_margin`` above
    # every other such sentence's (None: off). Chosen on 151 hand-paraphrased questions and 24 unanswerable
    # ones over three plain-text FAQs, checked on three Markdown FAQs (docs/corpora.md, "An echo in other words")
    echo_min: float | None = 0.52
    echo_margin: float = 0.03
    echo_w_lexical: float = 0.25
    echo_w_qa: float = 1.0
    # without an answer model (no qa feature), the echo score is the cosine alone, with this threshold (the
    # first version of the rule, chosen the same way)
    echo_min_cosine: float = 0.65
    min_sentence_chars: int = 12  # shorter "sentences" (a bare heading, a number) are not answers
    max_answer_chars: int = 300  # an answer extended by its antecedent sentence or its block stays within this
    # an answer that leads in ("To install it:", "BUG REPORTS:") runs on over the block it introduces, as far
    # as its passage and max_answer_chars allow (:func:`introduced_end`)
    lead_in_block: bool = True
    # a why-question answered by a sentence that gives no reason ("The use of git:// is discouraged.") runs on
    # into the next sentence of its paragraph, where the reason usually is (:func:`reason_follows`)
    reason_follows: bool = True
    # an answer that is a definition list's entry comes with both halves: a description with the term it
    # describes on the line above ("-a, --all" / "do not ignore entries starting with ."), a term with the
    # first sentence of its description (:func:`entry_term`, :func:`entry_description`)
    whole_entry: bool = True
    # an answer sentence longer than max_answer_chars is shown cut to its clauses that hold the most of the
    # question's terms and fit (:func:`clause_window`: a licence's 400-character sentence, the clause that answers)
    clause_cut: bool = True

    def weights(self) -> np.ndarray:
        return np.array([getattr(self, f"w_{f}") for f in FEATURES])

    def answerability(self) -> np.ndarray:
        return np.array([getattr(self, f"a_{f}") for f in FEATURES])


@dataclass(frozen=True)
class ScoredSentence:
    sentence: Sentence
    chunk: Chunk
    score: float
    features: tuple[float, ...]  # in the order of FEATURES
    known: float = 1.0  # share of the question's distinct terms the folder uses (the same for every candidate)
    # the features of the sentence that asked the question just before this one (after_echo): the folder
    # answers the question there, so this sentence is at least as sure as that one is
    asked: tuple[float, ...] | None = None


def lexical_coverage(q_terms: list[str], idf: dict[str, float], text: str) -> float:
    """IDF-weighted share of the question's distinct terms that occur in ``text``."""
    distinct = set(q_terms)
    total = sum(idf.get(t, 0.0) for t in distinct)
    if total <= 0:
        return 0.0
    present = term_set(text)
    return sum(idf.get(t, 0.0) for t in distinct if t in present) / total


def novelty(q_terms: set[str], text: str) -> float:
    """Share of the distinct content terms of ``text`` that are not among the question's terms."""
    own = term_set(text)
    return len(own - q_terms) / len(own) if own else 0.0


def entity_weight(idf: dict[str, float]):
    """How much a named thing of the question matters: its IDF above that of a term in half the
    passages (a word the corpus has never seen gets the largest IDF there is)."""
    top_idf = max(idf.values(), default=1.0)

    def weight(word: str) -> float:
        return max(0.0, idf.get(stem(word), top_idf) - COMMON_IDF)

    return weight


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, x))))


def score_sentences(
    question: str,
    qvec: np.ndarray,
    passages: list[Chunk],
    sentences: dict[int, list[Sentence]],
    sentence_vectors: dict[int, np.ndarray],
    idf: dict[str, float],
    config: SpanConfig,
    topical: float = 0.0,
    qa: dict[int, float] | None = None,
    known: float = 1.0,
    names: dict[str, str] | None = None,
) -> list[ScoredSentence]:
    """Every sentence of ``passages`` scored, best first; a sentence in several passages counts once
    (with the passage where it scores best). ``passages`` are best first; ``idf``
    holds the IDF of the question's stemmed terms (unknown terms: the largest); ``topical`` is the
    question's cosine with the closest passage of the corpus; ``qa`` the answer model's cosine of each
    sentence (by id; missing: 0); ``known`` the share of the question's terms the corpus uses; ``names``
    the words of each document's file name (by source), which its sentences are read with, as with
    their section's headings (Markdown, HTML, DOCX), for the question's terms and named things ("Under
    the NCSA licence, ..." of a file named NCSA; "How do I disable caching?" in "Caching > Disabling")."""
    q_terms = terms(question)
    q_set = set(q_terms)
    topical = max(0.0, float(topical))
    qtype = question_type(question)
    weight = entity_weight(idf)
    weights = config.weights()
    rows: dict[int, tuple[float, Sentence, Chunk, tuple[float, ...]]] = {}
    for chunk in passages:
        ss = sentences.get(chunk.id, [])
        cos = [max(0.0, float(np.dot(qvec, sentence_vectors[x.id]))) for x in ss]
        name = (names or {}).get(chunk.source, "")
        for i, s in enumerate(ss):
            if len(s.text) < config.min_sentence_chars:
                continue
            near = ss if config.window is None else ss[max(0, i - config.window):i + config.window + 1]
            about = f"{name} {s.section or ''}"
            window = " ".join([*(x.text for x in near), about])
            f = (
                cos[i],
                lexical_coverage(q_terms, idf, f"{s.text} {about}"),
                type_match(qtype, s.text, question),
                entity_coverage(question, window, weight),
                novelty(q_set, s.text),
                topical,
                max(cos[max(0, i - 1):i] + cos[i + 1:i + 2], default=0.0),
                qa.get(s.id, 0.0) if qa else 0.0,
            )
            score = float(np.dot(weights[:-1], f))  # field is the same for every candidate: it orders nothing
            prev = rows.get(s.id)
            if prev is None or score > prev[0]:
                rows[s.id] = (score, s, chunk, f)
    field = float(np.median([f[0] for _, _, _, f in rows.values()])) if rows else 0.0
    best = [ScoredSentence(s, chunk, score + weights[-1] * field, f + (field,), known)
            for score, s, chunk, f in rows.values()]
    return sorted(best, key=lambda x: (-x.score, x.sentence.id))


def confidence(scored: ScoredSentence, config: SpanConfig) -> float:
    """The calibrated probability that the sentence answers the question (0.0 when off-topic)."""
    if scored.features[FEATURES.index("topical")] < config.min_topical:
        return 0.0
    if config.min_known is not None and scored.known <= config.min_known:
        return 0.0
    own = sigmoid(config.a_bias + float(np.dot(config.answerability(), scored.features)))
    if scored.asked is None:
        return own
    return max(own, sigmoid(config.a_bias + float(np.dot(config.answerability(), scored.asked))))


# a sentence opening with a pronoun or a demonstrative points back ("He described ...", "These systems ...");
# the seeds' nouns once listed here ("the company", "the deal", ...) changed no answer on six corpora, and went
_POINTS_BACK = re.compile(
    r"^(?:(?:but|and|so|yet|however|also|still|instead|then),?\s+)?"
    r"(?:he|she|it|they|these|this|those|that|its|their|his|her|such|both)\b", re.I)


def _words_of(text: str) -> frozenset[str]:
    """The content terms of a sentence, its HTML tags left out (a Markdown heading's anchor is no word)."""
    return term_set(HTML_TAG.sub(" ", text))


def _position(sentences: list[Sentence], sentence_id: int) -> int | None:
    """Where the sentence ``sentence_id`` is in a passage's ``sentences`` (None: not there)."""
    return next((i for i, x in enumerate(sentences) if x.id == sentence_id), None)


def antecedent(text: str, config: SpanConfig) -> bool:
    """Whether a sentence can be what the next one points back to: a sentence with words, as long as an
    answer must be (not a "---" rule or a bare number), that asks nothing (the asker knows the question)."""
    t = text.strip()
    return len(t) >= config.min_sentence_chars and any(c.isalpha() for c in t) and not asks(t)


# a question asking for a reason or a purpose, and words that give one
_WHY = re.compile(
    r"(?:^\W*|[,;:.?!\-–—]\s*|\b(?:so|and|but|then)\s+)(?:why|how come)\b|\bfor what (?:reason|purpose)\b|"
    r"\bwhat (?:is|was|are|were) the (?:reasons?|purpose|point)\b", re.I)
_REASON = re.compile(
    r"\b(?:because|since|due to|owing to|thanks to|so that|so as to|in order to|reasons?|why|caused by|as a result|"
    r"therefore|thus|hence|purpose|causes?|to (?:avoid|prevent|ensure|allow|enable|make|keep|help|protect|reduce))\b",
    re.I)
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\r?\n")


def asks_why(question: str) -> bool:
    """Whether a question asks for a reason or a purpose ("Why is X discouraged?", "X fails - why?", "How come
    ...?", "For what reason ..."); not a question that only names one ("What comparison explains why X?")."""
    return bool(_WHY.search(question))


def gives_reason(text: str) -> bool:
    """Whether a sentence states a reason or a purpose ("because", "due to", "to avoid", "This is why ...")."""
    return bool(_REASON.search(text))


def reason_follows(question: str, parts: list[Sentence], chunk: Chunk, chunk_sentences: list[Sentence],
                   config: SpanConfig) -> Sentence | None:
    """The sentence after an answer to a why-question that gives no reason, when it goes on in the same
    paragraph and both fit ``max_answer_chars``: a claim is usually followed by its explanation ("The use of
    git:// is discouraged. The former two use the Git Protocol, which lacks authentication ..."). None when
    the answer gives a reason itself or nothing fits."""
    if not asks_why(question) or any(gives_reason(s.text) for s in parts) or not antecedent(parts[-1].text, config):
        return None  # a sentence that asks is no answer to run on from
    j = _position(chunk_sentences, parts[-1].id)
    if j is None or j + 1 >= len(chunk_sentences):
        return None
    nxt = chunk_sentences[j + 1]
    between = chunk.text[parts[-1].end_char - chunk.start_char:nxt.start_char - chunk.start_char]
    if (_PARAGRAPH_BREAK.search(between) or nxt.end_char - parts[0].start_char > config.max_answer_chars
            or not antecedent(nxt.text, config) or is_heading(nxt.text.strip())):
        return None
    return nxt


_TERM_END = re.compile(r"[.!?:;,]$")
MAX_TERM_CHARS = 60  # a definition list's term ("-a, --all", "bs=BYTES", "--group-directories-first")


def _line_at(text: str, pos: int) -> tuple[int, int]:
    """The bounds of the line of ``text`` holding offset ``pos``."""
    a = max(text.rfind("\n", 0, pos), text.rfind("\r", 0, pos)) + 1
    m = LINE_BREAK.search(text, pos)
    return a, (m.start() if m else len(text))


def _label(t: str) -> bool:
    """A stripped line that can name what follows it: short, not ending as a sentence or a clause does."""
    return len(t) <= MAX_TERM_CHARS and not _TERM_END.search(t) and not asks(t)


def _term_line(line: str) -> bool:
    """A definition list's term: a label (:func:`_label`) with words, and no heading (a manual's "SYNOPSIS"
    above its indented usage line) nor code's "/**"."""
    t = line.strip()
    return _label(t) and any(c.isalnum() for c in t) and not is_heading(t)


_DEFINITION_MARK = re.compile(r"[ \t]*:[ \t]+")  # Markdown's definition list (MyST, Pandoc): "Term" / ": what it is"


def _describes(chunk: Chunk, term: Sentence, description: Sentence) -> bool:
    """Whether ``description`` opens the block indented under the one-line ``term`` right above it, or the
    Markdown definition (": ...") of the term on the line above, however that term reads ("User")."""
    text, base = chunk.text, chunk.start_char
    ta, tb = _line_at(text, term.start_char - base)
    da, db = _line_at(text, description.start_char - base)
    mark = _DEFINITION_MARK.match(text, da, db)
    opens = da + indent(text[da:db])
    if term.end_char - base > tb or description.start_char - base not in {opens, mark.end() if mark else opens}:
        return False  # the term runs past its line, or the description does not open its line
    t = text[ta:tb]
    if LINE_BREAK.fullmatch(text[tb:da]) is None or t.strip() != term.text.strip():
        return False
    if is_section_title(term.text, term.section):
        return False  # a heading over its section's text, indented under it (an Org headline), is no term
    if mark:
        return bool(t.strip()) and _label(t.strip())
    return _term_line(t) and indent(text[da:db]) > indent(t)


def entry_term(best: Sentence, chunk: Chunk, chunk_sentences: list[Sentence]) -> Sentence | None:
    """The term a description belongs to: the sentence on the line right above ``best``, less indented, that is
    a term by itself (:func:`_term_line`): "-a, --all" above "do not ignore entries starting with .". None when
    ``best`` describes no term."""
    i = _position(chunk_sentences, best.id)
    if not i:
        return None
    prev = chunk_sentences[i - 1]
    return prev if _describes(chunk, prev, best) else None


def entry_description(best: Sentence, chunk: Chunk, chunk_sentences: list[Sentence]) -> Sentence | None:
    """The first sentence of the description indented under a term ("--copy-contents" / "copy contents of
    special files when recursive"); None when ``best`` is no term with one."""
    i = _position(chunk_sentences, best.id)
    if i is None or i + 1 >= len(chunk_sentences):
        return None
    nxt = chunk_sentences[i + 1]
    return nxt if _describes(chunk, best, nxt) else None


def answer_sentences(best: ScoredSentence, chunk_sentences: list[Sentence], config: SpanConfig,
                     question: str | None = None) -> list[Sentence]:
    """The sentences making up the answer: the best one, preceded by its antecedent when it points back
    (:func:`antecedent`: "Can chronyd do X?" / "It is not possible ...", "it" is chronyd, takes none). Given
    the ``question`` asked, the answer as shown: a definition list's entry whole (``whole_entry``: the term
    with its description's first sentence), and a why-answer followed by the next sentence when only that
    one may give the reason (:func:`reason_follows`, ``reason_follows``); without it, the picked sentence as
    the answer checks and the fit read it."""
    parts = [best.sentence]
    i = _position(chunk_sentences, best.sentence.id)
    if i and _POINTS_BACK.match(best.sentence.text) and antecedent(chunk_sentences[i - 1].text, config):
        prev = chunk_sentences[i - 1]
        if best.sentence.end_char - prev.start_char <= config.max_answer_chars:
            parts = [prev, best.sentence]
    if question is not None and config.whole_entry and len(parts) == 1:
        term = entry_term(best.sentence, best.chunk, chunk_sentences)
        description = None if term else entry_description(best.sentence, best.chunk, chunk_sentences)
        if term and best.sentence.end_char - term.start_char <= config.max_answer_chars:
            parts = [term, best.sentence]
        elif description and description.end_char - best.sentence.start_char <= config.max_answer_chars:
            parts = [best.sentence, description]
    if question is not None and config.reason_follows:
        nxt = reason_follows(question, parts, best.chunk, chunk_sentences, config)
        if nxt is not None:
            parts.append(nxt)
    return parts


_CLAUSE_CUT = re.compile(r"[,;:]\s+")  # a clause ends at the mark, the next opens after the space


def clause_window(text: str, q_terms: list[str], idf: dict[str, float], limit: int) -> tuple[int, int]:
    """The part of a sentence longer than ``limit`` characters to show as the answer: the run of its clauses
    (cut after a comma, semicolon or colon) at most ``limit`` long holding the most of the question's terms,
    each weighted by its IDF; of those, the longest (the most of the sentence kept), then the first.
    ``(0, len(text))`` when the text fits or no run of clauses does.

    >>> t = ("Permission is granted to any person, free of charge, to use the work; "
    ...      "it may be sold, and copies may be sold too.")
    >>> a, b = clause_window(t, ["sold", "copi"], {"sold": 1.0, "copi": 2.0}, 50)
    >>> t[a:b]
    'it may be sold, and copies may be sold too.'
    """
    if len(text) <= limit:
        return 0, len(text)
    cuts = list(_CLAUSE_CUT.finditer(text))
    ends = sorted({m.start() for m in cuts} | {len(text.rstrip())})
    starts = [0] + [m.end() for m in cuts]
    wanted = {t: idf.get(t, 0.0) for t in set(q_terms)}
    best: tuple[float, int, int] | None = None
    span = (0, len(text))
    for a in starts:  # each start's runs grow clause by clause: words never straddle a cut
        present: set[str] = set()
        done = a
        for b in ends:
            if b <= a:
                continue
            if b - a > limit:
                break
            present.update(terms(text[done:b]))
            done = b
            key = (sum(v for t, v in wanted.items() if t in present), b - a, -a)
            if best is None or key > best:
                best, span = key, (a, b)
    if best is None:
        return 0, len(text)
    a, b = span
    if b < len(text) and text[b] in ";:" and b - a < limit:
        b += 1  # a clause ending in a semicolon or colon keeps it
    return a, b


_MD_HEADING = re.compile(r"[ \t]{0,3}#{1,6}(?:[ \t]|$)")


def introduced_end(text: str, start: int, end: int, limit: int) -> int:
    r"""Where an answer ``text[start:end]`` that leads in ends once it runs on over what it introduces: the
    block after it (a list, a code block, an indented value, the rest of its paragraph), blank lines before
    the block skipped. The answer ends the line with a colon ("To install it:", "EXIT status:", "BUG
    REPORTS:"); the block is the following lines up to a blank line, across blank lines while they stay
    indented under the answer (a man page's list) or go on with the same list, and to the closing fence of a
    fenced code block. It stops at a heading, at a line indented less than the block's first, and where the
    answer would grow past ``limit`` characters (whole lines only). ``end`` when nothing follows that fits.

    >>> t = "To install it:\n\n```sh\nmake install\n```\n\nThen run it."
    >>> t[:introduced_end(t, 0, 14, 300)]
    'To install it:\n\n```sh\nmake install\n```'
    """
    if not text[start:end].rstrip().endswith(":"):
        return end
    brk = LINE_BREAK.search(text, end)
    if brk is None or text[end:brk.start()].strip():
        return end  # the colon is not the end of its line ("Note: ..." goes on)
    lead = indent(text[_line_at(text, end)[0]:end])
    lines = list(lines_of(text, brk.end()))
    i = next((k for k, (a, b) in enumerate(lines) if text[a:b].strip()), None)
    if i is None or i > 2:
        return end  # nothing follows, or it is far below
    first = text[slice(*lines[i])]
    if _MD_HEADING.match(first) or (is_heading(first) and indent(first) <= lead):
        return end  # a heading, not indented under the answer: the next section
    top = indent(first)
    item = item_column(first) is not None
    fenced = bool(FENCE.match(first))
    best, k = end, i
    while k < len(lines):
        a, b = lines[k]
        line = text[a:b]
        if k > i and not fenced:
            if not line.strip():
                nxt = next((j for j in range(k + 1, len(lines)) if text[slice(*lines[j])].strip()), None)
                if nxt is None:
                    break
                after = text[slice(*lines[nxt])]
                under = indent(after) >= top > lead
                same_list = item and item_column(after) is not None and indent(after) == top
                if _MD_HEADING.match(after) or not (under or same_list):
                    break
                k = nxt
                continue
            if _MD_HEADING.match(line) or indent(line) < top:
                break
        stop = len(line.rstrip()) + a
        if stop - start > limit:
            break
        best = max(best, stop)
        if fenced and k > i and FENCE.match(line):
            break  # the closing fence
        k += 1
    return best


ECHO_OVERLAP = 0.5  # Jaccard of content terms from which a sentence that asks is the question asked again
ECHO_MISSING = 0.25  # ... and the most of the question's content terms it may lack


def echoes(question: str, text: str) -> bool:
    """Whether ``text`` asks the question again: it asks (:func:`retriever.cues.asks`), holds all but
    ``ECHO_MISSING`` of the question's content terms and shares ``ECHO_OVERLAP`` of both's with it
    ("2.2. How do I make an NTP server?"; not "How do I make an NTP client?", another question)."""
    if not asks(text):
        return False
    q, t = term_set(question), _words_of(text)
    return bool(q) and len(q - t) <= ECHO_MISSING * len(q) and len(q & t) >= ECHO_OVERLAP * len(q | t)


def _opens(sentences: list[Sentence], k: int, label_chars: int) -> bool:
    """Whether ``sentences[k]`` (k >= 1) opens its line, or follows no more than a label shorter than
    ``label_chars`` on it ("2.4.")."""
    prev = sentences[k - 1]
    return prev.end_line < sentences[k].start_line or len(prev.text.strip()) < label_chars


def own_line(sentence: Sentence, sentences: dict[int, list[Sentence]], label_chars: int = 12) -> bool:
    """Whether ``sentence`` is set apart on its own line(s), as a FAQ's question is: the sentence after it
    starts on a later line, and its line holds at most one sentence before it ("2.4. Must I give servers by
    IP address?", "slrn is stable. Why isn't it 1.0?") or that one is a label shorter than ``label_chars``,
    as far as the candidate passages show them (a passage opening with it shows nothing before it). A
    question asked inside a paragraph ("... is a hand. Do you ever wonder what powers your AI tools?") is
    not."""
    before = after = None
    for ss in sentences.values():
        i = _position(ss, sentence.id)
        if i is None:
            continue
        if i:  # at i == 1 the passage shows one sentence before it, and nothing of what comes before that
            before = before or _opens(ss, i, label_chars) or i == 1 or _opens(ss, i - 1, label_chars)
        if i + 1 < len(ss):
            after = after or ss[i + 1].start_line > sentence.end_line
    return bool(after) and before is not False


_FIRST_LETTER = re.compile(r"[^\W\d_]")


def opens_capital(text: str) -> bool:
    """Whether the first letter of ``text`` (after any number, markup or tag) is a capital, as a question
    written as a sentence opens: "2.2. How do I ...?", "### What is ...?"; not a program's prompt quoted
    in a manual ("file already exists; do you wish to overwrite (y or n)?")."""
    m = _FIRST_LETTER.search(HTML_TAG.sub(" ", text))
    return m is not None and m.group().isupper()


def echo_score(s: ScoredSentence, config: SpanConfig) -> float:
    """How closely a sentence asks the question in other words: the weighted mean of its ``dense`` cosine,
    its ``lexical`` coverage and its ``qa`` cosine (0 without an answer model), each in [0, 1]."""
    f = dict(zip(FEATURES, s.features))
    w_lex, w_qa = config.echo_w_lexical, config.echo_w_qa
    return (f["dense"] + w_lex * f["lexical"] + w_qa * f["qa"]) / (1.0 + w_lex + w_qa)


def find_echo(question: str, scored: list[ScoredSentence], sentences: dict[int, list[Sentence]],
              config: SpanConfig) -> ScoredSentence | None:
    """The candidate that asks the question again: the best scored one that :func:`echoes` it, else (with
    ``echo_min`` set) the sentence on a line of its own (:func:`own_line`) that asks with the highest
    :func:`echo_score`, when that is at least ``echo_min`` and ``echo_margin`` above any other that asks
    ("How do I back up my etcd cluster?": "How do I make a backup of my etcd cluster?"). A sentence asking
    the same words as the best one (a FAQ's list of its questions) is no rival."""
    echo = next((s for s in scored if echoes(question, s.sentence.text)), None)
    if echo is not None or config.echo_min is None:
        return echo
    asking = sorted(((echo_score(s, config), s) for s in scored
                     if asks(s.sentence.text) and opens_capital(s.sentence.text)
                     and own_line(s.sentence, sentences, config.min_sentence_chars)), key=lambda x: -x[0])
    if not asking or asking[0][0] < config.echo_min:
        return None
    best = _words_of(asking[0][1].sentence.text)
    rivals = [x for x, s in asking[1:] if _words_of(s.sentence.text) != best]
    if rivals and asking[0][0] - rivals[0] < config.echo_margin:
        return None
    return asking[0][1]


def without_answer_model(config: SpanConfig) -> SpanConfig:
    """The echo settings for a retriever with no answer model: the cosine alone (``echo_min_cosine``)."""
    if config.echo_min is None:
        return config
    return replace(config, echo_w_lexical=0.0, echo_w_qa=0.0, echo_min=config.echo_min_cosine)


def _following(echo: ScoredSentence, sentences: dict[int, list[Sentence]]) -> set[tuple[int, int]]:
    """(passage id, sentence id) of the sentences after ``echo`` in every candidate passage holding it, up to
    the next sentence that asks."""
    follow: set[tuple[int, int]] = set()
    for cid, ss in sentences.items():
        at = _position(ss, echo.sentence.id)
        if at is None:
            continue
        for x in ss[at + 1:]:
            if asks(x.text):
                break
            follow.add((cid, x.id))
    return follow


def after_echo(question: str, scored: list[ScoredSentence],
               sentences: dict[int, list[Sentence]], config: SpanConfig | None = None) -> list[ScoredSentence]:
    """``scored`` with the sentences that follow the question asked again first, in the document's order:
    a FAQ answers under its question, a text that asks itself a question answers it next ("Why X?
    Because ..."). The echo is the best scored one; what follows it runs to the next sentence that asks,
    in every candidate passage holding it, and each is as sure as the echo (``asked``). Unchanged when no
    candidate echoes the question."""
    echo = find_echo(question, scored, sentences, config or SpanConfig())
    if echo is None:
        return scored
    # a FAQ's table of contents asks every question again with nothing after it but the next question: the
    # next sentence that echoes the question by its terms (the heading over the answer) is taken instead
    found = echo
    others = (s for s in scored if s.sentence.id != found.sentence.id and echoes(question, s.sentence.text))
    for echo in chain([found], others):
        follow = _following(echo, sentences)
        if follow:
            break
    else:
        return scored
    first = sorted((replace(s, asked=echo.features) for s in scored if (s.chunk.id, s.sentence.id) in follow),
                   key=lambda s: s.sentence.start_char)
    return first + [s for s in scored if (s.chunk.id, s.sentence.id) not in follow]
