"""``quarry status [DIR]``: what an index holds, read from its manifest (no model, no vectors loaded).

Shows the folder it was built from, its files, chunks and sentences, the model, the vector index,
whether questions are embedded without torch (an ONNX export), when it was last built, its size
on disk, and the files the last build skipped or decoded with a guess when the index records them.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from indexer.paths import default_index_dir

EXAMPLES = """\
examples:
  quarry status
  quarry status /tmp/notes-index --json
"""


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="quarry status", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=EXAMPLES)
    p.add_argument("index", metavar="DIR", nargs="?", default=None,
                   help="the index (same as --index-dir)")
    p.add_argument("--index-dir", metavar="DIR", default=None,
                   help=f"the index (default: $QUARRY_INDEX_DIR or {default_index_dir()})")
    p.add_argument("--json", action="store_true", help="print the status as JSON")
    return p


def status(index_dir: str | Path) -> dict[str, Any]:
    """The state of the index at ``index_dir``; raises QuarryError when there is none or it is unreadable."""
    from indexer.fsutil import live_dir
    from indexer.store import read_manifest

    index_dir = Path(index_dir)
    live = live_dir(index_dir)
    m = read_manifest(live)
    docs = m.get("documents", [])
    counts = m.get("counts", {})
    out: dict[str, Any] = {
        "index_dir": str(index_dir),
        "source_dir": m.get("source_dir"),
        "documents": len(docs),
        "chunks": counts.get("chunks"),
        "sentences": counts.get("sentences"),
        "model": (m.get("model") or {}).get("name"),
        "dim": (m.get("model") or {}).get("dim"),
        "vector_index": (m.get("faiss") or {}).get("type"),
        "query_encoder": "onnx" if m.get("query_encoder") else "torch",
        "updated_at": m.get("updated_at"),
        "bytes_on_disk": sum(p.stat().st_size for p in live.rglob("*") if p.is_file() and not p.is_symlink()),
    }
    for key in ("skipped", "notes", "guessed"):  # recorded by newer builds; listed as they are
        if key in m:
            out[key] = m[key]
    return out


def render(s: dict[str, Any]) -> str:
    """The status for a person, one fact a line."""
    lines = [
        f"index:      {s['index_dir']}",
        f"folder:     {s['source_dir'] or '(not recorded)'}",
        f"files:      {s['documents']}  ({s['chunks']} chunks, {s['sentences']} sentences)",
        f"model:      {s['model']} ({s['dim']} dimensions); questions embedded with "
        + ("its ONNX export (no torch)" if s["query_encoder"] == "onnx" else "torch (no ONNX export stored)"),
        f"vectors:    {s['vector_index']}",
        f"built:      {s['updated_at']}",
        f"size:       {_size(s['bytes_on_disk'])}",
    ]
    for key in ("skipped", "notes", "guessed"):
        entries = s.get(key)
        if entries is None:
            continue
        lines.append(f"{key}:{' ' * (11 - len(key))}{len(entries)}")
        for e in entries:
            if isinstance(e, dict):
                lines.append(f"  {e.get('source', '?')}: {e.get('reason', '')}")
            else:
                lines.append(f"  {e}")
    return "\n".join(lines)


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n} B"


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.index and args.index_dir and Path(args.index) != Path(args.index_dir):
        print("error: give the index once: DIR or --index-dir DIR", file=sys.stderr)
        return 2
    index_dir = args.index or args.index_dir or default_index_dir()
    from indexer.errors import QuarryError

    try:
        s = status(index_dir)
    except QuarryError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(json.dumps(s, ensure_ascii=False, indent=2) if args.json else render(s))
    return 0


if __name__ == "__main__":
    sys.exit(main())
