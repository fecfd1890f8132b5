"""Staff sessions (``/api/v1/session``): an API token signs a browser in once, the cookie then
reads the quality API, writes also need the session's CSRF token, and sessions end on idle,
at their absolute expiry, on sign-out and when the token behind them is revoked."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from app.audit.models import AuditEvent
from app.auth.models import Role, StaffSession
from app.auth.permissions import ROLE_PERMISSIONS
from app.auth.sessions import COOKIE, CSRF_HEADER
from tests.factories import make_flag, sid

PROBLEM_JSON = "application/problem+json"

pytestmark = pytest.mark.usefixtures("known_staff")


# --- helpers -----------------------------------------------------------------------------------


def set_cookies(response: httpx.Response) -> dict[str, dict[str, str]]:
    """Each Set-Cookie by name: its value and its attributes (names lower-cased)."""
    cookies: dict[str, dict[str, str]] = {}
    for header in response.headers.get_list("set-cookie"):
        name_value, *attributes = (part.strip() for part in header.split(";"))
        name, _, value = name_value.partition("=")
        parsed = {"value": value}
        for attribute in attributes:
            key, _, attribute_value = attribute.partition("=")
            parsed[key.lower()] = attribute_value
        cookies[name] = parsed
    return cookies


@dataclass(frozen=True)
class Browser:
    """A signed-in browser: the cookie it holds and the CSRF token its page was given.

    The cookie is ``Secure``; the test client talks plain http to the app in process, so the
    Cookie header is sent explicitly, as a browser on https would."""

    cookie: str
    csrf_token: str
    info: dict[str, Any]

    @property
    def reads(self) -> dict[str, str]:
        return {"Cookie": f"{COOKIE}={self.cookie}"}

    @property
    def writes(self) -> dict[str, str]:
        return {**self.reads, CSRF_HEADER: self.csrf_token}


async def sign_in(client: httpx.AsyncClient, token: str) -> Browser:
    response = await client.post("/api/v1/session", json={"token": token})
    assert response.status_code == 201, response.text
    cookie = set_cookies(response)[COOKIE]["value"]
    body = response.json()
    return Browser(cookie=cookie, csrf_token=body["csrf_token"], info=body)


def assert_problem(response: httpx.Response, status: int, slug: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    if slug is not None:
        assert response.json()["type"] == f"urn:valueloop:problem:{slug}"


async def issue_token(client: httpx.AsyncClient, admin: dict[str, str], role: str) -> Any:
    response = await client.post(
        "/api/v1/tokens", json={"name": f"Extra {role}", "role": role}, headers=admin
    )
    assert response.status_code == 201, response.text
    return response.json()


async def staff_sessions(factory: async_sessionmaker[AsyncSession]) -> list[StaffSession]:
    async with factory() as session:
        return list((await session.scalars(sa.select(StaffSession))).all())


async def move_session_clock(factory: async_sessionmaker[AsyncSession], **values: datetime) -> None:
    """Rewrite every stored session's timestamps (tests sign in one browser at a time)."""
    async with factory() as session:
        await session.execute(sa.update(StaffSession).values(**values))
        await session.commit()


async def audit_events(factory: async_sessionmaker[AsyncSession], action: str) -> list[AuditEvent]:
    async with factory() as session:
        result = await session.scalars(
            sa.select(AuditEvent)
            .where(col(AuditEvent.action) == action)
            .order_by(col(AuditEvent.id))
        )
        return list(result.all())


