"""``python -m eval --corpora``: every corpus with the shipped settings, then leave-one-corpus-out."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from eval.harness import question_rows, table
from eval.loco import Part, leave_one_out, macro, prepare


def say(message: str) -> None:
    """A progress line on stderr (the tables go to stdout)."""
    print(message, file=sys.stderr, flush=True)


def span_changes(settings: list[str]) -> dict:
    """SpanConfig fields from ``KEY=VALUE`` strings (values read as JSON); a clear exit on a bad one."""
    from dataclasses import fields

    from retriever.answer import SpanConfig
    from retriever.cues import CHECKS

    names = {f.name for f in fields(SpanConfig)}
    changes = {}
    for item in settings:
        key, _, value = item.partition("=")
        if key not in names:
            raise SystemExit(f"error: --span {item!r}: SpanConfig has no field {key!r}")
        try:
            v = json.loads(value)
        except json.JSONDecodeError:
            raise SystemExit(f"error: --span {item!r}: the value is not JSON (a number, null, or a list "
                             f"such as '[\"focus\"]')") from None
        unknown = sorted(set(v) - set(CHECKS)) if key == "checks_off" and isinstance(v, list) else []
        if unknown:
            raise SystemExit(f"error: --span {item!r}: no answer check {', '.join(unknown)} "
                             f"(there are {', '.join(CHECKS)})")
        changes[key] = tuple(v) if isinstance(v, list) else v
    return changes


def with_span(parts: list[Part], settings: list[str]) -> list[Part]:
    """The parts answering with SpanConfig fields set from ``KEY=VALUE`` strings (:func:`span_changes`)."""
    from dataclasses import replace

    changes = span_changes(settings)
    return [replace(p, retriever=p.retriever.with_config(span=replace(p.retriever.config.span, **changes)))
            for p in parts]


def run_corpora(args: argparse.Namespace, check_floors) -> int:
    from eval.corpora import corpora, index_root, select
    from eval.gold import GoldError, answer_problems, load_gold
    from eval.harness import CONFIGS, DEFAULT_CONFIG, ConfigRun, evaluate
    from eval.metrics import summarize
    from indexer.encoder import SentenceTransformerEncoder
    from indexer.errors import QuarryError

    try:
        chosen = select(args.corpora, corpora())
    except KeyError as e:
        print(f"error: {e.args[0]}", file=sys.stderr)
        return 2
    if len(chosen) < 2:
        print("error: leave-one-corpus-out needs at least two corpora", file=sys.stderr)
        return 2
    held = dict(item.partition(":")[::2] for item in (getattr(args, "fit_hold_out", None) or []))
    if held and (not getattr(args, "fit_all", False) or set(held) - {c.name for c in chosen}
                 or not all(v in ("dev", "test") for v in held.values())):
        print(f"error: --fit-hold-out wants --fit-all and CORPUS:SPLIT (split dev or test) of a corpus being run "
              f"(got {', '.join(args.fit_hold_out)})", file=sys.stderr)
        return 2
    root = index_root(args.index_root)
    try:
        for c in chosen:
            problems = answer_problems(load_gold(c.gold, args.split), c.documents)
            if problems:
                print(f"error: {c.name}: gold answers not found in the corpus:\n  " + "\n  ".join(problems[:20]),
                      file=sys.stderr)
                return 1
        models = None
        if getattr(args, "fold_answer_models", None):
            from eval.loco import fold_models

            models = fold_models(args.fold_answer_models, [c.name for c in chosen])
        say("loading the embedding model ...")
        encoder = SentenceTransformerEncoder(args.model)
        parts: list[Part] = []
        for c in chosen:
            t0 = time.perf_counter()
            say(f"{c.name}: indexing {c.documents} ({c.size // 1000} KB) and collecting candidate sentences ...")
            parts.append(prepare(c, root, encoder, args.split))
            say(f"{c.name}: {len(parts[-1].questions)} questions ready in {time.perf_counter() - t0:.1f} s")
    except (GoldError, QuarryError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    if args.span:
        parts = with_span(parts, args.span)
    default = next(c for c in CONFIGS if c.name == DEFAULT_CONFIG)
    shipped = []
    for p in parts:
        say(f"{p.corpus.name}: answering with the shipped settings ...")
        records = evaluate(p.retriever, p.questions, k=args.k, progress=p.corpus.name)
        shipped.append(ConfigRun(default, records, summarize([r.outcome for r in records])))
    others = None
    if args.peers:  # before the long part, so that a missing peer library is said early
        from eval.passages import run_others

        try:
            others = run_others(parts, args.k, say)
        except QuarryError as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
    say("leave-one-corpus-out: fitting on the others, answering the one left out ...")
    folds = leave_one_out(parts, answer_models=models)

    def rows(metrics_by_name):
        out = [(f"{name} ({int(m['questions'])})", m) for name, m in metrics_by_name]
        return out + [("**macro average**", macro([m for _, m in metrics_by_name]))]

    print(f"split={args.split}; {len(parts)} corpora; questions embedded by the torch model\n")
    print(f"Shipped settings ({DEFAULT_CONFIG}), each corpus:\n")
    print(table("corpus", rows([(p.corpus.name, r.metrics) for p, r in zip(parts, shipped)])))
    print("\nLeave-one-corpus-out (the answer scorer fitted on the other corpora, scored on this one; "
          "latency without question embedding):\n")
    loco = [(f.corpus.name, f.run.metrics) for f in folds]
    print(table("held out", rows(loco)))
    # a held-out corpus's false abstention moves with the threshold fitted on the others: shown, so that a change
    # read off the table can be told from the threshold's drift
    shipped_below = parts[0].retriever.config.span.abstain_below
    print(f"\nAbstention thresholds the folds fitted (shipped {shipped_below:.3f}): "
          + ", ".join(f"{f.corpus.name} {f.span.abstain_below:.3f}" for f in folds))
    passages = None
    if others is not None:
        from eval.passages import report, systems

        passages = systems([p.corpus.name for p in parts], [r.metrics for r in shipped],
                           [f.run.metrics for f in folds], others)
        print("\n" + report(passages))
    ablation = {}
    if args.ablate:
        from eval.loco import toggled
        from retriever.cues import CHECKS

        off = parts[0].retriever.config.span.checks_off
        for name in (*CHECKS, "every check"):  # the last: every check off
            label = name if name == "every check" else f"with {name}" if name in off else f"without {name}"
            say(f"leave-one-corpus-out {label} ...")
            ablation[label] = [f.run.metrics for f in leave_one_out(toggled(parts, name))]
        print("\nEach answer check switched alone: off where it is on, on where it is off (leave-one-corpus-out, "
              "macro average over the corpora; compare with the macro average above):\n")
        print(table("checks", [(name, macro(ms)) for name, ms in ablation.items()]))
        print("\nAnswer accuracy / false abstention / abstention on unanswerable ones, by held-out corpus:\n")
        heads = " | ".join(p.corpus.name for p in parts)
        lines = [f"| checks | {heads} |", "|---|" + "---:|" * len(parts)]
        for name, ms in [("as shipped", [f.run.metrics for f in folds]), *ablation.items()]:
            cells = [f"{m['accuracy']:.3f} / {m['false_abstention']:.3f} / {m['abstain_recall']:.3f}" for m in ms]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        print("\n".join(lines))
    fitted = None
    if getattr(args, "fit_all", False):
        from dataclasses import asdict

        from eval.loco import fit_span, without_split

        fit_parts = [without_split(p, held[p.corpus.name]) if p.corpus.name in held else p for p in parts]
        what = args.split + " questions" + "".join(f", without {c}'s {s}" for c, s in held.items())
        say(f"fitting the answer scorer on all {len(parts)} corpora ({what}) ...")
        fitted = fit_span(fit_parts, parts[0].retriever.config.span)
        print(f"\nThe answer scorer fitted on every corpus ({what}), as SpanConfig fields:\n")
        for k, v in asdict(fitted).items():
            if k.startswith(("w_", "a_")) or k in ("abstain_below", "min_topical"):
                print(f"    {k}: float = {round(v, 4)}")
    if args.json:
        out = {"split": args.split, "fitted_on_all": vars(fitted) if fitted else None, "corpora": [
            {"name": p.corpus.name, "documents": str(p.corpus.documents), "gold": str(p.corpus.gold),
             "bytes": p.corpus.size, "shipped": r.metrics, "loco": f.run.metrics,
             "loco_span": {k: v for k, v in vars(f.span).items()},
             "questions": {"shipped": question_rows(r.records), "loco": question_rows(f.run.records)}}
            for p, r, f in zip(parts, shipped, folds)],
            "macro": {"shipped": macro([r.metrics for r in shipped]), "loco": macro([m for _, m in loco])},
            "ablation": {name: {"macro": macro(ms), "by_corpus": dict(zip((p.corpus.name for p in parts), ms))}
                         for name, ms in ablation.items()}}
        if passages is not None:
            from eval.passages import macros

            for entry, (_, rows) in zip(out["corpora"], passages):
                entry["passages"] = rows
            out["macro"]["passages"] = macros(passages)
        Path(args.json).write_text(json.dumps(out, indent=2, ensure_ascii=False, default=str) + "\n")
    missed = check_floors(macro([m for _, m in loco]), args)
    if missed:
        print("\nFAILED floors on the leave-one-corpus-out macro average: " + "; ".join(missed), file=sys.stderr)
        return 1
    return 0
