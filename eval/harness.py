"""The evaluation harness: run retrieval configurations over gold questions, judge, tabulate.

It only uses public APIs: ``indexer.build.build_index`` makes (or reuses) one index per chunker
setting, ``retriever.pipeline.Retriever`` answers, ``eval.metrics`` judges and summarises.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from eval.gold import GoldQuestion
from eval.metrics import (
    Outcome,
    answer_correct,
    exact_match,
    paired_difference,
    passage_relevant,
    per_question,
    summarize,
    token_f1,
)
from indexer.chunker import ChunkerSettings
from indexer.encoder import Encoder
from indexer.schema import Result
from retriever.short import short_answer

if TYPE_CHECKING:
    from retriever.pipeline import CrossScorer, SpanReader

K = 10  # passages asked for per question: enough for hit@5 and MRR@10

FIXED_500 = ChunkerSettings(max_chars=500, strategy="fixed", overlap_chars=0)
RETRIEVAL_ONLY = {"answer": False, "rerank": False}


@dataclass(frozen=True)
class EvalConfig:
    """A named way of answering: how the corpus is chunked and how the retriever is set."""

    name: str
    description: str
    chunker: ChunkerSettings = field(default_factory=ChunkerSettings)
    changes: dict = field(default_factory=dict)  # RetrieverConfig fields that differ from the defaults
    peer: str | None = None  # another library answers instead (eval.peers), over the same chunks


CONFIGS: tuple[EvalConfig, ...] = (
    EvalConfig("bm25-fixed500", "plain BM25 over fixed 500-character chunks (baseline)", FIXED_500,
               {"mode": "lexical", **RETRIEVAL_ONLY}),
    EvalConfig("dense-fixed500", "plain dense over fixed 500-character chunks (baseline)", FIXED_500,
               {"mode": "dense", **RETRIEVAL_ONLY}),
    EvalConfig("lexical", "BM25 over sentence chunks", changes={"mode": "lexical", **RETRIEVAL_ONLY}),
    EvalConfig("dense", "dense over sentence chunks", changes={"mode": "dense", **RETRIEVAL_ONLY}),
    EvalConfig("hybrid", "BM25 + dense, fused", changes={"mode": "hybrid", **RETRIEVAL_ONLY}),
    EvalConfig("hybrid+span", "hybrid, answer sentence and abstention", changes={"rerank": False}),
    EvalConfig("hybrid+span+rerank", "the default: hybrid, answer span, passages re-ranked by it"),
)
DEFAULT_CONFIG = "hybrid+span+rerank"
# peer libraries, run with --peers (or named with --config): see eval/peers.py
PEER_CONFIGS: tuple[EvalConfig, ...] = (
    EvalConfig("bm25s-fixed500", "the bm25s library over fixed 500-character chunks (peer)", FIXED_500,
               peer="bm25s"),
    EvalConfig("bm25s", "the bm25s library over sentence chunks (peer)", peer="bm25s"),
    EvalConfig("haystack-bm25", "Haystack's in-memory BM25 retriever over sentence chunks (peer)",
               peer="haystack-bm25"),
    EvalConfig("haystack-hybrid", "Haystack's hybrid retrieval (BM25 + embeddings, RRF) over sentence chunks "
               "(peer)", peer="haystack-hybrid"),
    EvalConfig("txtai-bm25", "txtai's keyword (BM25) index over sentence chunks (peer)", peer="txtai-bm25"),
    EvalConfig("txtai-hybrid", "txtai's hybrid index (dense + BM25) over sentence chunks (peer)",
               peer="txtai-hybrid"),
    EvalConfig("llamaindex-bm25", "LlamaIndex's BM25 retriever over sentence chunks (peer)", peer="llamaindex-bm25"),
    EvalConfig("llamaindex-hybrid", "LlamaIndex's hybrid: vector + BM25 retrievers, reciprocal rank fusion, "
               "over sentence chunks (peer)", peer="llamaindex-hybrid"),
)


@dataclass(frozen=True)
class Record:
    """One question put to one configuration: what came back, and how it was judged."""

    question: GoldQuestion
    result: Result
    outcome: Outcome


@dataclass
class ConfigRun:
    config: EvalConfig
    records: list[Record]
    metrics: dict[str, float | None]


def judge(q: GoldQuestion, result: Result, answers: bool, seconds: float) -> Outcome:
    """Score one result against its gold question."""
    relevant = tuple(passage_relevant(p.text, p.source, q.source, q.answers, (p.start_char, p.end_char), q.ranges)
                     for p in result.passages)
    if not answers:
        return Outcome(q.id, q.answerable, relevant, None, seconds=seconds, kind=q.kind)
    a = result.answer
    if a is None or not q.answerable:
        unmatched = None if q.answerable and not q.answers else 0.0  # a range-only question has no EM/F1
        return Outcome(q.id, q.answerable, relevant, a is not None, em=unmatched, f1=unmatched, seconds=seconds,
                       kind=q.kind)
    short = short_text(q.question, a)
    correct = answer_correct(a.text, a.source, q.source, q.answers, where=(a.start_char, a.end_char),
                             ranges=q.ranges)
    # a question judged by its range only has no short string to match: it has no EM/F1
    em, f1 = (exact_match(short, q.answers), token_f1(short, q.answers)) if q.answers else (None, None)
    return Outcome(q.id, True, relevant, True, correct=correct, em=em, f1=f1, seconds=seconds, kind=q.kind)


def short_text(question: str, answer) -> str:
    """The short answer inside the answer span (``retriever.short``), else the whole span: what EM/F1 judge."""
    short = short_answer(question, answer)
    return answer.text if short is None else short.text


def evaluate(retriever, questions: Sequence[GoldQuestion], k: int = K, warmup: bool = True,
             qvecs=None, progress: str | None = None) -> list[Record]:
    """Ask every question through ``retriever.ask`` (timed, after one untimed warm-up) and judge it.

    ``qvecs`` (question vectors computed beforehand) saves re-embedding in tuning loops; the
    latency then leaves the embedding out. ``progress``: a label for a tqdm bar of the questions
    on stderr (shown on a terminal only; None: no bar). The bar is updated between timed calls.
    """
    if warmup and questions:
        retriever.ask(questions[0].question, k=k)
    answers = retriever.config.answer
    records = []
    bar = None
    if progress is not None:
        import sys

        from tqdm.auto import tqdm

        bar = tqdm(total=len(questions), desc=progress, unit="q", file=sys.stderr, leave=False,
                   disable=None, dynamic_ncols=True)
    try:
        for i, q in enumerate(questions):
            t0 = time.perf_counter()
            result = retriever.ask(q.question, k=k, qvec=None if qvecs is None else qvecs[i])
            seconds = time.perf_counter() - t0
            records.append(Record(q, result, judge(q, result, answers, seconds)))
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return records


def index_for(settings: ChunkerSettings, corpus: str | os.PathLike, root: str | os.PathLike,
              encoder: Encoder) -> Path:
    """An index of ``corpus`` cut with ``settings`` under ``root``: built once, then updated incrementally."""
    from indexer.build import build_index
    from indexer.progress import Phases

    key = hashlib.sha256(json.dumps(settings.to_dict(), sort_keys=True).encode()).hexdigest()[:10]
    index_dir = Path(root) / f"{settings.strategy}-{settings.max_chars}-{key}"
    phases = Phases(None)  # on a terminal: a line as each indexing step starts
    phases(f"index of {corpus} for {settings.strategy} chunks of {settings.max_chars} characters: {index_dir}")
    build_index(corpus, index_dir, encoder=encoder, settings=settings, progress=False, phases=phases)
    return index_dir


def run(configs: Sequence[EvalConfig], questions: Sequence[GoldQuestion], corpus: str | os.PathLike,
        index_root: str | os.PathLike, encoder: Encoder, k: int = K, query_encoder: str = "torch",
        cross_encoder: CrossScorer | None = None, reader: SpanReader | None = None,
        reader_abstain: bool = False, span: dict | None = None) -> list[ConfigRun]:
    """Every configuration over every question; indexes are shared between equal chunker settings.

    ``encoder`` embeds the documents; questions are embedded by it too (``query_encoder="torch"``, the
    reference) or by each index's verified ONNX export (``"onnx"``: what ``ask`` and the server use).
    ``cross_encoder`` (optional, :mod:`retriever.cross`) re-scores quarry's candidate sentences, and
    ``reader`` (optional, :mod:`retriever.reader`) scores them by the answer spans it reads (and,
    ``reader_abstain``, abstains where it finds no answer). ``span``: SpanConfig fields changed
    from the shipped ones (``--span``)."""
    from dataclasses import replace

    from retriever.answer import SpanConfig
    from retriever.pipeline import Retriever, RetrieverConfig
    from retriever.settings import RetrieverSettings

    opened: dict[ChunkerSettings, Retriever] = {}  # its encoder embeds the questions
    runs = []
    for n, c in enumerate(configs, 1):
        if c.chunker not in opened:
            index_dir = index_for(c.chunker, corpus, index_root, encoder)
            # the shell's QUARRY_* variables are not read: the figures depend on the arguments alone
            settings = RetrieverSettings(index_dir=index_dir, query_encoder=query_encoder)
            opened[c.chunker] = Retriever.open(settings=settings, encoder=encoder if query_encoder == "torch" else None,
                                               config=RetrieverConfig(reader_abstain=reader_abstain,
                                                                      span=replace(SpanConfig(), **(span or {}))),
                                               cross_encoder=cross_encoder, reader=reader)
        if c.peer:
            from eval.peers import open_peer

            answerer = open_peer(c.peer, opened[c.chunker].index, opened[c.chunker].encoder)
        else:
            answerer = opened[c.chunker].with_config(**c.changes)
        records = evaluate(answerer, questions, k=k, progress=f"{c.name} ({n}/{len(configs)})")
        runs.append(ConfigRun(c, records, summarize([r.outcome for r in records])))
    for r in opened.values():
        r.index.close()
    return runs


COLUMNS = (  # (metric key, column title, format)
    ("hit@1", "hit@1", "{:.3f}"), ("hit@5", "hit@5", "{:.3f}"), ("mrr@10", "MRR@10", "{:.3f}"),
    ("accuracy", "answer acc", "{:.3f}"), ("em", "EM", "{:.3f}"), ("f1", "F1", "{:.3f}"),
    ("abstain_precision", "abstain P", "{:.3f}"), ("abstain_recall", "abstain R", "{:.3f}"),
    ("false_abstention", "false abstain", "{:.3f}"), ("abstain_offtopic", "abstain off-topic", "{:.3f}"),
    ("abstain_ontopic", "abstain on-topic", "{:.3f}"), ("p50_ms", "p50 ms", "{:.1f}"), ("p95_ms", "p95 ms", "{:.1f}"),
)


DEFAULT_MARK = " (default)"  # after the name of the configuration `ask` and the server use

# What each column of the table means, printed under it (`python -m eval`) and in docs/eval.md.
LEGEND = """\
hit@1, hit@5: share of answerable questions with a relevant passage first / in the top 5 (a passage from
  the gold file holding an accepted answer, or overlapping a gold range by 20 characters)