async def flag_detail(client: httpx.AsyncClient, headers: dict[str, str], flag_id: Any) -> Any:
    response = await client.get(f"/api/v1/flags/{flag_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


# --- signing in --------------------------------------------------------------------------------


async def test_token_sign_in_sets_a_secure_httponly_strict_host_cookie(client, tokens, settings):
    before = datetime.now(UTC)

    response = await client.post("/api/v1/session", json={"token": tokens.analyst})

    assert response.status_code == 201, response.text
    cookie = set_cookies(response)[COOKIE]
    assert "secure" in cookie
    assert "httponly" in cookie
    assert cookie["samesite"].lower() == "strict"
    assert cookie["path"] == "/"
    assert "domain" not in cookie  # a __Host- cookie is bound to this host only
    assert len(cookie["value"]) >= 40
    body = response.json()
    assert body["name"] == "Test analyst"
    assert body["role"] == "analyst"
    assert body["method"] == "api_token"
    assert body["permissions"] == sorted(p.value for p in ROLE_PERMISSIONS[Role.ANALYST])
    assert len(body["csrf_token"]) >= 32
    idle_deadline = datetime.fromisoformat(body["expires_at"])
    idle = timedelta(minutes=settings.staff_idle_minutes)
    assert before + idle <= idle_deadline <= datetime.now(UTC) + idle
    assert response.headers["cache-control"] == "no-store"
    assert tokens.analyst not in response.text
    assert cookie["value"] not in response.text


async def test_session_cookie_is_stored_only_as_a_hash(client, tokens, session_factory):
    browser = await sign_in(client, tokens.lead)

    [stored] = await staff_sessions(session_factory)

    assert stored.secret_hash == hashlib.sha256(browser.cookie.encode()).hexdigest()
    assert browser.cookie not in repr(stored.model_dump())
    assert (stored.name, stored.role, stored.method) == ("Test lead", "lead", "api_token")


async def test_sign_in_with_an_unknown_or_revoked_token_is_401_and_sets_no_cookie(
    client, tokens, session_factory
):
    admin = tokens.header("admin")
    issued = await issue_token(client, admin, "lead")
    revoked = await client.delete(f"/api/v1/tokens/{issued['id']}", headers=admin)
    assert revoked.status_code == 200, revoked.text

    for token in ("vl_not-a-token-we-issued", issued["token"]):
        response = await client.post("/api/v1/session", json={"token": token})

        assert_problem(response, 401)
        assert COOKIE not in set_cookies(response)
    assert await staff_sessions(session_factory) == []


async def test_sign_in_is_audited_as_the_new_staff_session(client, tokens, session_factory):
    await sign_in(client, tokens.analyst)

    [session_row] = await staff_sessions(session_factory)
    [event] = await audit_events(session_factory, "sign_in")

    assert (event.actor_kind, event.actor_role, event.entity_type, event.entity_id) == (
        "staff_session",
        "analyst",
        "staff_session",
        str(session_row.id),
    )
    assert event.actor_id == f"Test analyst ({session_row.id})"
    assert tokens.analyst not in event.actor_id


# --- using the cookie --------------------------------------------------------------------------


async def test_cookie_reads_the_quality_api(client, tokens, session_factory):
    flag = await make_flag(session_factory)
    browser = await sign_in(client, tokens.lead)

    response = await client.get("/api/v1/flags", headers=browser.reads)

    assert response.status_code == 200, response.text
    assert [item["id"] for item in response.json()["items"]] == [str(flag.id)]


async def test_session_endpoint_names_the_signed_in_staff_member(client, tokens):
    browser = await sign_in(client, tokens.admin)

    response = await client.get("/api/v1/session", headers=browser.reads)

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["name"], body["role"], body["csrf_token"]) == (
        "Test admin",
        "admin",
        browser.csrf_token,
    )


async def test_requests_without_a_live_session_cookie_are_401(client):
    made_up = {"Cookie": f"{COOKIE}=made-up-value"}

    for path in ("/api/v1/session", "/api/v1/flags"):
        for headers in ({}, made_up):
            assert_problem(await client.get(path, headers=headers), 401)
    assert_problem(await client.get("/api/v1/session", headers=made_up), 401, "session-ended")


async def test_reads_with_the_cookie_are_audited_as_the_staff_session(
    client, tokens, session_factory
):
    flag = await make_flag(session_factory)
    browser = await sign_in(client, tokens.analyst)
    [session_row] = await staff_sessions(session_factory)

    response = await client.get(f"/api/v1/flags/{flag.id}", headers=browser.reads)

    assert response.status_code == 200, response.text
    [event] = [
        e for e in await audit_events(session_factory, "read") if e.entity_id == str(flag.id)
    ]
    assert event.actor_kind == "staff_session"
    assert event.actor_id == f"Test analyst ({session_row.id})"
    assert event.actor_role == "analyst"


