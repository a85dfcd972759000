"""Leave-one-corpus-out: fit the answer scorer on every corpus but one, score it on the one left out.

What is fitted (``fit_span``): the ranking weights, the answerability model, the off-topic gate and
the abstention threshold of :class:`retriever.answer.SpanConfig`. Each corpus is indexed and its
candidate sentences are collected once (``prepare``); each fold then fits on the others' tables and
answers the held-out corpus's questions with what it fitted (``leave_one_out``). The held-out
questions are never seen by the fit, so the figures say how quarry does on a folder it was not
tuned on.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from eval.corpora import Corpus
from eval.fit import candidate_table, choose_threshold, fit_logistic, fit_ranker
from eval.gold import GoldQuestion, load_gold
from eval.harness import CONFIGS, DEFAULT_CONFIG, ConfigRun, evaluate, index_for
from eval.metrics import summarize
from indexer.encoder import Encoder
from retriever.answer import FEATURES, SpanConfig

RANK_DROP: tuple[str, ...] = ()  # features left out of the ranking model (as eval.bench.tune's default)
# and of the answerability model (topical drives the off-topic gate; qa there cost off-topic abstentions)
ANSWERABILITY_DROP = ("type", "topical", "qa")
MAX_FALSE_ABSTENTION = 0.05  # the threshold abstains on as many as it can within this false-abstention rate


@dataclass
class Part:
    """One corpus, indexed and opened, with its questions, their vectors and candidate sentences."""

    corpus: Corpus
    retriever: object  # retriever.pipeline.Retriever
    questions: list[GoldQuestion]
    qvecs: np.ndarray
    x: np.ndarray  # features of every candidate sentence
    y: np.ndarray  # 1.0 where its answer span is right
    owner: list[int]  # the question (index into ``questions``) of each row


def prepare(corpus: Corpus, index_root: str | os.PathLike, encoder: Encoder, split: str = "all",
            retriever_changes: dict | None = None) -> Part:
    """Index ``corpus`` (cached under ``index_root/NAME``), open it with the default configuration
    (plus ``retriever_changes``) and collect its candidate table."""
    from retriever.pipeline import Retriever
    from retriever.settings import RetrieverSettings

    default = next(c for c in CONFIGS if c.name == DEFAULT_CONFIG)
    index_dir = index_for(default.chunker, corpus.documents, Path(index_root) / corpus.name, encoder)
    retriever = Retriever.open(settings=RetrieverSettings(index_dir=index_dir), encoder=encoder)
    if retriever_changes:
        retriever = retriever.with_config(**retriever_changes)
    questions = load_gold(corpus.gold, split)
    qvecs = encoder.encode([q.question for q in questions])
    x, y, owner = candidate_table(retriever, questions, qvecs)
    return Part(corpus, retriever, questions, qvecs, x, y, owner)


def without_split(part: Part, split: str) -> Part:
    """``part`` without its ``split`` questions (and their candidate rows): what a fit may not see."""
    kept = [i for i, q in enumerate(part.questions) if q.split != split]
    new_index = {old: new for new, old in enumerate(kept)}
    rows = [r for r, o in enumerate(part.owner) if o in new_index]
    return replace(part, questions=[part.questions[i] for i in kept], qvecs=part.qvecs[kept],
                   x=part.x[rows], y=part.y[rows], owner=[new_index[part.owner[r]] for r in rows])


def fit_span(parts: Sequence[Part], base: SpanConfig, l2: float = 0.05, l2_answerable: float = 1.0,
             max_false: float = MAX_FALSE_ABSTENTION) -> SpanConfig:
    """``base`` with its ranking weights, answerability model, off-topic gate and abstention threshold
    fitted on the questions of ``parts`` together (each question one group, whatever its corpus)."""
    xs, ys, owners, tops, right, topical = [], [], [], [], [], []
    offset = 0
    keep = np.array([f not in RANK_DROP for f in FEATURES], dtype=float)
    for p in parts:
        xs.append(p.x)
        ys.append(p.y)
        owners.extend(o + offset for o in p.owner)
        offset += len(p.questions)
    x, y = np.concatenate(xs), np.concatenate(ys)
    w = fit_ranker(x * keep, y, owners, l2=l2) * keep
    if w.sum() > 1e-9:  # scaled to sum 1 (as the shipped weights); else there was nothing to learn from
        w = w / w.sum()
        span = replace(base, **{f"w_{f}": float(v) for f, v in zip(FEATURES, w)})
    else:
        span, w = base, base.weights()
    owner_a = np.asarray(owners)
    answerable = [q.answerable for p in parts for q in p.questions]
    for i, ans in enumerate(answerable):
        rows = np.flatnonzero(owner_a == i)
        if not len(rows):
            continue
        best = rows[np.argmax(x[rows] @ w)]
        tops.append(x[best] * keep)
        right.append(y[best])
        if ans:
            topical.append(float(x[rows[0], FEATURES.index("topical")]))
    a_keep = keep * np.array([f not in ANSWERABILITY_DROP for f in FEATURES], dtype=float)
    if len(set(right)) == 2:  # else (every top candidate right, or none) there is nothing to tell apart: keep base's
        a, bias = fit_logistic(np.array(tops) * a_keep, np.array(right), l2=l2_answerable)
        span = replace(span, a_bias=bias, **{f"a_{f}": float(v) for f, v in zip(FEATURES, a * a_keep)})
    span = replace(span, min_topical=0.75 * min(topical) if topical else 0.0, abstain_below=0.0)
    confs: list[float] = []
    for p in parts:  # the threshold is chosen on what ask answers, after the answer checks
        for rec in evaluate(p.retriever.with_config(span=span), p.questions, warmup=False, qvecs=p.qvecs):
            confs.append(rec.result.answer.score if rec.result.answer is not None else 0.0)
    return replace(span, abstain_below=choose_threshold(confs, answerable, max_false))


@dataclass(frozen=True)
class Fold:
    """The held-out corpus, what was fitted without it, and how that did on it."""

    corpus: Corpus
    span: SpanConfig
    run: ConfigRun


def with_answer_model(part: Part, model) -> Part:
    """``part`` answering with the answer-sentence encoder ``model`` (retriever.answer_model), its
    candidate table rescored by it (the candidates are the same; their qa feature changes)."""
    part = answering_with(part, model)
    x, y, owner = candidate_table(part.retriever, part.questions, part.qvecs)
    return replace(part, x=x, y=y, owner=owner)


def answering_with(part: Part, model) -> Part:
    """``part`` whose retriever answers with the answer-sentence encoder ``model``; its candidate table
    as it was (for a part that is answered, not fitted on)."""
    retriever = copy.copy(part.retriever)
    retriever.answer_model = model
    return replace(part, retriever=retriever)


def fold_models(root: str | os.PathLike, names: Sequence[str]) -> dict[str, object]:
    """The answer models of ``root/NAME`` (one trained without corpus NAME: eval.qamodel --folds),
    loaded; SettingsError naming a missing one."""
    from indexer.errors import SettingsError
    from retriever.answer_model import open_answer_model

    missing = [n for n in names if not (Path(root) / n).is_dir()]
    if missing:
        raise SettingsError(f"no fold answer model for {', '.join(missing)} under {root} "
                            f"(make them with: python -m eval.qamodel --work DIR --folds {root})")
    return {n: open_answer_model(Path(root) / n) for n in names}


def leave_one_out(parts: Sequence[Part], fit: Callable[[Sequence[Part]], SpanConfig] | None = None,
                  answer_models: dict[str, object] | None = None) -> list[Fold]:
    """For each part: fit on all the others (``fit``, default :func:`fit_span` from the part's own
    configuration) and answer its questions with the result. ``answer_models``: per held-out corpus, an
    answer-sentence encoder trained without it (on the others' gold too), that every part of its fold
    answers and is fitted with (the others' qa features are then in-sample: a pessimistic fit)."""
    default = next(c for c in CONFIGS if c.name == DEFAULT_CONFIG)
    folds = []
    for held in parts:
        if answer_models is not None:
            model = answer_models[held.corpus.name]
            others = [with_answer_model(p, model) for p in parts if p is not held]
            held = answering_with(held, model)  # answered, not fitted on: its table is not needed
        else:
            others = [p for p in parts if p is not held]
        span = fit(others) if fit else fit_span(others, held.retriever.config.span)
        records = evaluate(held.retriever.with_config(span=span), held.questions, warmup=False, qvecs=held.qvecs)
        folds.append(Fold(held.corpus, span, ConfigRun(default, records, summarize([r.outcome for r in records]))))
    return folds


def toggled(parts: Sequence[Part], name: str) -> list[Part]:
    """The parts answering with the answer check ``name`` (retriever.cues.CHECKS) switched the other way
    from their setting, or with every check off (``name`` "every check"); the candidate tables do not
    change (they are scored before the checks)."""
    from retriever.cues import CHECKS

    out = []
    for p in parts:
        off = p.retriever.config.span.checks_off
        if name == "every check":
            off = tuple(CHECKS)
        else:
            off = tuple(c for c in off if c != name) if name in off else (*off, name)
        span = replace(p.retriever.config.span, checks_off=off)
        out.append(replace(p, retriever=p.retriever.with_config(span=span)))
    return out


def macro(rows: Sequence[dict[str, float | None]]) -> dict[str, float | None]:
    """The mean of each metric over the rows that have it (every corpus counts the same)."""
    keys = dict.fromkeys(k for r in rows for k in r)
    out: dict[str, float | None] = {}
    for k in keys:
        values = [r[k] for r in rows if r.get(k) is not None]
        out[k] = sum(values) / len(values) if values else None
    return out
