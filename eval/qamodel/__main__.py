"""python -m eval.qamodel --work DIR [--out FOLDER]: mine, train and export the answer-sentence encoder."""

from __future__ import annotations

import argparse
from pathlib import Path

from eval.qamodel import export, mine, train
from retriever.answer_model import PACKAGED


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.qamodel", description=__doc__)
    p.add_argument("--work", type=Path, required=True, help="folder for the packages, the pairs and the model")
    p.add_argument("--out", type=Path, default=PACKAGED, help=f"where the int8 export goes (default: {PACKAGED})")
    p.add_argument("--epochs", type=int, default=3)
    args = p.parse_args(argv)
    pairs = mine.mine(args.work)
    model = train.train(pairs, args.work / "model", epochs=args.epochs)
    export.export(model, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