# --- CSRF --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Write:
    """A change the dashboard makes, and how to tell whether it happened."""

    method: str
    path: str
    body: dict[str, Any] | None
    if_match: bool
    happened: Callable[[httpx.AsyncClient, dict[str, str], Any], Awaitable[bool]]


async def _commented(client, admin, ids):
    detail = await flag_detail(client, admin, ids["flag"])
    return "Checked the order." in [event["body"] for event in detail["timeline"]]


async def _owned(client, admin, ids):
    return (await flag_detail(client, admin, ids["flag"]))["owner"] is not None


async def _prioritised(client, admin, ids):
    return (await flag_detail(client, admin, ids["flag"]))["priority"] == "urgent"


async def _revoked(client, admin, ids):
    listed = (await client.get("/api/v1/tokens", headers=admin)).json()
    return next(t for t in listed if t["id"] == ids["token"])["revoked_at"] is not None


WRITES = {
    "POST comment": Write(
        "POST", "/api/v1/flags/{flag}/comments", {"body": "Checked the order."}, False, _commented
    ),
    "PUT owner": Write(
        "PUT", "/api/v1/flags/{flag}/owner", {"lead": sid("Dr. E. Nwosu")}, True, _owned
    ),
    "PATCH priority": Write(
        "PATCH", "/api/v1/flags/{flag}", {"priority": "urgent"}, True, _prioritised
    ),
    "DELETE token": Write("DELETE", "/api/v1/tokens/{token}", None, False, _revoked),
}


async def send_write(
    client: httpx.AsyncClient, write: Write, ids: dict[str, Any], headers: dict[str, str]
) -> httpx.Response:
    extra = {"If-Match": '"v1"'} if write.if_match else {}
    return await client.request(
        write.method, write.path.format(**ids), json=write.body, headers={**headers, **extra}
    )


async def write_targets(client, tokens, session_factory) -> dict[str, Any]:
    """A fresh flag and a fresh token to change."""
    flag = await make_flag(session_factory)
    token = await issue_token(client, tokens.header("admin"), "lead")
    return {"flag": str(flag.id), "token": token["id"]}


async def test_cookie_writes_without_the_sessions_csrf_token_are_refused_and_change_nothing(
    client, tokens, session_factory
):
    ids = await write_targets(client, tokens, session_factory)
    browser = await sign_in(client, tokens.admin)
    other = await sign_in(client, tokens.admin)
    without = {
        "missing": browser.reads,
        "made-up": {**browser.reads, CSRF_HEADER: "0" * 64},
        "another session's": {**browser.reads, CSRF_HEADER: other.csrf_token},
    }

    for name, write in WRITES.items():
        for csrf, headers in without.items():
            response = await send_write(client, write, ids, headers)

            assert response.status_code == 403, f"{name} with {csrf} CSRF token"
            assert_problem(response, 403, "csrf-token-missing")
            assert CSRF_HEADER in response.json()["detail"]
        assert not await write.happened(client, tokens.header("admin"), ids), name


async def test_cookie_writes_with_the_csrf_token_go_through(client, tokens, session_factory):
    browser = await sign_in(client, tokens.admin)

    for name, write in WRITES.items():
        ids = await write_targets(client, tokens, session_factory)

        response = await send_write(client, write, ids, browser.writes)

        assert response.status_code in {200, 201}, f"{name}: {response.text}"
        assert await write.happened(client, tokens.header("admin"), ids), name


async def test_bearer_writes_need_no_csrf_token(client, tokens, session_factory):
    ids = await write_targets(client, tokens, session_factory)
    write = WRITES["PATCH priority"]

    response = await send_write(client, write, ids, tokens.header("analyst"))

    assert response.status_code == 200, response.text
    assert await write.happened(client, tokens.header("admin"), ids)


async def test_role_limits_apply_to_cookie_sessions(client, tokens, session_factory):
    ids = await write_targets(client, tokens, session_factory)
    browser = await sign_in(client, tokens.lead)

    response = await send_write(client, WRITES["PUT owner"], ids, browser.writes)

    assert_problem(response, 403)
    assert not await WRITES["PUT owner"].happened(client, tokens.header("admin"), ids)


