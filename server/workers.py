"""``python -m server --workers N``: N server processes answering on one port, under uvicorn's supervisor.

Each worker is a process of its own (its own GIL, index and model), built by ``server.app:worker_app``
from the settings this module passes in the environment. Each listens on a socket of its own bound to
the same port with SO_REUSEPORT, so the kernel spreads new connections over the workers evenly. (With
one shared socket, whichever worker wakes first accepts every connection waiting, and keep-alive
clients then stay on it: measured with 32 clients and 2 workers, one worker got 75 to 93% of the work.)
uvicorn's supervisor restarts a worker that dies, on its own socket, and stops all of them on SIGINT or
SIGTERM. Each worker watches the index for rebuilds itself (``--watch``). A worker that switches to a
rebuilt index (its watch saw it first, or ``POST /admin/reload`` reached it) sends the supervisor SIGUSR1;
the supervisor passes the signal on to every worker, and each checks the index at once, so they switch
together (a worker still starting ignores it: it is opening the index on disk anyway).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import logging
import multiprocessing
import os
import signal
import socket
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

from server import discovery

log = logging.getLogger("server")

WORKER_ENV = "QUARRY_SERVER_WORKER"
OPEN_RETRIEVER = "server.deps:open_retriever"
RELOAD_SIGNAL = signal.SIGUSR1  # worker -> supervisor: reload asked; supervisor -> workers: check now
_reloads: set[asyncio.Task] = set()  # running reloads the signal started (a task needs a reference)


def tell_workers() -> bool:
    """From a worker: ask the supervisor to have every worker check the index now. False when this process
    is not a worker of a running supervisor (its parent changed: the supervisor is gone)."""
    supervisor = json.loads(os.environ.get(WORKER_ENV, "{}")).get("supervisor")
    if supervisor is None or os.getppid() != supervisor:
        return False
    os.kill(supervisor, RELOAD_SIGNAL)
    return True


def on_reload_signal(live) -> None:
    """In a worker's event loop: on RELOAD_SIGNAL, switch to the index on disk if it changed."""
    loop = asyncio.get_running_loop()

    def reload() -> None:
        task = loop.create_task(live.reload(force=True))
        _reloads.add(task)
        task.add_done_callback(_reloads.discard)

    loop.add_signal_handler(RELOAD_SIGNAL, reload)


def ignore_reload_signal() -> None:
    """On shutdown: a late signal must not stop the worker (its default action would)."""
    with contextlib.suppress(RuntimeError, ValueError):
        asyncio.get_running_loop().remove_signal_handler(RELOAD_SIGNAL)
    signal.signal(RELOAD_SIGNAL, signal.SIG_IGN)


def loader(name: str) -> Callable:
    """The index loader named ``"module:function"``."""
    module, _, function = name.partition(":")
    return getattr(importlib.import_module(module), function)


def _check(settings: dict, load: str) -> str | None:
    from indexer.errors import QuarryError
    from server.settings import Settings

    try:
        retriever = loader(load)(Settings.from_env(**settings))
    except QuarryError as e:
        return str(e)
    retriever.index.close()
    return None


def check_index(settings, load: str = OPEN_RETRIEVER) -> str | None:
    """Open the index and the model as a worker would, in a throwaway process (so the supervisor never
    holds a model: ~300 MB); why it cannot be served, or None."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(_check, settings.to_dict(), load).result()


def listen(host: str, port: int, n: int, backlog: int = 2048) -> list[socket.socket]:
    """``n`` listening TCP sockets on ``host:port`` (port 0: a free one, the same for all), with SO_REUSEPORT
    when the platform has it (else one socket, shared by every worker). Raises OSError."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                         proto=socket.IPPROTO_TCP)[0]
    shared = not hasattr(socket, "SO_REUSEPORT")
    if not shared and port:
        # SO_REUSEPORT would let these sockets join another server's on the same port (same user) and
        # split its connections: first make sure nothing listens there (a plain bind then fails)
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    sockets: list[socket.socket] = []
    try:
        for _ in range(1 if shared else n):
            # protocol IPPROTO_TCP, not 0: asyncio then sets TCP_NODELAY on accepted connections (without it
            # small responses wait for delayed ACKs, ~40 ms each)
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if not shared:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind(address)
            address = sock.getsockname()  # the port picked for the first, for the others
            sock.listen(backlog)
            sock.set_inheritable(True)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets * n if shared else sockets


