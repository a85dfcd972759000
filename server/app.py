"""The FastAPI app: wiring only (settings, lifespan, routes, error handlers, the page)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from collections.abc import Callable
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline

from retriever.pipeline import Retriever
from server import api, errors, workers
from server.deps import open_retriever
from server.limits import BodyLimit
from server.live import LiveIndex
from server.security import Guard, allowed_hosts
from server.settings import Settings

log = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent / "static"


def create_app(settings: Settings | None = None,
               load: Callable[[Settings], Retriever] = open_retriever, worker: bool = False) -> FastAPI:
    """The app; ``load(settings)`` opens the index in the lifespan, and again for each rebuilt index it
    switches to (server/live.py). ``uvicorn --factory server.app:create_app`` works. ``worker``: one of
    the processes of ``--workers N``, which reloads on the supervisor's signal and passes
    ``POST /admin/reload`` on to the others (server/workers.py)."""
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        live = LiveIndex(settings, load)
        served = await live.start()
        app.state.live = live
        app.state.ask_limiter = anyio.CapacityLimiter(settings.ask_threads)
        log.info("serving %s (%d chunks, version %s)", settings.index_dir, served.retriever.index.n_chunks,
                 served.version)
        watch = asyncio.create_task(live.watch(settings.watch_seconds)) if settings.watch_seconds > 0 else None
        if worker:  # a switch here, whoever noticed the rebuild, has every worker check at once
            live.on_switch = workers.tell_workers
            workers.on_reload_signal(live)
        try:
            yield
        finally:
            if worker:
                workers.ignore_reload_signal()
            if watch is not None:
                watch.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watch
            live.close()

    # the HTTP server itself answers 400 to a request it cannot read (a header with control characters,
    # a Content-Length that is no number), before any route: every operation can get one
    app = FastAPIOffline(title="quarry", version="0.1.0", lifespan=lifespan,
                         responses={400: {"description": "a request the HTTP server cannot read (malformed "
                                                         "headers or framing), or a body that is not JSON"}},
                         description="Extractive, cited answers from a folder of documents. "
                                     "Every span is a verbatim slice: `document[start_char:end_char] == text`.")
    app.state.settings = settings
    app.state.tell_workers = workers.tell_workers if worker else None
    errors.install(app)
    app.include_router(api.public)
    app.include_router(api.protected)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(Guard, hosts=allowed_hosts(settings.host, settings.allowed_hosts))  # outermost: first
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_api_route("/", lambda: FileResponse(STATIC / "index.html"), methods=["GET", "HEAD"],
                      include_in_schema=False)
    return app


def worker_app() -> FastAPI:
    """The app of one worker process of ``python -m server --workers N``: the settings, log level and
    index loader come from the environment the supervisor set (server/workers.py)."""
    from server.runtime import set_model_threads, setup_logging
    from server.workers import WORKER_ENV, loader

    spec = json.loads(os.environ[WORKER_ENV])
    settings = Settings.from_env(**spec["settings"])
    setup_logging(spec["log_level"])
    set_model_threads(settings.threads)
    return create_app(settings, load=loader(spec["load"]), worker=True)