# --- how sessions end --------------------------------------------------------------------------


async def test_revoking_the_token_ends_the_sessions_it_opened(client, tokens):
    admin = tokens.header("admin")
    issued = await issue_token(client, admin, "analyst")
    revoked_browser = await sign_in(client, issued["token"])
    other_browser = await sign_in(client, tokens.analyst)
    assert (await client.get("/api/v1/flags", headers=revoked_browser.reads)).status_code == 200

    revoked = await client.delete(f"/api/v1/tokens/{issued['id']}", headers=admin)

    assert revoked.status_code == 200, revoked.text
    assert_problem(
        await client.get("/api/v1/flags", headers=revoked_browser.reads), 401, "session-ended"
    )
    assert_problem(await client.get("/api/v1/session", headers=revoked_browser.reads), 401)
    assert (await client.get("/api/v1/flags", headers=other_browser.reads)).status_code == 200


async def test_session_idle_past_the_limit_is_401(client, tokens, session_factory, settings):
    browser = await sign_in(client, tokens.analyst)
    idle = timedelta(minutes=settings.staff_idle_minutes)

    await move_session_clock(
        session_factory, last_seen_at=datetime.now(UTC) - idle - timedelta(minutes=1)
    )

    assert_problem(await client.get("/api/v1/flags", headers=browser.reads), 401, "session-ended")
    assert_problem(await client.get("/api/v1/session", headers=browser.reads), 401)


async def test_session_used_within_the_idle_limit_lives_on_and_is_kept_alive(
    client, tokens, session_factory, settings
):
    browser = await sign_in(client, tokens.analyst)
    almost_idle = datetime.now(UTC) - timedelta(minutes=settings.staff_idle_minutes - 1)
    await move_session_clock(session_factory, last_seen_at=almost_idle)

    response = await client.get("/api/v1/flags", headers=browser.reads)

    assert response.status_code == 200, response.text
    [stored] = await staff_sessions(session_factory)
    assert stored.last_seen_at > almost_idle + timedelta(minutes=1)


async def test_session_past_its_absolute_expiry_is_401_even_when_in_use(
    client, tokens, session_factory
):
    browser = await sign_in(client, tokens.analyst)
    now = datetime.now(UTC)

    await move_session_clock(
        session_factory, last_seen_at=now, expires_at=now - timedelta(seconds=1)
    )

    assert_problem(await client.get("/api/v1/flags", headers=browser.reads), 401, "session-ended")


async def test_sign_out_ends_the_session_on_the_server_only_for_that_browser(
    client, tokens, session_factory
):
    browser = await sign_in(client, tokens.analyst)
    [stored] = await staff_sessions(session_factory)
    other_browser = await sign_in(client, tokens.analyst)

    response = await client.delete("/api/v1/session", headers=browser.writes)

    assert response.status_code == 204, response.text
    cleared = set_cookies(response)[COOKIE]
    assert cleared["value"] in {"", '""'}
    assert cleared["max-age"] == "0"
    # A browser ignores a __Host- Set-Cookie without Secure and Path=/: it would not clear.
    assert "secure" in cleared
    assert cleared["path"] == "/"
    assert stored.id not in [row.id for row in await staff_sessions(session_factory)]
    # The browser may keep the old cookie (or an attacker may have copied it): it is dead.
    assert_problem(await client.get("/api/v1/flags", headers=browser.reads), 401)
    [event] = await audit_events(session_factory, "sign_out")
    assert (event.actor_kind, event.entity_id) == ("staff_session", str(stored.id))
    assert (await client.get("/api/v1/flags", headers=other_browser.reads)).status_code == 200


async def test_sign_out_without_the_csrf_token_is_refused_and_keeps_the_session(
    client, tokens, session_factory
):
    browser = await sign_in(client, tokens.analyst)

    response = await client.delete("/api/v1/session", headers=browser.reads)

    assert_problem(response, 403, "csrf-token-missing")
    assert len(await staff_sessions(session_factory)) == 1
    assert (await client.get("/api/v1/flags", headers=browser.reads)).status_code == 200
    assert await audit_events(session_factory, "sign_out") == []
