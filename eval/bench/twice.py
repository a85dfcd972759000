"""Each benchmark corpus held twice: the folder and a ``copy/`` of it, as a folder holding a manual both as
HTML and as text, or a backup beside the original, holds it.

For each corpus (``--corpus``, default all but the seeds), the answerable gold questions are asked of an
index of both, with the duplicates left out (``retriever.pipeline.distinct``, as shipped) and kept (the
first passages as fused, as before it); a passage or answer from the copy counts as its original's.
Printed: repeated passages in the top ``k`` per question, hit@k, answer accuracy (docs/corpora.md).

    python -m eval.bench.twice [--corpus NAME ...] [--work DIR] [-k 5]
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

COPY = "copy/"


def measure(retriever, questions, k: int) -> tuple[float, float, float]:
    """Repeated passages per question, hit@k and answer accuracy, a copy's passage counted as its original's."""
    from eval.metrics import answer_correct, passage_relevant

    repeated = hits = right = 0
    for q in questions:
        result = retriever.ask(q.question, k=k)
        shown: set[tuple[str, int]] = set()
        for p in result.passages:
            where = (p.source.removeprefix(COPY), p.start_char)
            repeated += where in shown
            shown.add(where)
        hits += any(passage_relevant(p.text, p.source.removeprefix(COPY), q.source, q.answers,
                                     (p.start_char, p.end_char), q.ranges) for p in result.passages)
        a = result.answer
        right += bool(a and answer_correct(a.text, a.source.removeprefix(COPY), q.source, q.answers,
                                           where=(a.start_char, a.end_char), ranges=q.ranges))
    n = max(1, len(questions))
    return repeated / n, hits / n, right / n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.bench.twice", description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", action="append", help="a benchmark corpus by name (default: all but the seeds)")
    parser.add_argument("--work", type=Path, default=None, help="where the doubled folders and their indexes go "
                        "(default: a temporary folder)")
    parser.add_argument("-k", type=int, default=5)
    args = parser.parse_args(argv)
    from retriever.settings import MAX_K

    if not 1 <= args.k <= MAX_K:
        parser.error(f"-k must be 1-{MAX_K}, not {args.k}")

    import tempfile

    import retriever.pipeline as pipeline
    from eval.corpora import corpora
    from eval.gold import load_gold
    from indexer.build import build_index
    from indexer.encoder import SentenceTransformerEncoder
    from retriever.pipeline import Retriever

    chosen = [c for c in corpora() if (c.name in args.corpus if args.corpus else c.name != "seeds")]
    if not chosen:
        parser.error(f"no such corpus: {', '.join(args.corpus or [])}")
    work = args.work or Path(tempfile.mkdtemp(prefix="quarry-twice-"))
    encoder = SentenceTransformerEncoder()
    shipped = pipeline.distinct
    print(f"| corpus held twice | duplicates | repeated passages in the top {args.k} | hit@{args.k} | "
          "answer accuracy |")
    print("|---|---|---:|---:|---:|")
    for corpus in chosen:
        folder, index = work / corpus.name, work / f"{corpus.name}-index"
        if not folder.exists():
            shutil.copytree(corpus.documents, folder)
            shutil.copytree(corpus.documents, folder / COPY)
        build_index(folder, index, encoder=encoder, progress=False)  # incremental: kept when up to date
        questions = [q for q in load_gold(corpus.gold) if q.answerable]
        for label, distinct in (("kept", lambda ranked, k: ranked[:k]), ("left out", shipped)):
            pipeline.distinct = distinct
            try:
                r = Retriever.open(index, encoder=encoder)
                repeated, hit, accuracy = measure(r, questions, args.k)
                r.index.close()
            finally:
                pipeline.distinct = shipped
            print(f"| {corpus.name} | {label} | {repeated:.2f} | {hit:.3f} | {accuracy:.3f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
