"""Clients on ``httpx.MockTransport``: each test states exactly what the EHR answers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

import httpx
import pytest

from fhir_client import FhirClient
from tests.fhir_client.factories import BASE, TOKEN

AnyHandler = Callable[[httpx.Request], httpx.Response | Awaitable[httpx.Response]]


class Recorded:
    """A handler that keeps every request it was sent."""

    def __init__(self, handler: AnyHandler) -> None:
        self.handler = handler
        self.requests: list[httpx.Request] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        response = self.handler(request)
        if isinstance(response, httpx.Response):
            return response
        return await response


class MakeClient(Protocol):
    def __call__(
        self, handler: AnyHandler, *, token: str | None = TOKEN, **options: Any
    ) -> tuple[FhirClient, Recorded]: ...


@pytest.fixture
async def make_client() -> AsyncIterator[MakeClient]:
    """``make_client(handler, **FhirClient options)`` -> (client, recorded requests).

    Backoff is zero unless a test asks otherwise, so retry tests take no time.
    """
    opened: list[httpx.AsyncClient] = []

    def make(
        handler: AnyHandler, *, token: str | None = TOKEN, **options: Any
    ) -> tuple[FhirClient, Recorded]:
        recorded = Recorded(handler)
        http = httpx.AsyncClient(transport=httpx.MockTransport(recorded))
        opened.append(http)
        options.setdefault("backoff_base", 0.0)
        return FhirClient(http, BASE, token, **options), recorded

    yield make
    for http in opened:
        await http.aclose()