def serve_workers(settings, workers: int, log_level: str = "info", load: str = OPEN_RETRIEVER) -> int:
    """Run ``workers`` processes until SIGINT/SIGTERM; ``load`` ("module:function") opens indexes in them."""
    import uvicorn
    from uvicorn.config import STARTUP_FAILURE
    from uvicorn.supervisors import Multiprocess
    from uvicorn.supervisors.multiprocess import Process

    from server.protocol import raise_open_files, uvicorn_options

    os.environ[WORKER_ENV] = json.dumps({"settings": settings.to_dict(), "log_level": log_level, "load": load,
                                         "supervisor": os.getpid()})
    config = uvicorn.Config("server.app:worker_app", factory=True, host=settings.host, port=settings.port,
                            workers=workers, log_level=log_level, access_log=settings.access_log,
                            timeout_graceful_shutdown=5, **uvicorn_options(settings))  # server/protocol.py
    raise_open_files(settings.max_connections)
    try:
        sockets = listen(settings.host, settings.port, workers, config.backlog)
    except OSError as e:
        print(f"error: cannot listen on {settings.host}:{settings.port}: {e.strerror or e}", file=sys.stderr)
        return 1
    url = discovery.url_for(settings.host, sockets[0].getsockname()[1])

    class Supervisor(Multiprocess):
        """uvicorn's supervisor, with worker i always on sockets[i] (theirs hands every worker all sockets)."""

        failed = False

        def spawn(self, i: int) -> Process:
            process = Process(self.config, [self.sockets[i]])
            # the worker starts with RELOAD_SIGNAL ignored (kept across exec), not with its default action
            # (exit), until its event loop handles it
            handler = signal.signal(RELOAD_SIGNAL, signal.SIG_IGN)
            try:
                process.start()
            finally:
                signal.signal(RELOAD_SIGNAL, handler)
            return process

        def handle_usr1(self) -> None:  # RELOAD_SIGNAL from a worker: every worker checks the index now
            for process in self.processes:
                if process.pid is None:  # not started
                    continue
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid, RELOAD_SIGNAL)

        def init_processes(self) -> None:
            self.processes = [self.spawn(i) for i in range(len(self.sockets))]
            if not all(p.wait_until_ready(300, self.should_exit) for p in self.processes):
                return  # a worker failed to start: the supervisor sees it and stops
            discovery.advertise(settings.index_dir, url, bool(settings.api_key))
            log.info("quarry is answering at %s with %d workers (page: %s/, API docs: %s/docs)", url, workers, url,
                     url)

        def restart_all(self) -> None:  # SIGHUP: replace each worker once its replacement is ready
            for i, old in enumerate(self.processes):
                if self.should_exit.is_set():
                    return
                new = self.spawn(i)
                if not new.wait_until_ready(self.config.timeout_worker_healthcheck, self.should_exit):
                    new.kill()
                    new.join()
                    return
                old.terminate()
                old.join()
                self.processes[i] = new

        def keep_subprocess_alive(self) -> None:
            for i, process in enumerate(self.processes):
                if self.should_exit.is_set() or process.is_alive(timeout=self.config.timeout_worker_healthcheck):
                    continue
                process.kill()  # dead or hung
                process.join()
                if process.exitcode == STARTUP_FAILURE:  # would fail the same way again
                    log.error("worker %s failed to start: stopping", process.pid)
                    self.failed = True
                    self.should_exit.set()
                    return
                log.warning("worker %s died; starting another", process.pid)
                self.processes[i] = self.spawn(i)

    supervisor = Supervisor(config, sockets=sockets)
    try:
        supervisor.run()
    except KeyboardInterrupt:
        return 130
    finally:
        discovery.withdraw(settings.index_dir)
        for sock in set(sockets):
            sock.close()
    return 1 if supervisor.failed else 0
