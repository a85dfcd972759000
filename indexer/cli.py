"""Build or update an index over a folder of documents (.txt .md .html .pdf .docx).

Re-running on the same folder is incremental: unchanged files are skipped, changed files are
re-indexed and deleted files are dropped. The new index replaces the old one atomically.
Files that cannot be indexed (binary, undecodable, empty, unsupported) are listed with a reason.

`--watch` keeps the index up to date: after the first build, every change in the folder is
indexed (changes are gathered for --debounce milliseconds), until Ctrl-C.

`--show-text SOURCE` prints the exact text that offsets into SOURCE index: the file as decoded
for .txt/.md, the extracted text for .html/.pdf/.docx, so any citation can be checked.

Text files that are not UTF-8 are decoded by a guessed encoding (cp1252 preferred for
Western-European text), recorded with its confidence; `--encoding NAME` sets it instead.
`--status [INDEX_DIR]` shows an index: its folder, counts, files skipped and encodings guessed.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from indexer.offline import set_offline
from indexer.paths import default_index_dir


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m indexer", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("source_dir", metavar="SOURCE_DIR", nargs="?",
                   help="folder of documents to index (searched recursively)")
    p.add_argument("--index-dir", metavar="DIR", default=None,
                   help=f"where the index lives (default: $QUARRY_INDEX_DIR or {default_index_dir()})")
    p.add_argument("--model", metavar="PATH", default=None,
                   help="sentence-transformers model folder (default: $QUARRY_MODEL or the packaged all-MiniLM-L6-v2)")
    p.add_argument("--rebuild", action="store_true", help="re-index every file, ignoring the existing index")
    p.add_argument("--max-chars", type=int, default=None, help="largest chunk, in characters (default 600)")
    p.add_argument("--overlap", type=int, default=None, help="sentences shared by consecutive chunks (default 1)")
    p.add_argument("--batch-size", type=int, default=64, help="texts per encoder batch (default 64)")
    p.add_argument("--show-text", metavar="SOURCE", default=None,
                   help="print the indexed text of SOURCE (a path as cited, e.g. docs/report.pdf) and exit")
    p.add_argument("--chars", metavar="START:END", default=None,
                   help="with --show-text: print only text[START:END] (the offsets of a citation)")
    p.add_argument("--force", action="store_true",
                   help="replace an index that was built from another folder")
    p.add_argument("--follow-links", action="store_true",
                   help="index file symlinks that lead out of the source folder (skipped by default)")
    p.add_argument("--encoding", metavar="NAME", default=None,
                   help="codec of the text files that are not UTF-8 (e.g. cp1252, latin-1, cp1250); "
                        "default: guessed per file")
    p.add_argument("--text-ext", metavar="EXT", action="append", default=None,
                   help="also read files with this extension as plain text (e.g. --text-ext .tex --text-ext "
                        ".log, or .tex,.log); kept for later updates of the index; 'none': no more")
    p.add_argument("--status", action="store_true",
                   help="show the index (SOURCE_DIR is then the index folder, or use --index-dir): its "
                        "folder, counts, files skipped and encodings guessed, and exit")
    p.add_argument("--no-onnx", action="store_true",
                   help="do not store an ONNX export of the model in the index (then `ask` loads torch, "
                        "and torch embeds)")
    p.add_argument("--embedder", choices=("onnx", "torch"), default="onnx",
                   help="what runs the model while indexing: its cached ONNX export (about half torch's CPU "
                        "time, same vectors to cosine >= 0.999) or torch (default onnx)")
    p.add_argument("--threads", type=int, default=None, metavar="N",
                   help="CPU threads for embedding (default: one per core)")
    v = p.add_argument_group("vector index", "exact search for small corpora, approximate (HNSW or IVF) above a size")
    v.add_argument("--index-type", choices=("auto", "flat", "hnsw", "ivf"), default="auto",
                   help="auto: exact up to --approximate-above chunks, then HNSW (default auto)")
    v.add_argument("--approximate-above", type=int, default=None, metavar="N",
                   help="chunks above which auto switches to an approximate index "
                        f"(default {_default('approximate_above')})")
    v.add_argument("--ef-search", type=int, default=None, metavar="N",
                   help=f"HNSW candidate list when searching: recall vs speed (default {_default('ef_search')})")
    v.add_argument("--nprobe", type=int, default=None, metavar="N",
                   help=f"IVF cells visited per query (default {_default('nprobe')})")
    p.add_argument("--watch", action="store_true",
                   help="after indexing, keep watching SOURCE_DIR and update the index on every change, "
                        "until Ctrl-C (a running server switches to each update)")
    p.add_argument("--debounce", type=int, default=1000, metavar="MS",
                   help="with --watch: gather changes for up to MS milliseconds into one update (default 1000)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar, only the summary")
    p.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    return p


def _default(name: str):
    from indexer.indexdir.vectors import VectorSettings

    return getattr(VectorSettings, name)


def main(argv: list[str] | None = None) -> int:
    set_offline()  # before any library reads it
    p = parser()
    args = p.parse_args(argv)
    if args.status:
        from indexer.status import print_status

        return print_status(args.source_dir or args.index_dir or default_index_dir())
    if args.show_text is not None:
        return show_text(args.show_text, args.index_dir or default_index_dir(), args.chars)
    if args.source_dir is None:
        p.error("the following arguments are required: SOURCE_DIR (or use --show-text SOURCE)")
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if not args.verbose:  # pypdf warns about every recoverable flaw of a PDF; the summary is enough
        logging.getLogger("pypdf").setLevel(logging.ERROR)
    from indexer.build import build_index
    from indexer.chunker import ChunkerSettings
    from indexer.encoder import SentenceTransformerEncoder
    from indexer.errors import QuarryError
    from indexer.indexdir.vectors import VectorSettings

    try:
        defaults = ChunkerSettings()
        settings = ChunkerSettings(
            max_chars=args.max_chars if args.max_chars is not None else defaults.max_chars,
            overlap_sentences=args.overlap if args.overlap is not None else defaults.overlap_sentences,
        )
        vectors = VectorSettings(**{k: v for k, v in (
            ("kind", args.index_type), ("approximate_above", args.approximate_above),
            ("ef_search", args.ef_search), ("nprobe", args.nprobe)) if v is not None})
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.batch_size < 1:
        print("error: --batch-size must be at least 1", file=sys.stderr)
        return 2
    if args.threads is not None and args.threads < 1:
        print("error: --threads must be at least 1", file=sys.stderr)
        return 2
    if args.encoding is not None:
        from indexer.formats.plain import known_codec

        try:
            known_codec(args.encoding)
        except ValueError as e:
            print(f"error: --encoding: {e}", file=sys.stderr)
            return 2
    text_extensions = None
    if args.text_ext is not None:
        from indexer.formats import text_extension

        asked = [e.strip() for value in args.text_ext for e in value.split(",") if e.strip()]
        try:
            if "none" in (e.lower() for e in asked) and len(asked) > 1:
                raise ValueError("'none' stands alone (it drops every extension read as text)")
            none = [e.lower() for e in asked] == ["none"]
            text_extensions = [] if none else sorted({text_extension(e) for e in asked})
        except ValueError as e:
            print(f"error: --text-ext: {e}", file=sys.stderr)
            return 2
    index_dir = args.index_dir or default_index_dir()
    other = built_from_elsewhere(args.source_dir, index_dir)
    if other is not None and not args.force:
        print(f"error: {index_dir} was built from {other}, not {Path(args.source_dir).resolve()}; "
              f"--force replaces it with an index of {args.source_dir}", file=sys.stderr)
        return 1
    from indexer.progress import Phases

    phases = Phases(False if args.quiet else None)  # on a terminal, as the bar; with -v, in the log too
    options = dict(settings=settings, progress=False if args.quiet else None, batch_size=args.batch_size,
                   vectors=vectors, onnx=not args.no_onnx, follow_links=args.follow_links,
                   embedder=args.embedder, threads=args.threads, encoding=args.encoding, phases=phases,
                   text_extensions=text_extensions)
    if args.watch:
        from indexer.watch import watch_and_index

        if args.debounce < 1:
            print("error: --debounce must be at least 1", file=sys.stderr)
            return 2
        try:
            encoder = SentenceTransformerEncoder(args.model, threads=args.threads)
        except QuarryError as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
        return watch_and_index(args.source_dir, index_dir, encoder, debounce_ms=args.debounce, build_options=options,
                               first_options={"rebuild": args.rebuild or other is not None})
    try:
        encoder = SentenceTransformerEncoder(args.model, threads=args.threads)
        report = build_index(args.source_dir, index_dir, encoder=encoder,
                             rebuild=args.rebuild or other is not None, **options)
    except QuarryError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: the previous index is unchanged", file=sys.stderr)
        return 130
    from indexer.watch import show_report

    show_report(report, sys.stdout)
    noted = {n.source for n in report.notes}
    earlier = [s for s in report.guessed if s not in noted]  # decoded by a guess at an earlier run
    if earlier:
        print(f"  note: {len(earlier)} {'file was' if len(earlier) == 1 else 'files were'} decoded by a guessed "
              f"encoding at an earlier run (python -m indexer --status {index_dir} lists them; --encoding NAME "
              f"sets it)")
    return 0


def built_from_elsewhere(source_dir: str, index_dir: str | Path) -> str | None:
    """The folder an existing index at ``index_dir`` was built from, when it is not ``source_dir``."""
    from indexer.errors import QuarryError
    from indexer.indexdir import live_dir, read_manifest

    try:
        built = read_manifest(live_dir(Path(index_dir))).get("source_dir")
    except (QuarryError, OSError, AttributeError):
        return None  # no index yet, or one the build reports on
    if not isinstance(built, str) or Path(built) == Path(source_dir).resolve():
        return None
    return built


def show_text(source: str, index_dir: str | Path, chars: str | None = None) -> int:
    """Write the indexed text of ``source`` (or its slice ``START:END``) to stdout as UTF-8, unchanged."""
    from indexer.errors import QuarryError
    from indexer.indexdir import IndexStore

    try:
        store = IndexStore(index_dir, verify=False)
        text = store.document_text(source)
    except QuarryError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    if text is None:
        print(f"error: {source} is not in the index {index_dir} "
              f"(sources are cited relative to the indexed folder, with '/')", file=sys.stderr)
        return 1
    if chars is not None:
        try:
            start, end = (int(x) if x else None for x in chars.split(":"))
        except ValueError:
            print("error: --chars takes START:END, e.g. --chars 120:245", file=sys.stderr)
            return 2
        text = text[start:end]
    out = getattr(sys.stdout, "buffer", None)
    if out is None:  # a text-only stream (tests, embedding)
        sys.stdout.write(text)
        return 0
    sys.stdout.flush()
    out.write(text.encode("utf-8"))
    out.flush()
    return 0
