"""Fit the answer scorer on the dev split: ranking weights, answerability model, abstention threshold.

``python -m eval.bench.tune`` collects every candidate sentence the retriever scores for each dev
question (``Retriever.scored_sentences``) and labels it: the answer span it gives
(``Retriever.answer_span``) is from the right file, holds an accepted answer and has at most 300
characters. Then it fits

1. the ranking weights ``w_*``: a conditional logit (per question, a softmax over its candidates,
   maximising the probability of the right ones), normalised to sum 1;
2. the answerability weights ``a_*``: a logistic regression, over questions, of whether the top
   candidate is right, from each of its features (``--answerability features``, the default) or
   from its ranking score alone (``score``: ``a = slope * w``);
3. ``min_topical``: abstain outright below three quarters of the lowest closest-passage cosine
   of any answerable dev question (an off-topic gate);
4. ``abstain_below``: the confidence threshold with the highest abstention recall whose
   false-abstention rate stays within ``--max-false-abstention``;

and, with ``--grid``, searches the retrieval settings (fusion, re-rank weight) on hit@5 and MRR.
It prints what it found; the defaults in ``retriever/`` are set by hand from that output. Only the
dev split is read unless ``--split`` says otherwise.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from eval.fit import candidate_table, choose_threshold, fit_logistic, fit_ranker
from eval.gold import DEFAULT_GOLD, load_gold
from eval.harness import evaluate, index_for
from eval.metrics import summarize
from retriever.answer import FEATURES, confidence


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.bench.tune", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--gold", default=str(DEFAULT_GOLD))
    p.add_argument("--split", default="dev", choices=("dev", "test", "all"))
    p.add_argument("--corpus", default=None)
    p.add_argument("--index-root", default=None)
    p.add_argument("--max-chars", type=int, default=None, help="chunk size to tune on (default: the default)")
    p.add_argument("--overlap", type=int, default=None, help="sentence overlap to tune on")
    p.add_argument("--drop", action="append", default=None, choices=FEATURES,
                   help="leave a feature out (repeatable)")
    p.add_argument("--window", type=int, default=None,
                   help="context sentences each side for entity coverage (default: the whole passage)")
    p.add_argument("--l2", type=float, default=0.05, help="L2 penalty of the ranking model")
    p.add_argument("--l2-answerable", type=float, default=1.0, help="L2 penalty of the answerability model")
    p.add_argument("--max-false-abstention", type=float, default=0.05)
    p.add_argument("--answerability", choices=("features", "score"), default="features",
                   help="confidence from its own weights per feature, or from one slope over the ranking score")
    p.add_argument("--a-drop", action="append", default=None, choices=FEATURES,
                   help="leave a feature out of the answerability model only (repeatable; default: type and "
                        "topical, which got signs that make no sense on dev: topical drives the off-topic gate)")
    p.add_argument("--target", choices=("right", "answerable"), default="right",
                   help="what the answerability model predicts: the top span is right, or the question answerable")
    p.add_argument("--grid", action="store_true", help="also grid-search the retrieval settings")
    args = p.parse_args(argv)
    args.drop = [] if args.drop is None else args.drop
    args.a_drop = ["type", "topical"] if args.a_drop is None else args.a_drop

    from indexer.chunker import ChunkerSettings
    from indexer.encoder import SentenceTransformerEncoder
    from indexer.paths import cache_dir, default_seeds_dir
    from retriever.pipeline import Retriever, scored_sentences
    from retriever.settings import RetrieverSettings

    encoder = SentenceTransformerEncoder()
    base = ChunkerSettings()
    settings = ChunkerSettings(max_chars=args.max_chars or base.max_chars,
                               overlap_sentences=base.overlap_sentences if args.overlap is None else args.overlap)
    corpus = Path(args.corpus) if args.corpus else default_seeds_dir()
    index_dir = index_for(settings, corpus, Path(args.index_root) if args.index_root else cache_dir() / "eval",
                          encoder)
    retriever = Retriever.open(settings=RetrieverSettings(index_dir=index_dir), encoder=encoder)
    if args.window is not None:
        retriever = retriever.with_config(span=replace(retriever.config.span, window=args.window))
    questions = load_gold(args.gold, args.split)
    qvecs = encoder.encode([q.question for q in questions])
    print(f"{len(questions)} {args.split} questions, chunker {settings.to_dict()}")

    keep = np.array([f not in args.drop for f in FEATURES], dtype=float)
    x, y, owner = candidate_table(retriever, questions, qvecs)
    print(f"{len(y)} candidate sentences, {int(y.sum())} right ones")
    w = fit_ranker(x * keep, y, owner, l2=args.l2) * keep
    w = w / w.sum()
    span = replace(retriever.config.span, **{f"w_{f}": round(float(v), 4) for f, v in zip(FEATURES, w)})

    # the answerability model: the top candidate's features -> is its span right?
    tops, right, answerable = [], [], []
    for i, q in enumerate(questions):
        rows = [j for j, o in enumerate(owner) if o == i]
        if not rows:
            continue
        best = max(rows, key=lambda j: float(x[j] @ w))
        tops.append(x[best] * keep)
        right.append(y[best] if args.target == "right" else float(q.answerable))
        answerable.append(q.answerable)
    if args.answerability == "score":  # one slope over the ranking score: a = slope * w
        slope, bias = fit_logistic(np.array(tops) @ w[:, None], np.array(right), l2=args.l2_answerable)
        a = slope[0] * w
    else:
        a_keep = keep * np.array([f not in args.a_drop for f in FEATURES], dtype=float)
        a, bias = fit_logistic(np.array(tops) * a_keep, np.array(right), l2=args.l2_answerable)
        a = a * a_keep
    span = replace(span, a_bias=round(bias, 4), **{f"a_{f}": round(float(v), 4) for f, v in zip(FEATURES, a)})
    # the off-topic gate: a quarter below the closest-passage cosine of the least topical answerable question
    topical = [float(x[[j for j, o in enumerate(owner) if o == i]][0, FEATURES.index("topical")])
               for i, q in enumerate(questions) if q.answerable and i in set(owner)]
    span = replace(span, min_topical=round(0.75 * min(topical), 4))
    tuned = retriever.with_config(span=span)
    confs = []
    for i, q in enumerate(questions):
        scored = scored_sentences(tuned, q.question, qvec=qvecs[i])
        confs.append(confidence(scored[0], span) if scored else 0.0)
    threshold = choose_threshold(confs, [q.answerable for q in questions], args.max_false_abstention)
    span = replace(span, abstain_below=threshold)
    print("ranking weights:", {f: getattr(span, f"w_{f}") for f in FEATURES})
    print("answerability:", {f: getattr(span, f"a_{f}") for f in FEATURES}, "bias", span.a_bias)
    print(f"abstain_below: {threshold}")
    print("SpanConfig:", span)
    tuned = retriever.with_config(span=span)
    m = summarize([r.outcome for r in evaluate(tuned, questions)])
    print("metrics:", {k: round(v, 3) for k, v in m.items() if v is not None and not k.endswith("_ms")})
    if args.grid:
        grid_search(tuned, questions, qvecs)
    return 0


def grid_search(retriever, questions, qvecs) -> None:
    """Retrieval settings by dev hit@5, then MRR@10, then answer accuracy (ties: the first listed)."""
    space = {"rrf_k": [30, 60], "dense_weight": [0.7, 1.0, 1.5], "rerank_weight": [0.0, 0.3, 0.5, 0.7, 0.85, 1.0]}
    results = []
    for values in itertools.product(*space.values()):
        changes = dict(zip(space, values))
        records = evaluate(retriever.with_config(**changes), questions, warmup=False, qvecs=qvecs)
        m = summarize([r.outcome for r in records])
        results.append(((m["hit@5"], m["mrr@10"], m["accuracy"]), changes))
    results.sort(key=lambda r: r[0], reverse=True)
    for score, changes in results[:10]:
        print("   ", tuple(round(s, 3) for s in score), changes)


if __name__ == "__main__":
    sys.exit(main())
