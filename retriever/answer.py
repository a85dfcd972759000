"""Picking the answer: score every sentence of the top passages, choose one, say how sure we are.

A sentence's score mixes four signals, each in [0, 1]:

* dense: cosine between the question and the sentence (vectors stored at index time);
* lexical: the IDF-weighted share of the question's content terms that the sentence contains
  (terms the corpus has never seen count against it, which is what makes abstention work);
* passage: how highly the passage holding the sentence was retrieved;
* type: whether the sentence holds what the question asks for (an amount, a date, a name).

The confidence is a logistic function of the best score; below ``abstain_below`` the retriever
abstains (``answer = None``). All weights are tuned on the dev split by ``python -m eval``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from indexer.schema import Chunk, Sentence
from indexer.text import terms


@dataclass(frozen=True)
class SpanConfig:
    """Weights of the sentence score and the confidence calibration."""

    w_dense: float = 0.5
    w_lexical: float = 0.35
    w_passage: float = 0.1
    w_type: float = 0.05
    slope: float = 12.0  # confidence = sigmoid(slope * (score - midpoint))
    midpoint: float = 0.45
    abstain_below: float = 0.5
    min_sentence_chars: int = 12  # shorter "sentences" (a bare heading, a number) are not answers


@dataclass(frozen=True)
class ScoredSentence:
    sentence: Sentence
    chunk: Chunk
    score: float
    dense: float
    lexical: float


_MONEY = re.compile(r"[$€£¥]\s?\d|\d\s?(?:bn|billion|million|trillion|thousand)\b|\b\d+(?:\.\d+)?\s?[BMK]\b", re.I)
_NUMBER = re.compile(r"\d")
_PERCENT = re.compile(r"\d\s?%|\bper ?cent\b", re.I)
_DATE = re.compile(
    r"\b(?:1[89]|20)\d\d\b|\b(?:January|February|March|April|May|June|July|August|September|October|"
    r"November|December|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|"
    r"spring|summer|autumn|fall|winter|yesterday|today|last (?:year|month|week))\b", re.I)
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-zA-Z]+|\b[A-Z]{2,}\b")


def question_type(question: str) -> str | None:
    """What kind of answer the question wants: money, percent, number, date, name, or None."""
    q = question.lower().strip()
    if re.search(r"\bhow much\b|\bcost\b|\bspend|\bprice\b|\binvest(?:ment|ed)?\b.*\bhow\b|\bworth\b", q):
        return "money"
    if re.search(r"\bwhat (?:percentage|share|fraction)\b|\bpercent", q):
        return "percent"
    if re.search(r"\bhow many\b|\bwhat number\b|\bhow (?:big|large|long)\b", q):
        return "number"
    if re.search(r"^when\b|\bwhat (?:year|month|day|date|time)\b|\bwhich (?:year|month)\b|\bby when\b", q):
        return "date"
    if re.search(r"^who\b|\bwhich (?:company|companies|firm|firms|person|people|ceo|executive|player|players)\b"
                 r"|\bwhat (?:company|companies|firm)\b|\bname\b", q):
        return "name"
    return None


def type_match(qtype: str | None, text: str) -> float:
    """1.0 when ``text`` holds the kind of thing ``qtype`` asks for, 0.0 otherwise (0.5: no type)."""
    if qtype is None:
        return 0.5
    pattern = {"money": _MONEY, "percent": _PERCENT, "number": _NUMBER, "date": _DATE, "name": _NAME}[qtype]
    return 1.0 if pattern.search(text) else 0.0


def lexical_coverage(q_terms: list[str], idf: dict[str, float], text: str) -> float:
    """IDF-weighted share of the question's distinct terms that occur in ``text``."""
    distinct = set(q_terms)
    total = sum(idf.get(t, 0.0) for t in distinct)
    if total <= 0:
        return 0.0
    present = set(terms(text))
    return sum(idf.get(t, 0.0) for t in distinct if t in present) / total


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, x))))


def score_sentences(
    question: str,
    qvec: np.ndarray,
    passages: list[tuple[Chunk, float]],
    sentences: dict[int, list[Sentence]],
    sentence_vectors: dict[int, np.ndarray],
    idf: dict[str, float],
    config: SpanConfig,
) -> list[ScoredSentence]:
    """Every sentence of ``passages`` scored, best first; a sentence in several passages counts once
    (with its best passage). ``passages`` carry retrieval scores normalised to [0, 1]."""
    q_terms = terms(question)
    qtype = question_type(question)
    best: dict[int, ScoredSentence] = {}
    for chunk, passage_score in passages:
        for s in sentences.get(chunk.id, []):
            if len(s.text) < config.min_sentence_chars:
                continue
            dense = max(0.0, float(np.dot(qvec, sentence_vectors[s.id])))
            lex = lexical_coverage(q_terms, idf, s.text)
            score = (config.w_dense * dense + config.w_lexical * lex + config.w_passage * passage_score
                     + config.w_type * type_match(qtype, s.text))
            prev = best.get(s.id)
            if prev is None or score > prev.score:
                best[s.id] = ScoredSentence(s, chunk, score, dense, lex)
    return sorted(best.values(), key=lambda x: (-x.score, x.sentence.id))


def confidence(score: float, config: SpanConfig) -> float:
    """The calibrated probability that the sentence answers the question."""
    return sigmoid(config.slope * (score - config.midpoint))
