"""What an index holds and what its last build could not read well: `quarry status [DIR]`
(or `python -m indexer --status [DIR]`).

Lists the folder the index was built from, its counts, the files skipped at the last build that
wrote it and why, and the files that were not UTF-8 with how they were decoded (a guessed
encoding with its confidence, so a user can set ``--encoding`` when the guess is wrong). It reads
only the manifest: nothing is opened for writing and no model is loaded. ``status(index_dir)``
returns the text (``quarry status`` calls it); ``main(argv)`` is the command line.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from indexer.indexdir.fsutil import human_bytes
from indexer.paths import default_index_dir

LIST_LIMIT = 50  # files listed per section; past it, a count


def _describe(rec: dict[str, Any]) -> str:
    codec = rec.get("codec", "?")
    how = rec.get("how")
    if how == "guessed":
        conf = rec.get("confidence")
        return f"{codec}, a guess" + (f" (confidence {conf:.2f})" if isinstance(conf, (int, float)) else "")
    return codec + {"bom": " (byte-order mark)", "declared": " (declared by the file)",
                    "given": " (--encoding)"}.get(how or "", "")


def _section(title: str, rows: list[str], limit: int = LIST_LIMIT) -> list[str]:
    out = [f"{title} ({len(rows)}):"]
    out += [f"  {r}" for r in rows[:limit]]
    if len(rows) > limit:
        out.append(f"  ... and {len(rows) - limit} more")
    return out


def report(manifest: dict[str, Any], index_dir: Path) -> str:
    """The status text of an index from its manifest."""
    total, shared = _bytes_on_disk(index_dir)
    docs = [d for d in manifest.get("documents") or [] if isinstance(d, dict)]
    counts = manifest.get("counts") or {}
    model = (manifest.get("model") or {}).get("name", "?")
    faiss = (manifest.get("faiss") or {}).get("type", "?")
    lines = [
        f"index: {index_dir}",
        f"built from: {manifest.get('source_dir', '(not recorded)')}",
        f"updated: {manifest.get('updated_at', '(not recorded)')}",
        f"documents: {counts.get('documents', len(docs))}, chunks: {counts.get('chunks', '?')}, "
        f"sentences: {counts.get('sentences', '?')}; model {model}; vector index {faiss}",
        "questions embedded with " + ("the index's ONNX export (no torch)" if manifest.get("query_encoder")
                                      else "torch (no ONNX export stored)"),
        f"size on disk: {human_bytes(total)}"
        + (f" ({human_bytes(shared)} of it hard links shared with other indexes of the model: the ONNX export cache)"
           if shared else ""),
    ]
    decoding = manifest.get("decoding")
    if isinstance(decoding, dict) and decoding.get("encoding"):
        lines.append(f"--encoding: {decoding['encoding']} (for files that are not UTF-8)")
    if manifest.get("text_extensions"):
        lines.append(f"--text-ext: {', '.join(manifest['text_extensions'])} (read as plain text)")
    encoded = [(d.get("source", "?"), d["encoding"]) for d in docs if isinstance(d.get("encoding"), dict)]
    guessed = sorted((s, r) for s, r in encoded if r.get("how") == "guessed")
    other = sorted((s, r) for s, r in encoded if r.get("how") != "guessed")
    if decoding is None:
        lines.append("encodings: not recorded (built by an older quarry; the next run re-reads files that "
                     "are not UTF-8 and records them)")
    else:
        if guessed:
            lines += _section("decoded by a guessed encoding (check them; --encoding NAME sets it)",
                              [f"{s}: {_describe(r)}" for s, r in guessed])
        if other:
            lines += _section("not UTF-8, decoded by a known encoding", [f"{s}: {_describe(r)}" for s, r in other])
        if not encoded:
            lines.append("encodings: every document is UTF-8")
    skipped = manifest.get("skipped")
    if skipped is None:
        lines.append("skipped: not recorded (built by an older quarry; re-run the indexer to see them)")
    elif skipped:
        lines += _section("skipped at the last build that wrote the index",
                          [f"{s.get('source', '?')}: {s.get('reason', '?')}" for s in skipped if isinstance(s, dict)])
    else:
        lines.append("skipped: none")
    return "\n".join(lines)


def _bytes_on_disk(index_dir: Path) -> tuple[int, int]:
    """Bytes of the index's files, and of those among them with other hard links (the export cache's)."""
    from indexer.indexdir import live_dir

    try:
        live = live_dir(index_dir)
        stats = [p.stat() for p in live.rglob("*") if p.is_file() and not p.is_symlink()]
    except OSError:
        return 0, 0
    return sum(st.st_size for st in stats), sum(st.st_size for st in stats if st.st_nlink > 1)


def summary(index_dir: str | Path | None = None) -> dict[str, Any]:
    """The same facts as :func:`status`, as a dict (``quarry status --json``)."""
    from indexer.indexdir import live_dir, read_manifest

    index_dir = Path(index_dir) if index_dir else default_index_dir()
    m = read_manifest(live_dir(index_dir))
    docs = [d for d in m.get("documents") or [] if isinstance(d, dict)]
    counts = m.get("counts") or {}
    return {
        "index_dir": str(index_dir), "source_dir": m.get("source_dir"), "updated_at": m.get("updated_at"),
        "documents": counts.get("documents", len(docs)), "chunks": counts.get("chunks"),
        "sentences": counts.get("sentences"), "model": (m.get("model") or {}).get("name"),
        "dim": (m.get("model") or {}).get("dim"), "vector_index": (m.get("faiss") or {}).get("type"),
        "query_encoder": "onnx" if m.get("query_encoder") else "torch",
        "bytes_on_disk": _bytes_on_disk(index_dir)[0],
        "encodings": {d["source"]: d["encoding"] for d in docs if isinstance(d.get("encoding"), dict)},
        "skipped": m.get("skipped"), "text_extensions": m.get("text_extensions") or [],
    }


def status(index_dir: str | Path | None = None) -> str:
    """The status text of the index at ``index_dir`` (default: the default index); raises
    :class:`indexer.errors.QuarryError` (IndexNotFound, IndexCorrupt, ...) when there is none."""
    from indexer.indexdir import live_dir, read_manifest

    index_dir = Path(index_dir) if index_dir else default_index_dir()
    return report(read_manifest(live_dir(index_dir)), index_dir)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="quarry status", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="examples:\n  quarry status\n  quarry status /tmp/notes-index --json\n")
    p.add_argument("index", metavar="DIR", nargs="?", default=None, help="the index (same as --index-dir)")
    p.add_argument("--index-dir", metavar="DIR", default=None,
                   help=f"the index (default: $QUARRY_INDEX_DIR or {default_index_dir()})")
    p.add_argument("--json", action="store_true", help="print the status as JSON")
    return p


def main(argv: list[str] | None = None) -> int:
    """``quarry status [DIR]``: print the status; 1 (with the reason) when there is no index."""
    args = parser().parse_args(argv)
    if args.index and args.index_dir and Path(args.index) != Path(args.index_dir):
        print("error: give the index once: DIR or --index-dir DIR", file=sys.stderr)
        return 2
    return print_status(args.index or args.index_dir, as_json=args.json)


def print_status(index_dir: str | Path | None, as_json: bool = False) -> int:
    from indexer.errors import QuarryError

    try:
        text = json.dumps(summary(index_dir), ensure_ascii=False, indent=2) if as_json else status(index_dir)
    except QuarryError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
