"""Evaluate retrieval configurations against gold questions and print one markdown table.

Indexes the corpus (cached, updated incrementally), asks every gold question of the split through
each configuration, and reports hit@1/hit@5/MRR@10 (a passage from the right file holding an
accepted answer), answer accuracy (the answer span is from the right file, holds an accepted answer
and is at most 300 characters), SQuAD EM/F1 of the span, abstention precision/recall on the
unanswerable questions, the false-abstention rate on answerable ones, and p50/p95 latency of `ask`.
--min-METRIC / --max-METRIC floors apply to the --floors-on configuration; missing one exits 1.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from indexer.offline import set_offline

# (flag suffix, metric key, direction): --min-hit5 0.95 fails when hit@5 < 0.95
FLOORS = (
    ("hit1", "hit@1", "min"), ("hit5", "hit@5", "min"), ("mrr", "mrr@10", "min"),
    ("accuracy", "accuracy", "min"), ("em", "em", "min"), ("f1", "f1", "min"),
    ("abstain-precision", "abstain_precision", "min"), ("abstain-recall", "abstain_recall", "min"),
    ("false-abstention", "false_abstention", "max"), ("abstain-offtopic", "abstain_offtopic", "min"),
    ("abstain-ontopic", "abstain_ontopic", "min"), ("p50-ms", "p50_ms", "max"), ("p95-ms", "p95_ms", "max"),
)


def parser() -> argparse.ArgumentParser:
    from eval.gold import DEFAULT_GOLD
    from eval.harness import CONFIGS, DEFAULT_CONFIG, PEER_CONFIGS, K

    p = argparse.ArgumentParser(prog="python -m eval", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--gold", metavar="PATH", default=str(DEFAULT_GOLD), help="gold questions (JSON lines)")
    p.add_argument("--corpus", metavar="DIR", default=None, help="documents the gold file is about (default: seeds/)")
    p.add_argument("--split", choices=("dev", "test", "all"), default=None,
                   help="question split (default dev; with --corpora, all)")
    p.add_argument("--config", metavar="NAME", action="append", choices=[c.name for c in (*CONFIGS, *PEER_CONFIGS)],
                   help="run only this configuration (repeatable); default: all of "
                        + ", ".join(c.name for c in CONFIGS))
    p.add_argument("--peers", action="store_true",
                   help="also run peer libraries on the same chunks: " + ", ".join(c.name for c in PEER_CONFIGS)
                        + " (pip install -e '.[peers]'); with --corpora: their passage figures on every corpus "
                        "beside quarry's (the sentence-chunk peers)")
    p.add_argument("--index-root", metavar="DIR", default=None,
                   help="where evaluation indexes are kept (default: ~/.cache/quarry/eval)")
    p.add_argument("--model", metavar="PATH", default=None, help="sentence-transformers model folder")
    p.add_argument("--query-encoder", choices=("torch", "onnx"), default="torch",
                   help="embed questions with the model (torch, the reference; default) or with the index's "
                        "ONNX export, as ask and the server do")
    p.add_argument("--cross-encoder", metavar="DIR", default=None,
                   help="a cross-encoder folder that re-scores quarry's candidate sentences (retriever/cross.py)")
    p.add_argument("--reader", metavar="DIR", default=None,
                   help="an extractive question-answering model folder that scores quarry's candidate sentences "
                        "(retriever/reader.py)")
    p.add_argument("--reader-abstain", action="store_true",
                   help="also abstain when the reader finds no span more probable than 'no answer' (SQuAD 2.0)")
    p.add_argument("--corpora", metavar="NAME", nargs="*", default=None,
                   help="the multi-corpus benchmark: every corpus (or those named; 'fast': the small ones) with "
                        "the shipped settings, then leave-one-corpus-out; floors apply to the latter's macro "
                        "average (eval/corpora.py, docs/corpora.md)")
    p.add_argument("--span", metavar="KEY=VALUE", action="append", default=None,
                   help="answer with this SpanConfig field changed (value as JSON; repeatable), "
                        "e.g. probe_quantile=0.95 or checks_off='[\"focus\"]'")
    p.add_argument("--fold-answer-models", metavar="DIR", default=None,
                   help="with --corpora: leave-one-corpus-out with DIR/NAME as the answer model of the fold that "
                        "leaves NAME out (trained on the other corpora's gold as well: python -m eval.qamodel "
                        "--folds DIR)")
    p.add_argument("--ablate", action="store_true",
                   help="with --corpora: also leave-one-corpus-out with each answer check switched off alone")
    p.add_argument("--fit-all", action="store_true",
                   help="with --corpora: also fit the answer scorer on every corpus named (their --split "
                        "questions) and print it as SpanConfig fields: how the shipped weights are made")
    p.add_argument("--fit-hold-out", metavar="CORPUS:SPLIT", action="append", default=None,
                   help="with --fit-all: leave these questions out of the fit (e.g. seeds:test, the split the "
                        "seeds' own figures are measured on); repeatable")
    p.add_argument("-k", type=int, default=K, help=f"passages per question (default {K})")
    p.add_argument("--json", metavar="PATH", default=None, help="also write the figures (and per question) as JSON")
    p.add_argument("--failures", action="store_true", help="list the questions the --floors-on config got wrong")
    p.add_argument("--by-kind", action="store_true",
                   help="also a table of the --floors-on config's figures by kind of question")
    p.add_argument("--compare", action="store_true",
                   help="also the --floors-on config minus each other config, question by question, "
                        "with 95%% paired bootstrap intervals (* where the interval leaves out 0)")
    p.add_argument("--floors-on", metavar="NAME", default=DEFAULT_CONFIG,
                   help=f"configuration the floors apply to (default {DEFAULT_CONFIG})")
    for flag, key, direction in FLOORS:
        p.add_argument(f"--{direction}-{flag}", type=float, default=None, metavar="X",
                       dest=f"{direction}_{flag.replace('-', '_')}",
                       help=f"exit 1 if {key} is {'below' if direction == 'min' else 'above'} X")
    return p


def check_floors(metrics: dict, args: argparse.Namespace) -> list[str]:
    """The floors ``metrics`` misses, as messages (empty: all met). A metric that is absent misses."""
    missed = []
    for flag, key, direction in FLOORS:
        limit = getattr(args, f"{direction}_{flag.replace('-', '_')}")
        if limit is None:
            continue
        value = metrics.get(key)
        if value is None or (value < limit if direction == "min" else value > limit):
            shown = "n/a" if value is None else f"{value:.3f}"
            missed.append(f"{key} = {shown}, {'floor' if direction == 'min' else 'ceiling'} {limit}")
    return missed


def main(argv: list[str] | None = None) -> int:
    set_offline()  # before any library reads it
    args = parser().parse_args(argv)
    if args.split is None:
        args.split = "all" if args.corpora is not None else "dev"
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from eval.gold import GoldError, answer_problems, load_gold
    from eval.harness import (
        CONFIGS,
        DEFAULT_CONFIG,
        LEGEND,
        PEER_CONFIGS,
        comparison_table,
        comparisons,
        failures,
        kind_table,
        markdown_table,
        run,
        to_json,
    )
    from indexer.encoder import SentenceTransformerEncoder
    from indexer.errors import QuarryError, QueryError, SettingsError
    from indexer.paths import cache_dir, default_seeds_dir
    from retriever.cross import open_cross_encoder
    from retriever.reader import open_reader
    from retriever.settings import RetrieverSettings, check_k

    corpus = Path(args.corpus) if args.corpus else default_seeds_dir()
    names = (args.config or [c.name for c in CONFIGS]) + ([c.name for c in PEER_CONFIGS] if args.peers else [])
    configs = [c for c in (*CONFIGS, *PEER_CONFIGS) if c.name in names]
    if args.floors_on not in names and any(getattr(args, f"{d}_{f.replace('-', '_')}") is not None
                                           for f, _, d in FLOORS):
        print(f"error: floors apply to {args.floors_on!r}, which is not being run", file=sys.stderr)
        return 2
    if args.compare and (args.floors_on not in names or len(names) < 2):
        print(f"error: --compare compares {args.floors_on!r} (--floors-on) with the other configurations run, "
              f"so it needs that one and at least one other (running: {', '.join(names)})", file=sys.stderr)
        return 2
    try:  # the options that do not go together, said before any index is built
        RetrieverSettings(reader=args.reader, reader_abstain=args.reader_abstain)
        check_k(args.k)
    except (SettingsError, QueryError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.corpora is not None:
        from eval.multi import run_corpora

        return run_corpora(args, check_floors)
    try:
        questions = load_gold(args.gold, args.split)
        problems = answer_problems(questions, corpus)
        if problems:
            print("error: gold answers not found verbatim in the corpus:\n  " + "\n  ".join(problems[:20]),
                  file=sys.stderr)
            return 1
        if not questions:
            print(f"error: no {args.split} questions in {args.gold}", file=sys.stderr)
            return 1
        from eval.multi import span_changes

        span = span_changes(args.span or [])
        cross = open_cross_encoder(args.cross_encoder)
        reader = open_reader(args.reader)
        runs = run(configs, questions, corpus, Path(args.index_root) if args.index_root else cache_dir() / "eval",
                   SentenceTransformerEncoder(args.model), k=args.k, query_encoder=args.query_encoder,
                   cross_encoder=cross, reader=reader, reader_abstain=args.reader_abstain, span=span)
    except (GoldError, QuarryError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    n_un = sum(not q.answerable for q in questions)
    print(f"{args.gold} split={args.split}: {len(questions)} questions ({len(questions) - n_un} answerable, "
          f"{n_un} unanswerable), corpus {corpus}, questions embedded by {args.query_encoder}"
          + (f", sentences re-scored by the cross-encoder {args.cross_encoder}" if args.cross_encoder else "")
          + (f", sentences scored by the reader {args.reader}" if args.reader else "")
          + (", abstaining where it finds no answer" if args.reader_abstain else "") + "\n")
    print(markdown_table(runs))
    print("\n" + LEGEND)
    if any(r.config.name == DEFAULT_CONFIG for r in runs):
        print(f"\n(default): the configuration `ask` and the server use ({DEFAULT_CONFIG})")
    primary = next((r for r in runs if r.config.name == args.floors_on), None)
    if args.by_kind and primary is not None:
        print(f"\n{primary.config.name} by kind of question:\n")
        print(kind_table(primary))
    compared = comparisons(primary, runs) if args.compare else None
    if compared:
        print(f"\n{primary.config.name} against the others (difference, 95% paired bootstrap interval over "
              "the same questions; * where it leaves out 0):\n")
        print(comparison_table(primary.config.name, compared))
    if args.failures and primary is not None:
        print(f"\nmisses of {primary.config.name}:")
        print("\n".join(failures(primary)) or "  none")
    if args.json:
        meta = {"gold": str(args.gold), "split": args.split, "corpus": str(corpus), "k": args.k,
                "questions": len(questions)}
        out = to_json(runs, meta)
        if compared:
            out["compared_to"] = {
                "config": primary.config.name, "level": 0.95,
                "others": {name: {k: None if d is None else dict(zip(("difference", "low", "high"), d))
                                  for k, d in by_metric.items()}
                           for name, by_metric in compared.items()}}
        Path(args.json).write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n")
    missed = check_floors(primary.metrics, args) if primary is not None else []
    if missed:
        print(f"\nFAILED floors on {args.floors_on}: " + "; ".join(missed), file=sys.stderr)
        return 1
    return 0
