"""A simulated EHR on a free port, with ValueLoop registered as a SMART client there, and
the EHR registered with ValueLoop: fixtures (a plugin of tests/conftest.py) and helpers for
the launch, clinician and EHR tests."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from app.ehrs import service as ehrs
from app.ehrs.secrets import secret_box
from app.kit.crypto import SecretBox
from ehr_sim.clients import ClientKind, ClientRegistration, ClientRegistry
from ehr_sim.config import SimSettings
from ehr_sim.server import SimServer

CLIENT_SECRET = "confidential-client-secret-for-tests"


@pytest.fixture(scope="session")
def sim(settings) -> Iterator[SimServer]:
    callback = f"{settings.base_url}/launch/callback"
    from app.ehrs.keys import client_signing_key

    public_jwk = client_signing_key(settings).public_jwk()
    clients = ClientRegistry(
        [
            ClientRegistration(client_id="vl-public", name="ValueLoop", redirect_uris=[callback]),
            ClientRegistration(
                client_id="vl-secret",
                name="ValueLoop (secret)",
                kind=ClientKind.SYMMETRIC,
                client_secret=CLIENT_SECRET,
                redirect_uris=[callback],
            ),
            ClientRegistration(
                client_id="vl-jwt",
                name="ValueLoop (key)",
                kind=ClientKind.ASYMMETRIC,
                jwks={"keys": [public_jwk]},
                redirect_uris=[callback],
            ),
        ]
    )
    with SimServer(SimSettings(patients=10), clients) as server:
        yield server


@dataclass
class Ehr:
    sim: SimServer
    box: SecretBox

    @property
    def iss(self) -> str:
        return self.sim.fhir_base


@pytest.fixture
async def ehr(sim, session, settings) -> Ehr:
    """The simulated EHR registered with ValueLoop as a public client (override per test)."""
    await ehrs.register(
        session,
        issuer=sim.fhir_base,
        client_id="vl-public",
        client_auth=ehrs.ClientAuthKind.NONE,
        box=secret_box(settings),
        frame_origins=[sim.base_url],
    )
    await session.commit()
    return Ehr(sim=sim, box=secret_box(settings))


@pytest.fixture
async def ehr_http() -> AsyncIterator[httpx.AsyncClient]:
    """The browser's side trip to the EHR's authorize page."""
    async with httpx.AsyncClient(follow_redirects=False, timeout=10) as http:
        yield http


def a_patient_and_encounter(sim: SimServer) -> tuple[str, str]:
    encounter = next(e for e in sim.state.store.all("Encounter") if e["status"] == "in-progress")
    return encounter["subject"]["reference"].split("/")[1], encounter["id"]


async def ehr_launch_id(http: httpx.AsyncClient, sim: SimServer, **context: object) -> str:
    patient, encounter = a_patient_and_encounter(sim)
    body: dict[str, object] = {
        "user": "Practitioner/prac-00001",
        "patient": patient,
        "encounter": encounter,
    }
    body.update(context)
    response = await http.post(f"{sim.base_url}/_sim/launches", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["launch"])


def query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def session_handle(page: str) -> str:
    match = re.search(r'<meta name="valueloop-session" content="([^"]+)"', page)
    assert match, "the in-EHR page carries its session handle"
    return match.group(1)


async def full_launch(
    client: httpx.AsyncClient, ehr_http: httpx.AsyncClient, sim: SimServer, **context: object
) -> str:
    """EHR launch through the real authorize endpoint; the app-session handle at the end."""
    launch = await ehr_launch_id(ehr_http, sim, **context)
    started = await client.get("/launch", params={"iss": sim.fhir_base, "launch": launch})
    assert started.status_code == 302, started.text
    authorized = await ehr_http.get(started.headers["location"])
    assert authorized.status_code == 302, authorized.text
    callback = urlsplit(authorized.headers["location"])
    finished = await client.get(f"{callback.path}?{callback.query}")
    assert finished.status_code == 200, finished.text
    return session_handle(finished.text)
