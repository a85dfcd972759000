"""The real server and indexer entry points as separate processes, with the fake encoder (no model).

    python -m tests.fake_cli server --index-dir DIR [python -m server options]
    python -m tests.fake_cli index SOURCE_DIR --index-dir DIR [--rebuild] [--dim N] [--watch]
    python -m tests.fake_cli mcp --index-dir DIR [python -m server.mcp options]

``server`` runs ``server.__main__.serve`` (uvicorn, discovery file, rebuild watch) exactly as
``python -m server`` does, only opening indexes with the fake encoder; ``index`` runs
``build_index`` as ``python -m indexer`` does (``--watch``: and keeps the index up to date, as
``python -m indexer --watch`` does); ``mcp`` runs ``server.mcp.main`` (the stdio MCP server).
Tests use them to rebuild under a live server.
"""

from __future__ import annotations

import argparse
import sys

from indexer.build import build_index
from indexer.errors import QuarryError
from server import __main__ as server_main
from server.runtime import setup_logging
from server.settings import Settings
from server.workers import check_index, serve_workers
from tests.conftest import FakeEncoder
from tests.serving import fake_loader

FAKE_LOADER = "tests.serving:fake_loader"


def serve(argv: list[str]) -> int:
    args = server_main.parser().parse_args(argv)
    setup_logging(args.log_level)
    settings = Settings.from_env(index_dir=args.index_dir, host=args.host, port=args.port, max_batch=args.max_batch,
                                 access_log=not args.no_access_log, watch_seconds=args.watch)
    if args.workers > 1:
        if error := check_index(settings, FAKE_LOADER):
            print(f"error: cannot serve {settings.index_dir}: {error}", file=sys.stderr)
            return 1
        return serve_workers(settings, args.workers, args.log_level, load=FAKE_LOADER)
    try:
        retriever = fake_loader(settings)
    except QuarryError as e:
        print(f"error: cannot serve {settings.index_dir}: {e}", file=sys.stderr)
        return 1
    return server_main.serve(settings, retriever, args.log_level, load=fake_loader)


def index(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.fake_cli index")
    p.add_argument("source_dir")
    p.add_argument("--index-dir", required=True)
    p.add_argument("--rebuild", action="store_true")
    p.add_argument("--dim", type=int, default=256, help="another dimension: an index the server cannot use")
    p.add_argument("--watch", action="store_true")
    p.add_argument("--debounce", type=int, default=200)
    args = p.parse_args(argv)
    if args.watch:
        from indexer.watch import watch_and_index

        return watch_and_index(args.source_dir, args.index_dir, FakeEncoder(args.dim), debounce_ms=args.debounce,
                               build_options={"progress": False})
    report = build_index(args.source_dir, args.index_dir, encoder=FakeEncoder(args.dim), rebuild=args.rebuild,
                         progress=False)
    print(report.summary(), flush=True)
    return 0


def mcp(argv: list[str]) -> int:
    from server.mcp import main

    return main(argv, load=fake_loader)


if __name__ == "__main__":
    command, rest = sys.argv[1], sys.argv[2:]
    sys.exit({"server": serve, "index": index, "mcp": mcp}[command](rest))
