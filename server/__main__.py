"""Serve an index over HTTP: POST /ask, GET /health, GET /documents, GET /context, the page at /, /docs.

The port is checked first (one in use stops the server at once, naming it), then the index is
opened (and checked) before the port is bound: a missing or broken index stops the server with
one line and exit status 1. When the index is rebuilt (python -m indexer), the server
switches to the new one once it is complete, with no failed request (--watch, POST /admin/reload).
Set QUARRY_API_KEY to require an X-API-Key header on /ask, /documents, /context and /admin/reload
(the page, /health and /docs stay open).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from indexer.offline import set_offline
from indexer.paths import default_index_dir
from retriever.plugin import add_model_arguments
from server.runtime import set_model_threads, setup_logging


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m server", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--index-dir", metavar="DIR", default=None,
                   help=f"index to serve (default: $QUARRY_INDEX_DIR or {default_index_dir()})")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--allowed-host", metavar="NAME", action="append", default=None,
                   help="also answer requests whose Host header names NAME (repeatable); a loopback server "
                        "answers only to localhost, 127.0.0.1 and [::1] by default (against DNS rebinding)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    p.add_argument("--model", metavar="PATH", default=None,
                   help="sentence-transformers model folder (default: the packaged all-MiniLM-L6-v2)")
    add_model_arguments(p)
    p.add_argument("--max-batch", type=int, default=32,
                   help="questions embedded together under concurrent load (default 32; 1 turns batching off)")
    p.add_argument("--batch-wait-ms", type=float, default=0.0,
                   help="how long an idle encoder waits for more questions (default 0)")
    p.add_argument("--threads", type=int, default=1,
                   help="CPU threads of the embedding model per batch (default 1)")
    p.add_argument("--encoders", type=int, default=None,
                   help="batches embedded at once, each with --threads threads (default: the CPUs, at most 4)")
    p.add_argument("--workers", type=int, default=1,
                   help="server processes sharing the port, each with its own copy of the index and model "
                        "(default 1; use the CPU count for the most requests/s under concurrent load)")
    p.add_argument("--watch", type=float, default=2.0, metavar="SECONDS",
                   help="check the index for a rebuild this often and switch to it (default 2; 0: only on "
                        "POST /admin/reload)")
    p.add_argument("--max-header-bytes", type=int, default=32_768, metavar="N",
                   help="request line and headers over N bytes get 431 (default 32768)")
    p.add_argument("--max-headers", type=int, default=100, metavar="N",
                   help="requests with over N header lines get 431 (default 100)")
    p.add_argument("--max-connections", type=int, default=512, metavar="N",
                   help="open connections at most; more get 503 (default 512; 0: no cap)")
    p.add_argument("--header-timeout", type=float, default=10.0, metavar="SECONDS",
                   help="close a connection whose request line and headers take longer (default 10)")
    p.add_argument("--keep-alive", type=float, default=5.0, metavar="SECONDS",
                   help="close an idle keep-alive connection after this (default 5)")
    p.add_argument("--no-access-log", action="store_true", help="do not log every request")
    p.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    return p


def main(argv: list[str] | None = None) -> int:
    set_offline()  # before any library reads it
    args = parser().parse_args(argv)
    if not 0 <= args.port <= 65535:
        print("error: --port must be from 0 to 65535", file=sys.stderr)
        return 2
    if args.threads < 1 or args.workers < 1 or (args.encoders is not None and args.encoders < 1):
        print("error: --threads, --workers and --encoders must be at least 1", file=sys.stderr)
        return 2
    if args.watch < 0:
        print("error: --watch must be at least 0", file=sys.stderr)
        return 2
    if args.max_header_bytes < 1024 or args.max_headers < 8 or args.max_connections < 0 \
            or args.header_timeout <= 0 or args.keep_alive <= 0:
        print("error: --max-header-bytes must be at least 1024, --max-headers at least 8, --max-connections "
              "at least 0, --header-timeout and --keep-alive above 0", file=sys.stderr)
        return 2
    if args.max_batch < 1 or args.batch_wait_ms < 0:
        print("error: --max-batch must be at least 1 and --batch-wait-ms at least 0", file=sys.stderr)
        return 2
    # by default the workers' encoders together use each CPU once (more, and batches shrink for nothing)
    encoders = args.encoders or max(1, min(4, (os.cpu_count() or 1) // (args.threads * args.workers)))
    setup_logging(args.log_level)
    from indexer.errors import QuarryError
    from server.deps import open_retriever
    from server.settings import Settings

    settings = Settings.from_env(index_dir=args.index_dir, host=args.host, port=args.port, model=args.model,
                                 allowed_hosts=args.allowed_host,
                                 cross_encoder=args.cross_encoder, reader=args.reader,
                                 reader_abstain=args.reader_abstain, answer_model=args.answer_model,
                                 max_batch=args.max_batch,
                                 batch_wait_ms=args.batch_wait_ms, encoders=encoders,
                                 threads=args.threads,
                                 access_log=not args.no_access_log, watch_seconds=args.watch,
                                 max_header_bytes=args.max_header_bytes, max_headers=args.max_headers,
                                 max_connections=args.max_connections, header_timeout_seconds=args.header_timeout,
                                 keep_alive_seconds=args.keep_alive)
    if args.reader_abstain and not settings.reader:
        print("error: --reader-abstain needs a reader (--reader DIR or $QUARRY_READER)", file=sys.stderr)
        return 2
    if (busy := port_problem(settings.host, settings.port)) is not None:  # before minutes of loading
        print(f"error: {busy}", file=sys.stderr)
        return 1
    set_model_threads(args.threads)
    if args.workers > 1:
        from server.workers import check_index, serve_workers

        try:
            error = check_index(settings)  # in a process of its own: the workers load the model, not this one
        except KeyboardInterrupt:
            return 130
        if error:
            print(f"error: cannot serve {settings.index_dir}: {error}", file=sys.stderr)
            return 1
        return serve_workers(settings, args.workers, args.log_level)
    try:
        retriever = open_retriever(settings)  # checks the index and that the model matches it
    except QuarryError as e:
        print(f"error: cannot serve {settings.index_dir}: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return serve(settings, retriever, args.log_level)


def port_problem(host: str, port: int) -> str | None:
    """Why the server could not listen on ``host:port`` (None when it can), found by binding it a moment.

    Binds as uvicorn does (SO_REUSEADDR: a port another server listens on is refused, one in TIME_WAIT
    is not), then lets go. Port 0 (any free port) always works."""
    import errno
    import socket

    if port == 0:
        return None
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as e:
        return f"cannot listen on {host}: {e.strerror}"
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                return (f"port {port} is already in use on {host} (another server?): stop it, "
                        f"or pick another port with --port N (--port 0 picks a free one)")
            if e.errno == errno.EACCES:
                return f"no permission to listen on port {port} (ports below 1024 need privileges): use --port N"
            return f"cannot listen on {host} port {port}: {e.strerror}"
    return None


def serve(settings, retriever, log_level: str = "info", load=None) -> int:
    """Run uvicorn until a signal; advertise the server while it listens. The lifespan gets ``retriever``
    (already opened and checked); rebuilt indexes are opened with ``load`` (default: open_retriever)."""
    import uvicorn

    from server import discovery
    from server.app import create_app
    from server.deps import open_retriever
    from server.protocol import raise_open_files, uvicorn_options

    first = [retriever]

    def load_index(s):
        return first.pop() if first else (load or open_retriever)(s)

    class Server(uvicorn.Server):
        async def startup(self, sockets=None):
            await super().startup(sockets)
            if self.started:
                port = self.servers[0].sockets[0].getsockname()[1]
                url = discovery.url_for(settings.host, port)
                discovery.advertise(settings.index_dir, url, bool(settings.api_key))
                logging.getLogger("server").info("quarry is answering at %s (page: %s/, API docs: %s/docs)",
                                                 url, url, url)

        async def shutdown(self, sockets=None):
            discovery.withdraw(settings.index_dir)  # stop advertising first
            await super().shutdown(sockets)

    app = create_app(settings, load=load_index)
    config = uvicorn.Config(app, host=settings.host, port=settings.port, log_level=log_level,
                            access_log=settings.access_log, timeout_graceful_shutdown=5,
                            **uvicorn_options(settings))  # header, connection and timeout caps
    raise_open_files(settings.max_connections)
    try:
        Server(config).run()
    except KeyboardInterrupt:
        return 130
    finally:
        discovery.withdraw(settings.index_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
