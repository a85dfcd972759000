"""Where answers become more often wrong than right: the low-confidence threshold, measured.

``python -m eval.confidence --corpora seeds faq --split dev --index-root DIR`` asks every gold
question of each corpus with the shipped settings (and, ``--loco``, with the answer scorer fitted on
the other corpora, as ``python -m eval --corpora`` does), keeps each answer's confidence and whether
it is right (an answer to an unanswerable question is wrong), and prints, per corpus:

- the answers by confidence band: how many, how many right, precision;
- ``P(right | confidence)`` fitted by isotonic regression (pool-adjacent-violators: monotone in the
  confidence) and the confidence where it crosses ``--target`` (0.5: below it an answer is wrong
  more often than right);
- with ``--threshold T``: how answers below and at or above ``T`` do (to check one corpus's figure on
  the others).

The figure is documented in docs/confidence.md and kept in ``RetrieverConfig.low_confidence``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

BANDS = (0.0, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.7, 1.01)


def pairs_of(records) -> list[tuple[float, bool]]:
    """(confidence, right) of every answered question: wrong when the question has no answer."""
    out = []
    for r in records:
        a = r.result.answer
        if a is not None:
            out.append((float(a.score), bool(r.question.answerable and r.outcome.correct)))
    return out


def isotonic(pairs: Sequence[tuple[float, bool]]) -> list[tuple[float, float, float, int]]:
    """Blocks ``(lo, hi, p, n)`` of a non-decreasing fit of ``right`` on the confidence (PAV): the
    answers with confidence in ``[lo, hi]`` are right with probability ``p`` (``n`` of them).

    >>> isotonic([(0.1, False), (0.2, True), (0.3, False), (0.4, True)])
    [(0.1, 0.1, 0.0, 1), (0.2, 0.3, 0.5, 2), (0.4, 0.4, 1.0, 1)]
    """
    blocks: list[list[float]] = []  # [lo, hi, sum right, n]
    for conf, right in sorted(pairs):
        blocks.append([conf, conf, float(right), 1])
        while len(blocks) > 1 and blocks[-2][2] / blocks[-2][3] >= blocks[-1][2] / blocks[-1][3]:
            hi = blocks.pop()
            blocks[-1][1], blocks[-1][2], blocks[-1][3] = hi[1], blocks[-1][2] + hi[2], blocks[-1][3] + hi[3]
    return [(lo, hi, s / n, int(n)) for lo, hi, s, n in blocks]


def crossing(pairs: Sequence[tuple[float, bool]], target: float = 0.5) -> float | None:
    """The confidence where the isotonic fit reaches ``target``: halfway between the last answer of
    the blocks below it and the first of the blocks at or above it (None: no block is below it, or none
    reaches it).

    >>> crossing([(0.1, False), (0.2, False), (0.3, True), (0.4, True)])
    0.25
    """
    blocks = isotonic(pairs)
    below = [b for b in blocks if b[2] < target]
    above = [b for b in blocks if b[2] >= target]
    if not below or not above:
        return None
    return round((below[-1][1] + above[0][0]) / 2, 4)


def split_at(pairs: Sequence[tuple[float, bool]], threshold: float) -> dict[str, float | int | None]:
    """How answers below ``threshold`` and at or above it do."""
    lo = [r for c, r in pairs if c < threshold]
    hi = [r for c, r in pairs if c >= threshold]
    return {"threshold": threshold, "below": len(lo), "below_right": sum(lo),
            "below_precision": sum(lo) / len(lo) if lo else None,
            "above": len(hi), "above_right": sum(hi), "above_precision": sum(hi) / len(hi) if hi else None}


def fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def bands(pairs: Sequence[tuple[float, bool]]) -> list[tuple[str, int, int]]:
    out = []
    for lo, hi in zip(BANDS, BANDS[1:]):
        rs = [r for c, r in pairs if lo <= c < hi]
        if rs:
            out.append((f"{lo:.2f}-{min(hi, 1.0):.2f}", len(rs), sum(rs)))
    return out


def report(name: str, pairs: Sequence[tuple[float, bool]], target: float, threshold: float | None) -> dict:
    right = sum(r for _, r in pairs)
    print(f"\n{name}: {len(pairs)} answers, {right} right (precision {right / max(1, len(pairs)):.3f})")
    print("| confidence | answers | right | precision |\n|---|---:|---:|---:|")
    for band, n, k in bands(pairs):
        print(f"| {band} | {n} | {k} | {k / n:.3f} |")
    fit = isotonic(pairs)
    print("isotonic P(right): " + ", ".join(f"[{lo:.3f}-{hi:.3f}] {p:.2f} (n={n})" for lo, hi, p, n in fit))
    cross = crossing(pairs, target)
    print(f"P(right) crosses {target}: {'none' if cross is None else f'{cross:.3f}'}")
    out = {"answers": len(pairs), "right": right, "isotonic": fit, "crossing": cross,
           "pairs": [[round(c, 6), r] for c, r in pairs]}
    if threshold is not None:
        s = split_at(pairs, threshold)
        print(f"at {threshold}: below {s['below']} answers ({s['below_right']} right, precision "
              f"{fmt(s['below_precision'])}); at or above {s['above']} ({s['above_right']} right, precision "
              f"{fmt(s['above_precision'])})")
        out["at_threshold"] = s
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.confidence", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpora", nargs="*", default=["seeds"], help="corpora (eval/corpora.py; default seeds)")
    p.add_argument("--split", choices=("dev", "test", "all"), default="dev")
    p.add_argument("--index-root", metavar="DIR", required=True, help="where the evaluation indexes are kept")
    p.add_argument("--loco", action="store_true", help="also answer each corpus with the answer scorer fitted "
                                                        "on the others (needs two corpora or more)")
    p.add_argument("--target", type=float, default=0.5, help="precision the threshold separates (default 0.5)")
    p.add_argument("--threshold", type=float, default=None, help="also report answers below / above this")
    p.add_argument("--json", metavar="PATH", help="write the figures and every (confidence, right) pair")
    args = p.parse_args(argv)

    from eval.corpora import corpora, select
    from eval.harness import CONFIGS, DEFAULT_CONFIG, evaluate, index_for
    from eval.loco import leave_one_out, prepare
    from indexer.encoder import SentenceTransformerEncoder
    from retriever.pipeline import Retriever

    try:
        chosen = select(args.corpora, corpora())
    except KeyError as e:
        print(f"error: {e.args[0]}", file=sys.stderr)
        return 2
    if args.loco and len(chosen) < 2:
        print("error: --loco needs at least two corpora", file=sys.stderr)
        return 2
    print("loading the embedding model ...", file=sys.stderr)
    encoder = SentenceTransformerEncoder()
    out: dict = {"split": args.split, "target": args.target, "shipped": {}, "loco": {}}
    if args.loco:
        parts = [prepare(c, args.index_root, encoder, args.split) for c in chosen]
        for part in parts:
            records = evaluate(part.retriever, part.questions, warmup=False, qvecs=part.qvecs)
            out["shipped"][part.corpus.name] = report(f"{part.corpus.name} (shipped settings)", pairs_of(records),
                                                      args.target, args.threshold)
        for fold in leave_one_out(parts):
            out["loco"][fold.corpus.name] = report(f"{fold.corpus.name} (held out: fitted on the others)",
                                                   pairs_of(fold.run.records), args.target, args.threshold)
    else:
        from eval.gold import load_gold

        default = next(c for c in CONFIGS if c.name == DEFAULT_CONFIG)
        for c in chosen:
            print(f"{c.name}: indexing and asking ...", file=sys.stderr)
            r = Retriever.open(index_for(default.chunker, c.documents, Path(args.index_root) / c.name, encoder),
                               encoder=encoder)
            records = evaluate(r, load_gold(c.gold, args.split))
            out["shipped"][c.name] = report(f"{c.name} (shipped settings)", pairs_of(records), args.target,
                                            args.threshold)
            r.index.close()
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
