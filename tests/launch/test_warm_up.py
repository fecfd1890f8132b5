"""Warm-up at start: registered EHRs' discovery documents and keys are fetched before the
first launch needs them, and an unreachable EHR delays nothing."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import httpx
import pytest

import smart
from app.config import EhrConfig
from app.launch import service
from app.main import create_app


class Recording(httpx.AsyncClient):
    """An outbound client that remembers every URL it was asked for."""

    def __init__(self) -> None:
        self.urls: list[str] = []
        super().__init__(timeout=5, event_hooks={"request": [self._record]})

    async def _record(self, request: httpx.Request) -> None:
        self.urls.append(str(request.url))


@pytest.fixture
async def http() -> AsyncIterator[Recording]:
    async with Recording() as client:
        yield client


@pytest.fixture(autouse=True)
def empty_caches(monkeypatch) -> None:
    monkeypatch.setattr(service, "DISCOVERY_CACHE", smart.DiscoveryCache())
    monkeypatch.setattr(service, "JWKS_CACHE", smart.JwksCache())


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}/fhir"


async def test_warm_up_fills_the_discovery_and_key_caches(sim, http):
    warmed = await service.warm_up(http, [sim.fhir_base])
    fetched = len(http.urls)

    assert warmed == 1
    config = await smart.discover(http, sim.fhir_base, cache=service.DISCOVERY_CACHE)
    assert config.jwks_uri is not None
    await service.JWKS_CACHE.get(http, config.jwks_uri)
    assert len(http.urls) == fetched  # the first launch finds both in the caches
    assert config.jwks_uri in http.urls


async def test_an_unreachable_ehr_is_skipped_and_the_others_still_warm(sim, http):
    warmed = await service.warm_up(http, [closed_port_url(), sim.fhir_base])

    assert warmed == 1
    assert service.DISCOVERY_CACHE.get(sim.fhir_base) is not None


async def test_the_app_warms_its_registered_ehrs_in_the_background_at_start(settings, sim):
    configured = settings.model_copy(
        update={"ehrs": [EhrConfig(issuer=sim.fhir_base, client_id="vl-public")]}
    )
    app = create_app(configured)
    async with app.router.lifespan_context(app):
        assert await app.state.warm_up >= 1

    assert service.DISCOVERY_CACHE.get(sim.fhir_base) is not None
