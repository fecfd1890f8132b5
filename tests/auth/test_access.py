"""Who may call the quality API: bearer tokens (RFC 6750), roles, and how tokens are kept."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.factories import make_flag, sid

PROBLEM_JSON = "application/problem+json"

pytestmark = pytest.mark.usefixtures("known_staff")


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["detail"]
    return body


def assert_unauthorized(response: httpx.Response) -> None:
    assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")


async def issue_token(client: httpx.AsyncClient, admin: dict[str, str], **body: Any) -> Any:
    response = await client.post("/api/v1/tokens", json=body, headers=admin)
    assert response.status_code == 201, response.text
    return response.json()


async def stored_token_rows(factory: async_sessionmaker[AsyncSession]) -> list[dict[str, Any]]:
    async with factory() as session:
        result = await session.execute(sa.text("SELECT * FROM api_token"))
        return [dict(row) for row in result.mappings()]


# --- authentication ----------------------------------------------------------------------------


async def test_request_without_a_token_is_401_naming_the_bearer_scheme(client, tokens):
    response = await client.get("/api/v1/flags")

    assert_unauthorized(response)


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param("Bearer vl_not-a-token-we-issued", id="unknown"),
        pytest.param("Bearer ", id="empty"),
        pytest.param("Basic dXNlcjpwYXNz", id="basic-scheme"),
    ],
)
async def test_request_with_an_unusable_token_is_401(client, tokens, authorization):
    response = await client.get("/api/v1/flags", headers={"Authorization": authorization})

    assert_unauthorized(response)


async def test_token_prefix_shown_to_admins_is_not_a_credential(client, tokens):
    response = await client.get("/api/v1/flags", headers=bearer(tokens.admin[:10]))

    assert_unauthorized(response)


async def test_revoked_token_is_refused_with_401(client, tokens):
    issued = await issue_token(client, tokens.header("admin"), name="Temp analyst", role="analyst")
    secret = issued["token"]
    assert (await client.get("/api/v1/flags", headers=bearer(secret))).status_code == 200

    revoked = await client.delete(f"/api/v1/tokens/{issued['id']}", headers=tokens.header("admin"))

    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revoked_at"] is not None
    assert_unauthorized(await client.get("/api/v1/flags", headers=bearer(secret)))


# --- roles -------------------------------------------------------------------------------------


async def test_lead_can_read_and_move_a_flag(client, tokens, session_factory):
    flag = await make_flag(session_factory)
    lead = tokens.header("lead")

    listing = await client.get("/api/v1/flags", headers=lead)
    detail = await client.get(f"/api/v1/flags/{flag.id}", headers=lead)
    moved = await client.post(
        f"/api/v1/flags/{flag.id}/transitions",
        json={"to": "triaged"},
        headers={**lead, "If-Match": detail.headers["etag"]},
    )

    assert listing.status_code == detail.status_code == moved.status_code == 200
    assert moved.json()["timeline"][-1]["actor"] == {
        "name": "Test lead",
        "role": "lead",
        "staff_id": None,  # a service token
    }


async def test_lead_may_not_assign_an_owner(client, tokens, session_factory):
    flag = await make_flag(session_factory)

    response = await client.put(
        f"/api/v1/flags/{flag.id}/owner",
        json={"lead": sid("Dr. E. Nwosu")},
        headers={**tokens.header("lead"), "If-Match": '"v1"'},
    )

    body = assert_problem(response, 403)
    assert "analyst" in body["detail"]
    detail = await client.get(f"/api/v1/flags/{flag.id}", headers=tokens.header("lead"))
    assert (detail.json()["owner"], detail.json()["version"]) == (None, 1)


async def test_lead_may_not_export(client, tokens):
    response = await client.get("/api/v1/exports/flags", headers=tokens.header("lead"))

    assert_problem(response, 403)


@pytest.mark.parametrize("role", ["lead", "analyst"])
async def test_only_admins_manage_tokens(client, tokens, session_factory, role):
    headers = tokens.header(role)

    listing = await client.get("/api/v1/tokens", headers=headers)
    creating = await client.post(
        "/api/v1/tokens", json={"name": "Sneaky", "role": "admin"}, headers=headers
    )

    for response in (listing, creating):
        body = assert_problem(response, 403)
        assert "admin" in body["detail"]
    assert "Sneaky" not in [row["name"] for row in await stored_token_rows(session_factory)]


async def test_analyst_can_assign_and_export(client, tokens, session_factory):
    flag = await make_flag(session_factory)
    analyst = tokens.header("analyst")

    assigned = await client.put(
        f"/api/v1/flags/{flag.id}/owner",
        json={"lead": sid("Dr. E. Nwosu")},
        headers={**analyst, "If-Match": '"v1"'},
    )
    exported = await client.get("/api/v1/exports/flags", headers=analyst)

    assert assigned.status_code == 200, assigned.text
    assert exported.status_code == 200, exported.text


# --- issuing tokens ----------------------------------------------------------------------------


async def test_admin_creates_a_token_whose_secret_works_at_once(client, tokens):
    issued = await issue_token(client, tokens.header("admin"), name="Q. Lead", role="lead")

    assert issued["token"].startswith("vl_")
    assert issued["token"].startswith(issued["token_prefix"])
    assert (issued["name"], issued["role"], issued["created_by"]) == (
        "Q. Lead",
        "lead",
        "Test admin",
    )
    assert issued["revoked_at"] is None
    response = await client.get("/api/v1/flags", headers=bearer(issued["token"]))
    assert response.status_code == 200
    assert_problem(await client.get("/api/v1/tokens", headers=bearer(issued["token"])), 403)


async def test_token_list_never_shows_secrets_or_hashes(client, tokens):
    issued = await issue_token(client, tokens.header("admin"), name="Q. Analyst", role="analyst")
    secret = issued["token"]

    response = await client.get("/api/v1/tokens", headers=tokens.header("admin"))

    assert response.status_code == 200
    listed = response.json()
    assert sorted(item["name"] for item in listed) == sorted(
        ["Test lead", "Test analyst", "Test admin", "Q. Analyst"]
    )
    for item in listed:
        assert "token" not in item
        assert "token_hash" not in item
    for known in (secret, tokens.lead, tokens.analyst, tokens.admin):
        assert known not in response.text
        assert hashlib.sha256(known.encode()).hexdigest() not in response.text


async def test_tokens_are_stored_only_as_hashes(client, tokens, session_factory):
    issued = await issue_token(client, tokens.header("admin"), name="Q. Admin", role="admin")
    secrets_and_names = {
        issued["token"]: "Q. Admin",
        tokens.lead: "Test lead",
        tokens.analyst: "Test analyst",
        tokens.admin: "Test admin",
    }

    rows = await stored_token_rows(session_factory)

    assert len(rows) == len(secrets_and_names)
    hashes = {row["token_hash"]: row["name"] for row in rows}
    for secret, name in secrets_and_names.items():
        assert hashes[hashlib.sha256(secret.encode()).hexdigest()] == name
        for row in rows:
            assert all(secret not in str(value) for value in row.values())


async def test_revoking_an_unknown_token_is_404(client, tokens):
    response = await client.delete(
        "/api/v1/tokens/00000000-0000-4000-8000-000000000000", headers=tokens.header("admin")
    )

    assert_problem(response, 404)
