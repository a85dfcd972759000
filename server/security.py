"""What every response carries and every request must show: security headers and a known Host.

A server bound to a loopback address answers only requests naming it by a loopback name (or a name
the user lists with ``--allowed-host``): a page on another origin that re-points its own DNS name
at 127.0.0.1 (DNS rebinding) sends ``Host: evil.example`` and gets a 400. The page needs no inline
script or style and no other origin, which the Content-Security-Policy says.
"""

from __future__ import annotations

import ipaddress

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
SECURITY_HEADERS = (
    (b"content-security-policy", b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                                 b"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a bind address or name) is this machine only."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def allowed_hosts(bind: str, listed: tuple[str, ...] = ()) -> frozenset[str] | None:
    """The Host names accepted (lower case, no port), or None for any: a loopback bind accepts the
    loopback names, its own address and ``listed``; another bind (0.0.0.0, a LAN address) accepts any
    unless names are listed."""
    names = {h.lower().strip("[]") for h in listed}
    if is_loopback(bind):
        return frozenset(names | set(LOOPBACK_NAMES) | {bind.lower().strip("[]")})
    return frozenset(names | {bind.lower().strip("[]")}) if names else None


def host_name(header: str) -> str:
    """The name in a Host header, without its port: ``[::1]:8000`` -> ``::1``, ``a.b:80`` -> ``a.b``."""
    h = header.strip().lower()
    if h.startswith("["):
        return h[1:h.find("]")] if "]" in h else h
    return h.rsplit(":", 1)[0] if h.count(":") == 1 else h


class Guard:
    """ASGI middleware: refuse unknown Host headers (400) and add ``SECURITY_HEADERS`` to every response."""

    def __init__(self, app: ASGIApp, hosts: frozenset[str] | None):
        self.app = app
        self.hosts = hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        if self.hosts is not None and host_name(Headers(scope=scope).get("host", "")) not in self.hosts:
            response = PlainTextResponse("unknown Host header: this server answers only to "
                                         + ", ".join(sorted(self.hosts)) + " (add names with --allowed-host)",
                                         status_code=400)
            await response(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)
