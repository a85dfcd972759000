"""The HTTP routes: thin translations between JSON and the retriever's public API."""

from __future__ import annotations

import os
from typing import Any

import anyio
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse

from retriever.pipeline import Retriever
from server.context import context_bounds
from server.deps import API_KEY_HEADER, get_live, get_retriever, get_settings, key_matches, require_api_key
from server.live import LiveIndex, index_version
from server.schemas import (
    AskRequest,
    AskResponse,
    ContextResponse,
    DocumentsResponse,
    HealthResponse,
    Problem,
    ReloadResponse,
)
from server.settings import Settings


def hide_paths(message: str, index_dir) -> str:
    """``message`` with the index folder's path (as given and resolved) replaced by ``INDEX_DIR``."""
    for path in sorted({str(index_dir), os.path.abspath(index_dir), os.path.realpath(index_dir)}, key=len,
                       reverse=True):
        message = message.replace(path, "INDEX_DIR")
    return message


public = APIRouter()
protected = APIRouter(dependencies=[Depends(require_api_key)],
                      responses={401: {"model": Problem, "description": "QUARRY_API_KEY is set and X-API-Key is not"}})

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "the body is not JSON"},
    413: {"model": Problem, "description": "the body is over the size limit"},
    422: {"model": Problem, "description": "empty or over-long question, k out of range, unknown field"}}


@public.get("/health", response_model=HealthResponse, summary="200 once the index is loaded; which build is served")
async def health(request: Request, retriever: Retriever = Depends(get_retriever),
                 settings: Settings = Depends(get_settings)) -> JSONResponse:
    live = getattr(request.app.state, "live", None)
    manifest = retriever.index.manifest
    # where the index lives on disk is for the key holder only (none configured: for nobody)
    trusted = key_matches(request.headers.get(API_KEY_HEADER), settings.api_key) if settings.api_key else False
    reload_error = live.reload_error if live is not None else None
    if reload_error and not trusted:
        reload_error = hide_paths(reload_error, settings.index_dir)
    body = HealthResponse(
        index_dir=str(os.path.abspath(settings.index_dir)) if trusted else None,
        status="ok", documents=len(manifest.get("documents", ())),
        chunks=retriever.index.n_chunks, model=retriever.encoder.name,
        cross_encoder=getattr(retriever.cross_encoder, "name", None),
        reader=getattr(retriever.reader, "name", None),
        reader_abstain=retriever.reader is not None and retriever.config.reader_abstain,
        version=index_version(retriever), updated_at=manifest.get("updated_at"),
        reload_error=reload_error, pid=os.getpid()).model_dump()
    if not trusted:
        del body["index_dir"]  # omitted, not null: nothing says where the index lives
    return JSONResponse(body)


@protected.post("/ask", response_model=AskResponse, responses=_ERRORS,
                summary="Answer a question: the answering sentence (or null) and the top k passages")
async def ask(body: AskRequest, request: Request, retriever: Retriever = Depends(get_retriever)) -> JSONResponse:
    """The same object ``ask --json`` prints; every span is a verbatim slice of its document."""
    # a few threads at a time: the work holds the GIL, and more threads only contend for it
    limiter = getattr(request.app.state, "ask_limiter", None)
    result = await anyio.to_thread.run_sync(retriever.ask, body.question, body.k, limiter=limiter)
    return JSONResponse(result.to_dict())  # already the contract: skip re-validating it


@protected.post("/admin/reload", response_model=ReloadResponse,
                responses={409: {"model": Problem, "description": "the index on disk cannot be opened: "
                                                                  "the one served keeps serving"}},
                summary="Switch to the index on disk now if it was rebuilt (the server also checks every few seconds)")
async def reload(request: Request, live: LiveIndex = Depends(get_live)) -> dict:
    outcome = await live.reload(force=True)
    tell_workers = getattr(request.app.state, "tell_workers", None)
    if tell_workers is not None and not outcome.reloaded:  # --workers N: the others check too (a switch
        tell_workers()  # here has told them already: LiveIndex.on_switch)
    if outcome.error is not None:
        raise HTTPException(409, outcome.error)
    return {"reloaded": outcome.reloaded, "version": outcome.version, "previous": outcome.previous}


@protected.get("/documents", response_model=DocumentsResponse,
               summary="The indexed documents (or those named by source), with their titles")
def documents(source: list[str] | None = Query(None, description="only these documents (repeatable); "
                                                                 "an unknown one is left out"),
              retriever: Retriever = Depends(get_retriever)) -> dict:
    store = retriever.index.store
    docs = store.documents()
    if source is not None:
        wanted = set(source)
        docs = [d for d in docs if d["source"] in wanted]
    return {"documents": [{**d, "title": store.title(d["source"])} for d in docs]}


@protected.get("/context", response_model=ContextResponse,
               responses={404: {"model": Problem, "description": "no indexed document has this source"},
                          422: {"model": Problem, "description": "the range is outside the document"}},
               summary="A span of an indexed document with the text around it")
def context(source: str = Query(description="a document's source, as in passages[].source"),
            start_char: int = Query(ge=0), end_char: int = Query(ge=0),
            chars: int | None = Query(None, ge=0, description="context on each side (default and maximum: "
                                                               "the server's context_chars)"),
            retriever: Retriever = Depends(get_retriever), settings: Settings = Depends(get_settings)) -> dict:
    """Only indexed documents, looked up by their ``source`` in the index: never a path on disk."""
    text = retriever.index.store.document_text(source)
    if text is None:
        raise HTTPException(404, f"no indexed document is named {source!r}")
    if not start_char <= end_char <= len(text):
        raise HTTPException(422, f"the range {start_char}-{end_char} is outside {source} ({len(text)} characters)")
    width = settings.context_chars if chars is None else min(chars, settings.context_chars)
    lo, hi = context_bounds(text, start_char, end_char, width)
    return {"source": source, "start_char": start_char, "end_char": end_char,
            "text": text[start_char:end_char], "before": text[lo:start_char], "after": text[end_char:hi],
            "context_start": lo, "context_end": hi, "document_chars": len(text)}
