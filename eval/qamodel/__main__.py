"""python -m eval.qamodel --work DIR [--out FOLDER]: mine, train and export the answer-sentence encoder.

``--folds DIR``: instead, one model per benchmark corpus, trained on the FAQ pairs and the gold pairs of
the other corpora (eval.qamodel.goldpairs), exported to ``DIR/NAME``, for
``python -m eval --corpora all --fold-answer-models DIR``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from eval.qamodel import export, mine, train
from retriever.answer_model import PACKAGED


def fold_gold(work: Path, index_root: Path | None, names: list[str] | None) -> dict[str, Path]:
    """The gold pairs of each benchmark corpus (the seeds: their dev split), in ``work/gold/NAME.json``
    (kept for a second run); by corpus name."""
    from eval.corpora import corpora, select
    from eval.corpora import index_root as default_root
    from eval.qamodel.goldpairs import indexed_pairs
    from indexer.encoder import SentenceTransformerEncoder

    chosen = select(names, corpora())
    root = default_root(index_root)
    (work / "gold").mkdir(parents=True, exist_ok=True)
    encoder = None
    out = {}
    for c in chosen:
        path = work / "gold" / f"{c.name}.json"
        if not path.is_file():
            encoder = encoder or SentenceTransformerEncoder(None)
            got = indexed_pairs(c, root, encoder)
            path.write_text(json.dumps(got, ensure_ascii=False), encoding="utf-8")
            print(f"{c.name}: {len(got)} gold pairs", file=sys.stderr)
        out[c.name] = path
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.qamodel", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--work", type=Path, required=True, help="folder for the packages, the pairs and the model")
    p.add_argument("--out", type=Path, default=PACKAGED, help=f"where the int8 export goes (default: {PACKAGED})")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--folds", type=Path, default=None, metavar="DIR",
                   help="one model per corpus, trained on the FAQ pairs and the other corpora's gold, into DIR/NAME")
    p.add_argument("--corpora", nargs="+", default=None, help="with --folds: these corpora only (default: all)")
    p.add_argument("--index-root", type=Path, default=None, help="with --folds: where the corpora's indexes are kept")
    args = p.parse_args(argv)
    if args.corpora:
        from eval.corpora import corpora, select

        try:
            select(args.corpora, corpora())
        except KeyError as e:
            p.error(str(e.args[0]))
    pairs = mine.mine(args.work)
    if args.folds is None:
        export.export(train.train(pairs, args.work / "model", epochs=args.epochs), args.out)
        return 0
    gold = fold_gold(args.work, args.index_root, args.corpora)
    for held in gold:
        print(f"fold without {held} ...", file=sys.stderr)
        files = [pairs, *(f for name, f in gold.items() if name != held)]
        model = train.train(files, args.work / f"fold-{held}", epochs=args.epochs)
        export.export(model, args.folds / held)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
