"""Faults on purpose: latency, errors, throttling, broken and slow bodies from the simulated EHR.

Real EHRs are slow, rate-limit, fail over and sometimes cut a response short; ValueLoop's
client must survive all of it (timeouts, retries with ``Retry-After``, clear errors). The
switches are ``Faults`` (``ehr_sim.config``) held live on ``SimState.faults``; tests replace
them with ``PUT /_sim/faults``. They act on the FHIR API (everything under ``/fhir``,
``/metadata`` included) and on the token endpoint, in this order:

1. ``latency_ms`` before anything else;
2. the one-shot counters, each answering the next N requests and counting itself down:
   ``too_many_requests`` (429 with ``Retry-After``), ``service_unavailable`` (503),
   ``malformed_json`` (the real answer cut in half, sent as a 200);
3. ``error_rate``: that fraction of requests answered 500, drawn from a random generator
   seeded with ``settings.seed`` and reseeded on every ``PUT``, so a test sees the same
   sequence every run;
4. ``slow_body_ms``: whatever the answer, its body arrives in pieces spread over that long.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from fastapi import APIRouter, Request
from starlette.applications import Starlette
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ehr_sim.config import Faults
from ehr_sim.state import SimState

__all__ = ["FaultMiddleware", "router"]

_OAUTH_ENDPOINT = "/auth/token"  # the token endpoint; the only OAuth path with faults
_FHIR_JSON = b"application/fhir+json"
_SLOW_BODY_PIECES = 5

router = APIRouter(prefix="/_sim", tags=["simulator"])


def _sim_state(app: Starlette) -> SimState:
    state: SimState = app.state.sim
    return state


@router.get("/faults")
async def get_faults(request: Request) -> Faults:
    """The fault switches in force now (one-shot counters show what is left)."""
    return _sim_state(request.app).faults


@router.put("/faults")
async def put_faults(faults: Faults, request: Request) -> Faults:
    """Replace every fault switch at once; ``{}`` switches them all off."""
    state = _sim_state(request.app)
    state.faults = faults
    state.reseed_faults()
    return faults


def _applies(path: str) -> bool:
    return path == "/fhir" or path.startswith("/fhir/") or path == _OAUTH_ENDPOINT


class FaultMiddleware:
    """Pure ASGI, so it can delay, replace, truncate or dribble a response as it is sent."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _applies(scope["path"]):
            await self.app(scope, receive, send)
            return
        application: Starlette = scope["app"]
        faults = _sim_state(application).faults
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        if faults.slow_body_ms:
            send = _slow_body(send, faults.slow_body_ms / 1000)
        # Read the live switches again: a PUT may have replaced them during the sleep.
        faults = _sim_state(application).faults
        is_fhir = scope["path"] != _OAUTH_ENDPOINT
        # The check and the countdown happen without an await between them, so two
        # concurrent requests on the event loop never both take the last one.
        if faults.too_many_requests:
            faults.too_many_requests -= 1
            # RFC 9110 section 10.2.3: Retry-After in seconds tells the client when to retry.
            headers = [(b"retry-after", str(faults.retry_after_seconds).encode())]
            await _send_error(send, 429, is_fhir, headers)
            return
        if faults.service_unavailable:
            faults.service_unavailable -= 1
            await _send_error(send, 503, is_fhir)
            return
        if faults.malformed_json:
            faults.malformed_json -= 1
            await self.app(scope, receive, _truncated(send))
            return
        if faults.error_rate and _sim_state(application).fault_random.random() < faults.error_rate:
            await _send_error(send, 500, is_fhir)
            return
        await self.app(scope, receive, send)


# status: (OperationOutcome issue type, OAuth error code, text)
_ERRORS = {
    429: ("throttled", "temporarily_unavailable", "Too many requests (simulated)."),
    500: ("exception", "server_error", "Internal server error (simulated)."),
    503: ("transient", "temporarily_unavailable", "Service unavailable (simulated)."),
}


async def _send_error(
    send: Send,
    status: int,
    is_fhir: bool,
    extra_headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    """An error as the endpoint would give it: OperationOutcome for FHIR (http.html#errors),
    an RFC 6749 section 5.2 style JSON error for the token endpoint."""
    code, oauth_error, text = _ERRORS[status]
    document: dict[str, Any]
    if is_fhir:
        document = {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": code, "diagnostics": text}],
        }
        content_type = _FHIR_JSON
    else:
        document = {"error": oauth_error, "error_description": text}
        content_type = b"application/json"
    body = json.dumps(document).encode()
    headers = [
        (b"content-type", content_type),
        (b"content-length", str(len(body)).encode()),
        *(extra_headers or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _truncated(send: Send) -> Send:
    """Collects the real answer and sends its first half as a 200 FHIR JSON response.

    Cutting a JSON document short anywhere before its last character leaves invalid JSON,
    which is what a proxy that drops the connection mid-body hands a client.
    """
    body = bytearray()

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            return
        if message["type"] != "http.response.body":
            await send(message)
            return
        body.extend(message.get("body", b""))
        if message.get("more_body", False):
            return
        cut = bytes(body[: len(body) // 2]) or b'{"resourceType": "Bundle", "entry": ['
        headers = [(b"content-type", _FHIR_JSON), (b"content-length", str(len(cut)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": cut})

    return wrapped


def _slow_body(send: Send, seconds: float) -> Send:
    """Sends the headers at once and the body in pieces, pausing ``seconds`` in all.

    What a slow network or an EHR streaming a big Bundle looks like: the status arrives in
    time, the body does not, and only a read timeout notices.
    """

    async def wrapped(message: Message) -> None:
        # Headers (Content-Length included) go out untouched: every byte still comes.
        if message["type"] != "http.response.body":
            await send(message)
            return
        body: bytes = message.get("body", b"")
        more = message.get("more_body", False)
        size = -(-len(body) // _SLOW_BODY_PIECES) or 1
        pieces = [body[i : i + size] for i in range(0, len(body), size)] or [b""]
        for index, piece in enumerate(pieces):
            await asyncio.sleep(seconds / len(pieces))
            last = index == len(pieces) - 1
            await send({"type": "http.response.body", "body": piece, "more_body": more or not last})

    return wrapped
