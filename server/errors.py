"""Errors as JSON: every 4xx/5xx body is ``{"detail": "one line naming the problem"}``."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from indexer.errors import IndexDirError, QuarryError, QueryError

log = logging.getLogger(__name__)

_EXAMPLE = '{"question": "...", "k": 5}'


def validation_message(errors: list[dict]) -> tuple[int, str]:
    """Status and one line for pydantic's error list: 400 for a body that is not JSON, else 422."""
    for e in errors:
        if e.get("type") == "json_invalid":
            why = (e.get("ctx") or {}).get("error", "")
            return 400, f"the body is not valid JSON ({why}); send an object like {_EXAMPLE}"
    parts = []
    for e in errors:
        loc = [str(x) for x in e.get("loc", ()) if x != "body"]
        where = ".".join(loc)
        if e.get("type") == "missing" and not loc:
            parts.append(f"the body must be a JSON object like {_EXAMPLE}")
        elif e.get("type") in ("model_attributes_type", "dict_type") and not loc:
            parts.append(f"the body must be a JSON object like {_EXAMPLE} (with Content-Type: application/json)")
        elif e.get("type") == "string_too_short" and loc[-1:] == ["question"]:
            parts.append("question: the question is empty")
        elif e.get("type") == "extra_forbidden":
            parts.append(f"unknown field {where!r} (the fields are question and k)")
        else:
            msg = str(e.get("msg", "invalid")).removeprefix("Value error, ")  # pydantic's wording for a ValueError
            parts.append(f"{where}: {msg}" if where else msg)
    return 422, "; ".join(parts) or "invalid request"


async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    status, message = validation_message(list(exc.errors()))
    return JSONResponse({"detail": message}, status_code=status)


async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    return JSONResponse({"detail": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers)


async def _query(request: Request, exc: QueryError) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=422)


async def _quarry(request: Request, exc: QuarryError) -> JSONResponse:
    """503 when the served index cannot be read (deleted or damaged on disk by hand: the message says how
    to rebuild it; the server switches to a rebuilt one by itself), 500 for anything else."""
    log.error("%s: %s", request.url.path, exc)
    return JSONResponse({"detail": str(exc)}, status_code=503 if isinstance(exc, IndexDirError) else 500)


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    # Starlette types a handler as taking any Exception, though it calls each with the class it is
    # registered for (encode/starlette#2417): a handler of a subclass does not type-check
    app.add_exception_handler(RequestValidationError, _validation)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http)  # type: ignore[arg-type]
    app.add_exception_handler(QueryError, _query)  # type: ignore[arg-type]
    app.add_exception_handler(QuarryError, _quarry)  # type: ignore[arg-type]
