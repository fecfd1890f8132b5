"""The EHR-registration API (``/api/v1/ehrs``): admins list, register, replace and remove the
EHRs allowed to launch ValueLoop; client secrets go in and never come out; removing an EHR
ends its clinicians' sessions."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import sqlalchemy as sa
from sqlmodel import col

from app.ehrs.models import RegisteredEhr
from app.launch.models import AppSession
from tests.sim_ehr import full_launch

PROBLEM_JSON = "application/problem+json"
SECRET = "client-secret-that-must-never-come-back"


def registration(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "issuer": "https://ehr.example.org/fhir/",
        "client_id": "valueloop",
        "client_auth": "client_secret_basic",
        "client_secret": SECRET,
        "name": "Riverside EHR",
        "frame_origins": ["https://ehr.example.org"],
        "scopes": ["launch", "openid", "fhirUser"],
    }
    body.update(overrides)
    return body


async def register(client: httpx.AsyncClient, admin: dict[str, str], **overrides: Any) -> Any:
    response = await client.post("/api/v1/ehrs", json=registration(**overrides), headers=admin)
    assert response.status_code == 201, response.text
    assert SECRET not in response.text
    return response.json()


def assert_problem(response: httpx.Response, status: int, slug: str | None = None) -> Any:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    if slug is not None:
        assert body["type"] == f"urn:valueloop:problem:{slug}"
    return body


async def stored_ehrs(session) -> list[RegisteredEhr]:
    return list((await session.scalars(sa.select(RegisteredEhr))).all())


async def app_sessions_of(factory, ehr_id: str) -> list[AppSession]:
    async with factory() as session:
        result = await session.scalars(
            sa.select(AppSession).where(col(AppSession.ehr_id) == uuid.UUID(ehr_id))
        )
        return list(result.all())


# --- admins ------------------------------------------------------------------------------------


async def test_admin_registers_an_ehr_and_the_secret_never_comes_back(client, tokens):
    admin = tokens.header("admin")

    created = await register(client, admin)
    listed = await client.get("/api/v1/ehrs", headers=admin)

    assert created["issuer"] == "https://ehr.example.org/fhir"
    assert (created["name"], created["client_id"], created["client_auth"]) == (
        "Riverside EHR",
        "valueloop",
        "client_secret_basic",
    )
    assert created["frame_origins"] == ["https://ehr.example.org"]
    assert created["scopes"] == ["launch", "openid", "fhirUser"]
    assert listed.status_code == 200, listed.text
    assert listed.json() == [created]
    for response_body in (created, listed.json()[0]):
        assert not {key for key in response_body if "secret" in key}
    assert SECRET not in listed.text


async def test_secret_is_stored_encrypted_and_not_echoed_in_any_form(client, tokens, session):
    admin = tokens.header("admin")
    await register(client, admin)

    [stored] = await stored_ehrs(session)
    listed = await client.get("/api/v1/ehrs", headers=admin)

    assert stored.client_secret_encrypted
    assert SECRET not in stored.client_secret_encrypted
    assert stored.client_secret_encrypted not in listed.text


async def test_registering_the_same_issuer_again_replaces_the_registration(client, tokens, session):
    admin = tokens.header("admin")
    first = await register(client, admin)

    second = await register(
        client,
        admin,
        issuer="https://ehr.example.org/fhir",
        client_id="valueloop-2",
        client_auth="none",
        client_secret=None,
        name=None,
        scopes=None,
    )

    assert second["id"] == first["id"]
    assert (second["client_id"], second["client_auth"], second["scopes"]) == (
        "valueloop-2",
        "none",
        None,
    )
    assert second["name"] == "ehr.example.org"
    listed = (await client.get("/api/v1/ehrs", headers=admin)).json()
    assert [ehr["client_id"] for ehr in listed] == ["valueloop-2"]
    [stored] = await stored_ehrs(session)
    assert stored.client_secret_encrypted is None  # a public client keeps no old secret


async def test_admin_deletes_an_ehr_and_a_second_delete_is_404(client, tokens):
    admin = tokens.header("admin")
    kept = await register(client, admin, issuer="https://kept.example.org/fhir")
    removed = await register(client, admin)

    response = await client.delete(f"/api/v1/ehrs/{removed['id']}", headers=admin)
    again = await client.delete(f"/api/v1/ehrs/{removed['id']}", headers=admin)

    assert response.status_code == 204, response.text
    listed = (await client.get("/api/v1/ehrs", headers=admin)).json()
    assert [ehr["id"] for ehr in listed] == [kept["id"]]
    assert_problem(again, 404, "ehr-not-found")


# --- invalid registrations ---------------------------------------------------------------------


INVALID: dict[str, dict[str, Any]] = {
    "http off loopback": {"issuer": "http://ehr.example.org/fhir"},
    "issuer with a query": {"issuer": "https://ehr.example.org/fhir?tenant=1"},
    "issuer with a fragment": {"issuer": "https://ehr.example.org/fhir#top"},
    "relative issuer": {"issuer": "ehr.example.org/fhir"},
    "javascript issuer": {"issuer": "javascript:alert(1)"},
    "secret without client_secret_basic": {"client_auth": "none"},
    "secret with private_key_jwt": {"client_auth": "private_key_jwt"},
    "client_secret_basic without a secret": {"client_secret": None},
    "frame origin with a path": {"frame_origins": ["https://ehr.example.org/chart"]},
}


async def test_invalid_registration_is_422_and_stores_nothing(client, tokens, session_factory):
    for case, overrides in INVALID.items():
        response = await client.post(
            "/api/v1/ehrs", json=registration(**overrides), headers=tokens.header("admin")
        )

        assert response.status_code == 422, f"{case}: {response.text}"
        assert_problem(response, 422, "invalid-ehr-registration")
        assert SECRET not in response.text, case
    unknown_field = await client.post(
        "/api/v1/ehrs", json=registration(client_secret_plain="x"), headers=tokens.header("admin")
    )
    assert_problem(unknown_field, 422)
    async with session_factory() as session:
        assert await stored_ehrs(session) == []


async def test_loopback_http_issuer_is_accepted_for_development(client, tokens):
    created = await register(
        client,
        tokens.header("admin"),
        issuer="http://127.0.0.1:8100/fhir",
        frame_origins=["http://127.0.0.1:8100"],
    )

    assert created["issuer"] == "http://127.0.0.1:8100/fhir"


# --- other roles -------------------------------------------------------------------------------


async def test_only_admins_manage_ehrs(client, tokens, session_factory):
    existing = await register(client, tokens.header("admin"))

    for role in ("lead", "analyst"):
        headers = tokens.header(role)
        listing = await client.get("/api/v1/ehrs", headers=headers)
        creating = await client.post(
            "/api/v1/ehrs",
            json=registration(issuer="https://sneaky.example.org/fhir"),
            headers=headers,
        )
        deleting = await client.delete(f"/api/v1/ehrs/{existing['id']}", headers=headers)

        for response in (listing, creating, deleting):
            body = assert_problem(response, 403)
            assert "admin" in body["detail"], role
            assert SECRET not in response.text
    assert_problem(await client.get("/api/v1/ehrs"), 401)
    async with session_factory() as session:
        issuers = [ehr.issuer for ehr in await stored_ehrs(session)]
    assert issuers == ["https://ehr.example.org/fhir"]


# --- removing an EHR ends its sessions ---------------------------------------------------------


async def test_deleting_an_ehr_ends_its_clinicians_sessions_and_launches(
    client, tokens, ehr, ehr_http, session_factory
):
    admin = tokens.header("admin")
    handle = await full_launch(client, ehr_http, ehr.sim)
    clinician = {"X-ValueLoop-Session": handle}
    assert (await client.get("/api/v1/clinician/context", headers=clinician)).status_code == 200
    [registered] = (await client.get("/api/v1/ehrs", headers=admin)).json()
    assert len(await app_sessions_of(session_factory, registered["id"])) == 1

    response = await client.delete(f"/api/v1/ehrs/{registered['id']}", headers=admin)

    assert response.status_code == 204, response.text
    assert (await client.get("/api/v1/clinician/context", headers=clinician)).status_code == 401
    assert await app_sessions_of(session_factory, registered["id"]) == []
    relaunch = await client.get("/launch", params={"iss": ehr.iss, "launch": "any"})
    assert relaunch.status_code == 403