MRR@10: mean reciprocal rank of the first relevant passage in the top 10 (0 when none)
answer acc: share of answerable questions whose answer span is from the gold file, holds an accepted
  answer (or lies in a gold range) and is at most 300 characters; an abstention counts as wrong
EM, F1: SQuAD exact match and token F1 of the short answer against the accepted answers
abstain P: of the questions abstained on, the share that were unanswerable
abstain R: of the unanswerable questions, the share abstained on (off-topic / on-topic: the same over
  off-topic questions / unanswerable questions on the folder's topic)
false abstain: of the answerable questions, the share abstained on (lower is better)
p50 ms, p95 ms: median and 95th percentile latency of one `ask`, in milliseconds
–: does not apply (a configuration that returns passages and picks no answer)"""


def markdown_table(runs: Sequence[ConfigRun], default: str | None = DEFAULT_CONFIG) -> str:
    """One markdown table: a row per configuration, a column per metric ("–" where it does not apply);
    the ``default`` configuration's name is followed by "(default)"."""
    return table("config", [(r.config.name + (DEFAULT_MARK if r.config.name == default else ""), r.metrics)
                            for r in runs])


def by_kind(run_: ConfigRun) -> dict[str, dict[str, float | None]]:
    """The configuration's metrics over each kind of gold question (factual, paraphrase, ...), in the
    order kinds first appear; the same ``summarize`` as the whole set."""
    kinds: dict[str, list[Outcome]] = {}
    for rec in run_.records:
        kinds.setdefault(rec.question.kind, []).append(rec.outcome)
    return {kind: summarize(outcomes) for kind, outcomes in kinds.items()}


def kind_table(run_: ConfigRun) -> str:
    """``by_kind`` as a markdown table: a row per kind, with its number of questions."""
    return table("kind", [(f"{kind} ({int(m['questions'])})", m) for kind, m in by_kind(run_).items()])


def table(label: str, rows_: Sequence[tuple[str, dict]]) -> str:
    """A markdown table: a row per (name, metrics), a column per metric of ``COLUMNS``."""
    head = f"| {label} | " + " | ".join(title for _, title, _ in COLUMNS) + " |"
    rule = "|---|" + "|".join("---:" for _ in COLUMNS) + "|"
    rows = [head, rule]
    for name, metrics in rows_:
        cells = [("–" if metrics.get(key) is None else fmt.format(metrics[key])) for key, _, fmt in COLUMNS]
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


COMPARED = (("hit@1", "hit@1"), ("hit@5", "hit@5"), ("mrr@10", "MRR@10"), ("accuracy", "answer acc"),
            ("abstain_recall", "abstain R"), ("false_abstention", "false abstain"))


def compare(base: ConfigRun, other: ConfigRun) -> dict[str, tuple[float, float, float] | None]:
    """``base`` minus ``other`` on each metric of ``COMPARED``, question by question over the same
    questions, with its 95% paired bootstrap interval (None where a metric does not apply to both)."""
    if [r.question.id for r in base.records] != [r.question.id for r in other.records]:
        raise ValueError("compared runs must answer the same questions in the same order")
    out = {}
    for key, _ in COMPARED:
        a = per_question([r.outcome for r in base.records], key)
        b = per_question([r.outcome for r in other.records], key)
        out[key] = paired_difference(a, b) if a and b else None
    return out


def comparisons(base: ConfigRun, runs: Sequence[ConfigRun]) -> dict[str, dict[str, tuple[float, float, float] | None]]:
    """:func:`compare` of ``base`` with each other run, by the other's name."""
    return {r.config.name: compare(base, r) for r in runs if r is not base}


def comparison_table(base_name: str, compared: dict[str, dict[str, tuple[float, float, float] | None]]) -> str:
    """A row per other configuration (``compared``, from :func:`comparisons`): ``base_name`` minus it on
    each compared metric, with the 95% paired bootstrap interval; ``*`` where the interval leaves
    out 0 (a difference the questions support)."""
    def cell(d):
        if d is None:
            return "–"
        diff, lo, hi = d
        mark = "*" if lo > 0 or hi < 0 else ""
        return f"{diff:+.3f} [{lo:+.3f}, {hi:+.3f}]{mark}"

    rows = [f"| {base_name} minus | " + " | ".join(title for _, title in COMPARED) + " |",
            "|---|" + "|".join("---:" for _ in COMPARED) + "|"]
    for name, d in compared.items():
        rows.append(f"| {name} | " + " | ".join(cell(d[key]) for key, _ in COMPARED) + " |")
    return "\n".join(rows)


def first_hit(relevant: Sequence[bool]) -> int | None:
    return next((i for i, rel in enumerate(relevant, 1) if rel), None)


def to_json(runs: Sequence[ConfigRun], meta: dict) -> dict:
    """The same figures as the table, plus each question's outcome, as a JSON-ready dict."""
    out = dict(meta)
    out["configs"] = []
    for r in runs:
        out["configs"].append({"name": r.config.name, "description": r.config.description,
                               "chunker": r.config.chunker.to_dict(), "retriever": r.config.changes,
                               "metrics": r.metrics, "by_kind": by_kind(r), "questions": question_rows(r.records)})
    return out


def question_rows(records: Sequence[Record]) -> list[dict]:
    """What each question got, for the JSON report: its outcome and the answer (with where it lies)."""
    rows = []
    for rec in records:
        o, a = rec.outcome, rec.result.answer
        rows.append({
            "id": o.id, "kind": rec.question.kind, "first_hit": first_hit(o.relevant),
            "answered": o.answered, "correct": o.correct, "em": o.em,
            "f1": None if o.f1 is None else round(o.f1, 4),
            "ms": round(o.seconds * 1000, 2),
            "answer": None if a is None else {"text": a.text, "short": short_text(rec.question.question, a),
                                              "source": a.source, "start_char": a.start_char,
                                              "end_char": a.end_char, "score": a.score},
        })
    return rows


def failures(run_: ConfigRun) -> list[str]:
    """One line per question the configuration got wrong, for a person tuning it."""
    lines = []
    for rec in run_.records:
        o, q, a = rec.outcome, rec.question, rec.result.answer
        if q.answerable:
            hit = first_hit(o.relevant)
            bad_rank = hit is None or hit > 5
            bad_answer = o.answered is not None and not o.correct
            if not (bad_rank or bad_answer):
                continue
            got = "abstained" if o.answered is False else (f"{a.source}: {a.text[:90]!r} ({a.score:.2f})" if a else "-")
            lines.append(f"{q.id} [{q.kind}] hit@{hit} {q.question!r} -> {got}")
        elif o.answered:
            lines.append(f"{q.id} [unanswerable] answered {q.question!r} -> {a.source}: {a.text[:90]!r} "
                         f"({a.score:.2f})")
    return lines
