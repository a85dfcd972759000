"""What routes depend on: the retriever (of the index served now), the settings, the API key check."""

from __future__ import annotations

import hmac
import logging
from collections.abc import AsyncIterator

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import APIKeyHeader

from retriever.batching import BatchingEncoder
from retriever.pipeline import Retriever
from server.live import LiveIndex
from server.settings import Settings

log = logging.getLogger(__name__)

API_KEY_HEADER = "X-API-Key"
_api_key = APIKeyHeader(name=API_KEY_HEADER, auto_error=False,
                        description="Required on /ask, /documents and /context when the server has QUARRY_API_KEY set.")


def open_retriever(settings: Settings) -> Retriever:
    """The index at ``settings.index_dir`` with the embedding model, behind a batching wrapper.

    Raises :class:`~indexer.errors.QuarryError` subclasses (missing, corrupt or incompatible index).
    """
    # the index's verified ONNX export (no torch) unless $QUARRY_ENCODER=torch or it is unusable;
    # always wrapped: the wrapper also bounds how many threads use the model at once (to ``encoders``)
    return Retriever.open(settings=settings.retriever_settings(),
                          wrap_encoder=lambda model: BatchingEncoder(model, settings.max_batch, settings.batch_wait_ms,
                                                                     workers=settings.encoders))


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_retriever(request: Request) -> AsyncIterator[Retriever]:
    """The retriever of the index served now; the request keeps it (even if a rebuilt index is switched
    to meanwhile) until it is done. Tests replace this with ``app.dependency_overrides``."""
    live = request.app.state.live
    served = live.acquire()
    try:
        yield served.retriever
    finally:
        live.release(served)


async def get_live(request: Request) -> LiveIndex:
    """The live index holder (set by the lifespan)."""
    live = getattr(request.app.state, "live", None)
    if live is None:
        raise HTTPException(503, "the index is not loaded")
    return live


def key_matches(key: str | None, expected: str) -> bool:
    """Whether ``key`` is the API key (compared in constant time)."""
    if not key:
        return False
    return hmac.compare_digest(key.encode(), expected.encode())


async def require_api_key(key: str | None = Security(_api_key), settings: Settings = Depends(get_settings)) -> None:
    """401 unless the server has no key, or the request's ``X-API-Key`` header matches it."""
    expected = settings.api_key
    if not expected:
        return
    if not key:
        raise HTTPException(401, f"this server needs an API key: send it in the {API_KEY_HEADER} header",
                            headers={"WWW-Authenticate": API_KEY_HEADER})
    if not key_matches(key, expected):
        raise HTTPException(401, f"the {API_KEY_HEADER} header does not match this server's API key",
                            headers={"WWW-Authenticate": API_KEY_HEADER})
