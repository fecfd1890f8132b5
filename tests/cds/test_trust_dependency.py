"""CdsCaller on a tiny app: the bearer JWT is read from the request and its aud must be
VALUELOOP_BASE_URL plus the path that was called."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from app.cds import clients
from app.cds.dependencies import CdsCaller
from app.config import Mode, Settings
from app.errors import install_error_handlers
from app.kit.time import utcnow
from tests.cds.jwt_factory import ISS, JWKS_URL, JwksServer, Signer

BASE_URL = "https://valueloop.example.org"
PATH = "/cds-services/flag-low-value"


@pytest.fixture
async def cds_app(app: FastAPI, settings: Settings) -> AsyncIterator[tuple[FastAPI, Signer]]:
    signer = Signer.es384()
    jwks = JwksServer(documents={JWKS_URL: signer.jwks()})
    tiny = FastAPI()
    install_error_handlers(tiny)
    tiny.state.settings = settings.model_copy(update={"base_url": BASE_URL})
    tiny.state.session_factory = app.state.session_factory

    @tiny.post(PATH)
    async def service(caller: CdsCaller) -> dict[str, str]:
        return {"iss": caller.iss}

    async with app.state.session_factory() as session:
        await clients.register(session, iss=ISS, jwks_url=JWKS_URL, mode=Mode.PRODUCTION)
        await session.commit()
    async with jwks.client() as http:
        tiny.state.http = http
        yield tiny, signer


def fresh_claims() -> dict[str, int]:
    now = int(utcnow().timestamp())
    return {"iat": now, "exp": now + 60}


async def call(tiny: FastAPI, headers: dict[str, str]) -> httpx.Response:
    transport = httpx.ASGITransport(app=tiny)
    async with httpx.AsyncClient(transport=transport, base_url="http://cds.test") as client:
        return await client.post(PATH, json={}, headers=headers)


async def test_a_call_without_a_bearer_token_is_401_with_www_authenticate(cds_app):
    tiny, _ = cds_app

    response = await call(tiny, {})

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_a_token_for_this_url_is_accepted_once(cds_app):
    tiny, signer = cds_app
    token = signer.sign(aud=BASE_URL + PATH, **fresh_claims())

    first = await call(tiny, {"Authorization": f"Bearer {token}"})
    again = await call(tiny, {"Authorization": f"Bearer {token}"})

    assert first.status_code == 200, first.text
    assert first.json() == {"iss": ISS}
    assert again.status_code == 401
    assert again.json()["type"].endswith("cds-token-replayed")
    assert 'error="invalid_token"' in again.headers["www-authenticate"]


async def test_a_token_for_the_request_host_rather_than_the_base_url_is_refused(cds_app):
    tiny, signer = cds_app
    token = signer.sign(aud="http://cds.test" + PATH, **fresh_claims())

    response = await call(tiny, {"Authorization": f"Bearer {token}"})

    assert response.status_code == 401
    assert response.json()["type"].endswith("cds-token-audience")
    assert token not in response.text
