"""Evaluation metrics, implemented once: ranking hits, MRR, SQuAD EM/F1, abstention, percentiles,
and paired bootstrap intervals for the difference between two configurations.

Everything here is a pure function of plain values (booleans per ranked passage, answer strings),
so each metric is unit-tested on hand-made rankings. Answers are compared with the library's own
SQuAD normaliser (``indexer.text.normalize_answer``), as DrQA's evaluation does.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from indexer.text import contains_answer, normalize_answer

MAX_ANSWER_CHARS = 300  # a longer span does not count as an answer, even if it holds one


@dataclass(frozen=True)
class Outcome:
    """What one configuration did with one gold question, already judged."""

    id: str
    answerable: bool
    relevant: tuple[bool, ...]  # per returned passage, best first: right file and holds an accepted answer
    answered: bool | None = None  # None: the configuration does not pick answers
    correct: bool = False  # answer span from the right file, holding an accepted answer, short enough
    em: float | None = 0.0  # None: no accepted answer string to match (a question judged by its range)
    f1: float | None = 0.0
    seconds: float = 0.0
    kind: str = ""  # the gold question's kind: "off-topic" unanswerable ones are told apart from on-topic ones


def hit_at(relevant: Sequence[bool], k: int) -> float:
    """1.0 when one of the first ``k`` passages is relevant, else 0.0."""
    return 1.0 if any(relevant[:k]) else 0.0


def reciprocal_rank(relevant: Sequence[bool], k: int = 10) -> float:
    """1 / rank of the first relevant passage within the first ``k`` (0.0 if none)."""
    for rank, rel in enumerate(relevant[:k], start=1):
        if rel:
            return 1.0 / rank
    return 0.0


def exact_match(prediction: str, answers: Iterable[str]) -> float:
    """SQuAD exact match: 1.0 when the normalised prediction equals a normalised accepted answer."""
    pred = normalize_answer(prediction)
    return 1.0 if any(pred == normalize_answer(a) for a in answers) else 0.0


def token_f1(prediction: str, answers: Iterable[str]) -> float:
    """SQuAD F1: the best token-overlap F1 of the prediction against any accepted answer."""
    pred = normalize_answer(prediction).split()
    best = 0.0
    for answer in answers:
        gold = normalize_answer(answer).split()
        same = sum((Counter(pred) & Counter(gold)).values())
        if same:
            p, r = same / len(pred), same / len(gold)
            best = max(best, 2 * p * r / (p + r))
    return best


MIN_RANGE_OVERLAP = 20  # characters a passage shares with a gold range to count (or the whole range if shorter)


def answer_correct(text: str, source: str, gold_source: str | None, answers: Sequence[str],
                   max_chars: int = MAX_ANSWER_CHARS, where: tuple[int, int] | None = None,
                   ranges: Sequence[tuple[int, int]] = ()) -> bool:
    """The answer accuracy test: right file, at most ``max_chars`` long, and holds an accepted answer,
    or lies (``where``: its character range) inside one of the gold ``ranges`` or holds one whole (an
    answer that runs on over the list its sentence introduces holds the sentence).

    >>> answer_correct("It costs $5.", "a.txt", "a.txt", ["$5"])
    True
    >>> answer_correct("Use pip.", "a.txt", "a.txt", [], where=(120, 128), ranges=[(100, 200)])
    True
    >>> answer_correct("Install it: make install", "a.txt", "a.txt", [], where=(100, 124), ranges=[(100, 111)])
    True
    """
    if source != gold_source or len(text) > max_chars:
        return False
    inside = where is not None and any(a <= where[0] and where[1] <= b or where[0] <= a and b <= where[1]
                                       for a, b in ranges)
    return inside or contains_answer(text, answers)


def passage_relevant(text: str, source: str, gold_source: str | None, answers: Sequence[str],
                     where: tuple[int, int] | None = None, ranges: Sequence[tuple[int, int]] = ()) -> bool:
    """A passage counts for hit@k and MRR when it is from the right file and holds an accepted answer,
    or shares at least ``MIN_RANGE_OVERLAP`` characters (``where``: its range) with a gold range."""
    if source != gold_source:
        return False
    if where is not None and any(min(b, where[1]) - max(a, where[0]) >= min(MIN_RANGE_OVERLAP, b - a)
                                 for a, b in ranges):
        return True
    return contains_answer(text, answers)


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) with linear interpolation between order statistics (numpy's default)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def abstention(abstained: Sequence[bool], answerable: Sequence[bool]) -> dict[str, float | None]:
    """Precision and recall of abstaining on unanswerable questions, and the false-abstention rate
    (share of answerable questions abstained on). ``None`` where the denominator is zero."""
    pairs = list(zip(abstained, answerable))
    n_abstained = sum(a for a, _ in pairs)
    n_unanswerable = sum(not u for _, u in pairs)
    n_answerable = len(pairs) - n_unanswerable
    right = sum(a and not u for a, u in pairs)
    wrong = sum(a and u for a, u in pairs)
    return {
        "abstain_precision": right / n_abstained if n_abstained else None,
        "abstain_recall": right / n_unanswerable if n_unanswerable else None,
        "false_abstention": wrong / n_answerable if n_answerable else None,
    }


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def summarize(outcomes: Sequence[Outcome]) -> dict[str, float | None]:
    """The metrics of one configuration over a question set.

    Ranking and answer metrics are averaged over answerable questions (an abstention scores 0);
    abstention metrics need the configuration to pick answers (else they are ``None``); latency
    percentiles are in milliseconds over all questions.
    """
    answerable = [o for o in outcomes if o.answerable]
    answers = all(o.answered is not None for o in outcomes) and bool(outcomes)
    out: dict[str, float | None] = {
        "questions": float(len(outcomes)),
        "hit@1": _mean([hit_at(o.relevant, 1) for o in answerable]),
        "hit@5": _mean([hit_at(o.relevant, 5) for o in answerable]),
        "mrr@10": _mean([reciprocal_rank(o.relevant, 10) for o in answerable]),
        "accuracy": _mean([float(o.correct) for o in answerable]) if answers else None,
        "em": _mean([o.em for o in answerable if o.em is not None]) if answers else None,
        "f1": _mean([o.f1 for o in answerable if o.f1 is not None]) if answers else None,
    }
    if answers:
        out.update(abstention([not o.answered for o in outcomes], [o.answerable for o in outcomes]))
        off = [not o.answered for o in outcomes if not o.answerable and o.kind == "off-topic"]
        on = [not o.answered for o in outcomes if not o.answerable and o.kind != "off-topic"]
        out["abstain_offtopic"] = _mean([float(a) for a in off])
        out["abstain_ontopic"] = _mean([float(a) for a in on])
    else:
        out.update({"abstain_precision": None, "abstain_recall": None, "false_abstention": None,
                    "abstain_offtopic": None, "abstain_ontopic": None})
    ms = [o.seconds * 1000.0 for o in outcomes]
    out["p50_ms"] = percentile(ms, 50) if ms else None
    out["p95_ms"] = percentile(ms, 95) if ms else None
    return out


# metrics that are a mean over one set of questions, and so have per-question values to pair:
# name -> (over answerable questions?, the value of one outcome)
PER_QUESTION = {
    "hit@1": (True, lambda o: hit_at(o.relevant, 1)),
    "hit@5": (True, lambda o: hit_at(o.relevant, 5)),
    "mrr@10": (True, lambda o: reciprocal_rank(o.relevant, 10)),
    "accuracy": (True, lambda o: float(o.correct)),
    "em": (True, lambda o: o.em),
    "f1": (True, lambda o: o.f1),
    "abstain_recall": (False, lambda o: float(not o.answered)),
    "abstain_offtopic": (False, lambda o: float(not o.answered)),
    "abstain_ontopic": (False, lambda o: float(not o.answered)),
    "false_abstention": (True, lambda o: float(not o.answered)),
}
ANSWER_METRICS = {"accuracy", "em", "f1", "abstain_recall", "abstain_offtopic", "abstain_ontopic",
                  "false_abstention"}  # need answers picked
UNANSWERED_KIND = {"abstain_offtopic": lambda kind: kind == "off-topic",  # which unanswerable questions count
                   "abstain_ontopic": lambda kind: kind != "off-topic"}


def per_question(outcomes: Sequence[Outcome], metric: str) -> list[float] | None:
    """The values whose mean is ``metric`` in :func:`summarize`, one per question it is over, in
    order (None when it does not apply: answer metrics of a configuration that picks no answers)."""
    answerable, value = PER_QUESTION[metric]
    if metric in ANSWER_METRICS and not (outcomes and all(o.answered is not None for o in outcomes)):
        return None
    which = UNANSWERED_KIND.get(metric, lambda kind: True)
    values = [value(o) for o in outcomes if o.answerable == answerable and (answerable or which(o.kind))]
    return [v for v in values if v is not None]


def paired_difference(a: Sequence[float], b: Sequence[float], level: float = 0.95, samples: int = 10_000,
                      seed: int = 0) -> tuple[float, float, float]:
    """The mean of ``a - b`` over the same questions (``a[i]`` and ``b[i]`` are one question's values
    under two configurations) and its bootstrap confidence interval at ``level`` (BCa, questions
    resampled with replacement, scipy.stats.bootstrap): (difference, low, high). When every
    question differs by the same amount the interval is that amount."""
    import numpy as np
    from scipy.stats import bootstrap

    if len(a) != len(b) or not a:
        raise ValueError("paired values need the same, non-zero number of questions")
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    mean = float(d.mean())
    if np.all(d == d[0]):  # no spread: the resamples all have this mean (BCa is undefined)
        return mean, mean, mean
    ci = bootstrap((d,), np.mean, vectorized=True, n_resamples=samples, confidence_level=level,
                   method="BCa", random_state=np.random.default_rng(seed)).confidence_interval
    return mean, float(ci.low), float(ci.high)
