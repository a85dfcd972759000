"""Build or update an index over a folder of .txt and .md documents.

Re-running on the same folder is incremental: unchanged files are skipped, changed files are
re-indexed and deleted files are dropped. The new index replaces the old one atomically.
"""

from __future__ import annotations

import argparse
import logging
import sys

from indexer.paths import default_index_dir


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m indexer", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("source_dir", metavar="SOURCE_DIR", help="folder of documents to index (searched recursively)")
    p.add_argument("--index-dir", metavar="DIR", default=None,
                   help=f"where the index lives (default: $QUARRY_INDEX_DIR or {default_index_dir()})")
    p.add_argument("--model", metavar="PATH", default=None,
                   help="sentence-transformers model folder (default: $QUARRY_MODEL or the packaged all-MiniLM-L6-v2)")
    p.add_argument("--rebuild", action="store_true", help="re-index every file, ignoring the existing index")
    p.add_argument("--max-chars", type=int, default=None, help="largest chunk, in characters (default 600)")
    p.add_argument("--overlap", type=int, default=None, help="sentences shared by consecutive chunks (default 1)")
    p.add_argument("--batch-size", type=int, default=64, help="texts per encoder batch (default 64)")
    p.add_argument("--no-onnx", action="store_true",
                   help="do not store an ONNX export of the model in the index (then `ask` loads torch)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar, only the summary")
    p.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    from indexer.build import build_index
    from indexer.chunker import ChunkerSettings
    from indexer.encoder import SentenceTransformerEncoder
    from indexer.errors import QuarryError

    try:
        defaults = ChunkerSettings()
        settings = ChunkerSettings(
            max_chars=args.max_chars if args.max_chars is not None else defaults.max_chars,
            overlap_sentences=args.overlap if args.overlap is not None else defaults.overlap_sentences,
        )
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.batch_size < 1:
        print("error: --batch-size must be at least 1", file=sys.stderr)
        return 2
    index_dir = args.index_dir or default_index_dir()
    try:
        report = build_index(args.source_dir, index_dir, encoder=SentenceTransformerEncoder(args.model),
                             settings=settings, rebuild=args.rebuild,
                             progress=False if args.quiet else None, batch_size=args.batch_size,
                             onnx=not args.no_onnx)
    except QuarryError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: the previous index is unchanged", file=sys.stderr)
        return 130
    print(report.summary())
    for s in report.skipped:
        print(f"  skipped {s.source}: {s.reason}")
    return 0
