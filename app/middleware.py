"""ASGI middleware: request ids and access logs, body size limits, text no database can
store, cross-site writes, security headers.

Written as plain ASGI (not BaseHTTPMiddleware) so streamed responses pass straight through.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Mapping

from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import invalid_request_response, problem_response
from app.kit.text import unsafe_json_fields, unsafe_query_fields

access_log = logging.getLogger("valueloop.access")
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestContextMiddleware:
    """Give each request an id (honouring a sane ``X-Request-ID``) and log one access line.

    The log line has the path but never the query string: filters can carry free text.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else secrets.token_hex(8)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            access_log.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )


class _BodyTooLarge(HTTPException):
    """Raised from ``receive`` mid-stream. An HTTPException, because FastAPI turns any other
    error while it reads the body into a 400 ("error parsing the body")."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, _too_large_detail(max_bytes))


def _too_large_detail(max_bytes: int) -> str:
    return f"The request body is larger than {max_bytes} bytes, the limit for this API."


class BodySizeLimitMiddleware:
    """Refuse request bodies over ``max_bytes`` with 413, declared or streamed (chunked).

    ``larger`` raises the limit under a path prefix: a CDS Hooks call carries the EHR's
    prefetch (a patient's conditions and history), far more than any form or API write.
    """

    def __init__(
        self, app: ASGIApp, max_bytes: int, larger: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = dict(larger or {})

    def _limit(self, path: str) -> int:
        for prefix, limit in self.larger.items():
            if path.startswith(prefix):
                return limit
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self._limit(scope["path"])
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit():
            if int(declared) > max_bytes:
                await self._refuse(scope, receive, send, max_bytes)
                return
            # The server reads exactly the declared length (RFC 9112 section 6.3), so there
            # is nothing to count: most requests pass without the wrappers below.
            await self.app(scope, receive, send)
            return
        if b"transfer-encoding" not in headers:
            await self.app(scope, receive, send)  # no body at all (RFC 9112 section 6.3)
            return
        received = 0
        response_started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    raise _BodyTooLarge(max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _BodyTooLarge:
            if response_started:
                raise
            await self._refuse(scope, receive, send, max_bytes)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, max_bytes: int) -> None:
        response = problem_response(
            413,
            "Request body too large",
            _too_large_detail(max_bytes),
            slug="payload-too-large",
            instance=scope["path"],
        )
        await response(scope, receive, send)


# The methods that change things (RFC 9110 section 9.2.1), and so may carry a body.
_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_UNSAFE_TEXT_MESSAGE = (
    "contains a NUL character or a lone UTF-16 surrogate, which ValueLoop does not accept "
    "in any text; remove it"
)


class TextInputMiddleware:
    """Refuse NUL characters and lone surrogates in any text a request carries (path, query,
    JSON body) with a 422 naming the field, before a handler or the database sees them.

    One place for every endpoint: PostgreSQL cannot store them and a 500 (or a connection
    reset) is no answer. Sits inside the body size limit, so the body it buffers is bounded.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        fields = [("path", "path")] if "\x00" in scope["path"] else []
        fields += [(name, "query") for name in unsafe_query_fields(scope["query_string"])]
        if not fields and scope["method"] in _UNSAFE_METHODS:
            body, receive = await _buffered(receive)
            fields = [(name, "body") for name in unsafe_json_fields(body)]
        if not fields:
            await self.app(scope, receive, send)
            return
        response = invalid_request_response(
            [
                {"field": name, "in": where, "message": _UNSAFE_TEXT_MESSAGE}
                for name, where in fields
            ],
            instance=scope["path"],
        )
        await response(scope, receive, send)


async def _buffered(receive: Receive) -> tuple[bytes, Receive]:
    """Read the whole body, and a ``receive`` that hands the same messages to the app."""
    messages: list[Message] = []
    chunks: list[bytes] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break  # the client went away: let the app see that
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    replay = iter(messages)

    async def replaying_receive() -> Message:
        for message in replay:
            return message
        return await receive()

    return b"".join(chunks), replaying_receive


# Sec-Fetch-Site values a write from our own pages (or typed by the user) carries.
_OWN_FETCH_SITES = frozenset({b"same-origin", b"none"})


class SameOriginWritesMiddleware:
    """Refuse state-changing requests a browser sent from another origin, with 403.

    Our pages (the in-EHR page, the dashboard) call the API from ValueLoop's own origin, even
    inside the EHR's frame. A browser names where a request came from in ``Origin`` (RFC 6454
    section 7) and ``Sec-Fetch-Site`` (Fetch Metadata); when either says another site, the
    write is refused before any handler runs. Programs using an API token send neither and
    are unaffected. Own origin: the configured public base URL, or the origin the request was
    addressed to (scheme and ``Host``), which a cross-site page cannot choose.
    """

    def __init__(self, app: ASGIApp, *, public_origin: str) -> None:
        self.app = app
        self.public_origin = public_origin.encode("latin-1")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _UNSAFE_METHODS:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        origin = headers.get(b"origin")
        fetch_site = headers.get(b"sec-fetch-site")
        foreign_origin = origin is not None and origin not in {
            self.public_origin,
            _addressed_origin(scope, headers),
        }
        if foreign_origin or (fetch_site is not None and fetch_site not in _OWN_FETCH_SITES):
            response = problem_response(
                403,
                "Cross-site request refused",
                "This change was sent from another web site, so ValueLoop did not carry it "
                "out. Use ValueLoop's own pages or an API token.",
                slug="cross-site-request",
                instance=scope["path"],
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _addressed_origin(scope: Scope, headers: dict[bytes, bytes]) -> bytes | None:
    host = headers.get(b"host")
    return None if host is None else scope["scheme"].encode() + b"://" + host


class SecurityHeadersMiddleware:
    """Headers every response carries; API responses (which carry PHI) are never cached."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "no-referrer")
                # Nothing may frame a page that does not say who may (/docs, /redoc, JSON);
                # the in-EHR page and the launch name their EHR's origins themselves.
                headers.setdefault("Content-Security-Policy", "frame-ancestors 'none'")
                if scope["path"].startswith("/api/"):
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)
