"""The HTTP/1.1 protocol the server runs: uvicorn's, with the limits it lacks against hostile clients.

uvicorn picks httptools when it is installed (it is, with uvicorn[standard]), and httptools buffers a
request's headers without a bound (measured: 4 requests of 1 GB of headers took the server from
190 MB to 4 GB, before any middleware or the API key saw them); its keep-alive timer is re-armed by
every byte, so a client sending one header byte every few seconds holds a connection forever, and a
connection that sends nothing at all is never timed out. :class:`CappedHttpTools` adds:

- **a header cap**: more than ``max_header_bytes`` bytes (request line and headers) or more than
  ``max_headers`` header lines before the end of the headers -> ``431`` and the connection closes;
- **a connection cap**: a connection opened while ``limit_concurrency`` are open gets ``503`` and is
  closed at once (uvicorn alone answers it 503 only once its headers are in, holding it meanwhile);
- **a header deadline**: the whole request line and headers must arrive within
  ``header_timeout`` seconds of the connection opening (or of the previous response): an idle or
  slow-header connection is closed, whatever it trickles in. The body is bounded by
  :class:`server.limits.BodyLimit`, idle keep-alives by ``timeout_keep_alive``.

Without httptools, uvicorn's h11 protocol is used with ``h11_max_incomplete_event_size`` set to the
same header cap (h11 refuses a larger header block); the header deadline is then the keep-alive
timeout only. :func:`uvicorn_options` returns the ``uvicorn.Config`` keywords for both.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
from typing import Any

log = logging.getLogger(__name__)


def _status(code: int, reason: str, msg: str) -> bytes:
    body = msg.encode("ascii")
    return (f"HTTP/1.1 {code} {reason}\r\ncontent-type: text/plain; charset=utf-8\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n").encode("ascii") + body


LIMITS_ENV = "QUARRY_HTTP_LIMITS"  # the limits, for worker processes (they import this module anew)


def _limits() -> tuple[int, int, float]:
    from server.settings import Settings

    d = Settings()
    values = json.loads(os.environ.get(LIMITS_ENV) or "null") or [d.max_header_bytes, d.max_headers,
                                                                  d.header_timeout_seconds]
    return int(values[0]), int(values[1]), float(values[2])


@functools.lru_cache(maxsize=4)
def _cached(env: str | None) -> tuple[int, int, float]:
    return _limits()


def _limits_now() -> tuple[int, int, float]:
    return _cached(os.environ.get(LIMITS_ENV))


try:
    from uvicorn.protocols.http import httptools_impl
except ImportError:  # no httptools: uvicorn's h11 protocol, with h11's own header cap
    HttpToolsProtocol: type[asyncio.Protocol] | None = None
else:
    HttpToolsProtocol = httptools_impl.HttpToolsProtocol


def capped_httptools(max_header_bytes: int, max_headers: int, header_timeout: float):
    """The httptools protocol class with these limits (None when httptools is not installed)."""
    if HttpToolsProtocol is None:
        return None
    os.environ[LIMITS_ENV] = json.dumps([max_header_bytes, max_headers, header_timeout])
    return CappedHttpTools


if HttpToolsProtocol is not None:
    class CappedHttpTools(httptools_impl.HttpToolsProtocol):
        """uvicorn's httptools protocol with a header cap and a header deadline (see the module docstring)."""

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            self._limits = _limits_now()
            super().connection_made(transport)
            self._await_headers()
            if self.limit_concurrency and len(self.connections) > self.limit_concurrency:
                # over the cap: answered and closed now, so held connections never pile up file descriptors
                self._refuse(503, "Service Unavailable", "too many connections: try again shortly")

        def _await_headers(self) -> None:
            """A new request may start: count its header bytes and give it ``self._limits[2]`` seconds."""
            self._header_bytes = 0
            self._header_count = 0
            self._in_headers = True
            self._cancel_deadline()
            self._deadline: asyncio.TimerHandle | None = self.loop.call_later(self._limits[2], self._header_deadline)

        def _cancel_deadline(self) -> None:
            deadline = getattr(self, "_deadline", None)
            if deadline is not None:
                deadline.cancel()
                self._deadline = None

        def _refuse(self, code: int, reason: str, msg: str) -> None:
            self._in_headers = False
            self._cancel_deadline()
            if not self.transport.is_closing():
                self.transport.write(_status(code, reason, msg))
                self.transport.close()

        def _header_deadline(self) -> None:
            self._deadline = None
            if self._in_headers and not self.transport.is_closing():
                if self._header_bytes:
                    self._refuse(408, "Request Timeout",
                                 f"the request headers did not arrive within {self._limits[2]:g} s")
                else:
                    self.transport.close()  # an idle connection: nothing to answer

        def data_received(self, data: bytes) -> None:
            if self.transport.is_closing():
                return
            if self._in_headers:
                self._header_bytes += len(data)
                if self._header_bytes > self._limits[0] + 2:  # + the blank line ending the headers
                    # a rough count: a body sent with the headers in one packet counts too; the cap is
                    # generous for that (a real client's headers are well under 8 KiB)
                    log.warning("refused a request: over %d bytes of headers", self._limits[0])
                    self._refuse(431, "Request Header Fields Too Large",
                                 f"the request headers are too large: the limit is {self._limits[0]} bytes")
                    return
            super().data_received(data)

        def on_header(self, name: bytes, value: bytes) -> None:
            self._header_count += 1
            if self._header_count > self._limits[1]:
                if self._header_count == self._limits[1] + 1:
                    log.warning("refused a request: over %d header lines", self._limits[1])
                    self._refuse(431, "Request Header Fields Too Large",
                                 f"too many request headers: the limit is {self._limits[1]}")
                return
            super().on_header(name, value)

        def on_headers_complete(self) -> None:
            if self.transport.is_closing():
                return
            self._in_headers = False
            self._cancel_deadline()
            super().on_headers_complete()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._await_headers()  # the next request on this connection (the keep-alive timer runs too)

        def connection_lost(self, exc: Exception | None) -> None:
            self._cancel_deadline()
            super().connection_lost(exc)


def uvicorn_options(settings) -> dict[str, Any]:
    """``uvicorn.Config`` keywords enforcing the settings' header, connection and timeout limits."""
    options: dict[str, Any] = {
        "limit_concurrency": settings.max_connections or None,
        "timeout_keep_alive": settings.keep_alive_seconds,
        "h11_max_incomplete_event_size": settings.max_header_bytes,
        "backlog": max(128, min(2048, settings.max_connections or 2048)),
    }
    protocol = capped_httptools(settings.max_header_bytes, settings.max_headers, settings.header_timeout_seconds)
    options["http"] = protocol if protocol is not None else "h11"
    return options


def raise_open_files(connections: int) -> None:
    """Raise the soft limit on open files towards the hard one, so ``connections`` sockets fit beside
    the index's and the model's files (a default ``ulimit -n 1024`` is used up by ~1,000 clients)."""
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = max(soft, min(hard if hard != resource.RLIM_INFINITY else 1 << 20, (connections or 4096) + 256))
        if want > soft:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    except (ImportError, ValueError, OSError) as e:  # not POSIX, or not allowed: the OS limit stays
        log.debug("cannot raise the open-file limit: %s", e)
