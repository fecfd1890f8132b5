"""Dashboard pages (``/dashboard/*``): signed-out visitors go to the sign-in page and come back
to where they were (never to another site), roles without the page's permission see why, and
every page forbids framing and caching."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI

from app.auth.sessions import COOKIE
from app.dashboard.pages import safe_next
from tests.factories import make_flag

ROLES = ("lead", "analyst", "admin")


@pytest.fixture
async def signed_out(running_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A browser without a session. Nothing it sees depends on stored data, so it needs no
    emptied tables (and skips their cost)."""
    transport = httpx.ASGITransport(app=running_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://valueloop.test") as client:
        yield client


async def sign_in(client: httpx.AsyncClient, token: str) -> dict[str, str]:
    """The Cookie header of a browser signed in with ``token`` (the cookie is Secure, so the
    plain-http test client does not send it back by itself)."""
    response = await client.post("/api/v1/session", json={"token": token})
    assert response.status_code == 201, response.text
    cookie = response.cookies[COOKIE]
    return {"Cookie": f"{COOKIE}={cookie}"}


def sign_in_target(response: httpx.Response) -> str:
    """The ``next`` the sign-in redirect carries (and that it is a redirect to sign-in)."""
    assert response.status_code == 303, response.text
    location = urlsplit(response.headers["location"])
    assert (location.scheme, location.netloc, location.path) == ("", "", "/dashboard/sign-in")
    [target] = parse_qs(location.query)["next"]
    return target


def csrf_meta(page: str) -> str | None:
    match = re.search(r'<meta name="csrf-token" content="([^"]*)">', page)
    return match.group(1) if match else None


# --- signed out --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/dashboard/queue",
        "/dashboard/insights",
        "/dashboard/admin",
        "/dashboard/flags/9f0c1b9e-3a51-4c38-9d1b-7a3c6c1c2f10",
    ],
)
async def test_signed_out_visitor_is_sent_to_sign_in_with_the_page_as_next(signed_out, path):
    response = await signed_out.get(path)

    assert sign_in_target(response) == path


async def test_next_keeps_the_query_string_encoded(signed_out):
    response = await signed_out.get("/dashboard/queue?status=submitted&owner=me")

    assert sign_in_target(response) == "/dashboard/queue?status=submitted&owner=me"
    # One query parameter: the page's own query is percent-encoded inside it.
    assert "&owner=" not in response.headers["location"]


async def test_unknown_session_cookie_is_sent_to_sign_in(signed_out):
    response = await signed_out.get(
        "/dashboard/insights", headers={"Cookie": f"{COOKIE}=no-such-session"}
    )

    assert sign_in_target(response) == "/dashboard/insights"


async def test_dashboard_root_goes_to_the_queue(signed_out):
    response = await signed_out.get("/dashboard")

    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard/queue"


# --- where to go after signing in --------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/dashboard/queue", "/dashboard/insights?range=90d", "/dashboard/flags/abc"],
)
def test_safe_next_keeps_dashboard_paths(path):
    assert safe_next(path) == path


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(None, id="none"),
        pytest.param("", id="empty"),
        pytest.param("//evil.example", id="scheme-relative"),
        pytest.param("//evil.example/dashboard/queue", id="scheme-relative-dashboard"),
        pytest.param("/\\evil.example", id="backslash"),
        pytest.param("/dashboard/\\\\evil.example", id="backslash-in-dashboard"),
        pytest.param("\\\\evil.example", id="double-backslash"),
        pytest.param("https://evil.example/dashboard/queue", id="absolute"),
        pytest.param("javascript:alert(1)", id="javascript"),
        pytest.param("/other", id="outside-dashboard"),
        pytest.param("/api/v1/tokens", id="api"),
        pytest.param("dashboard/queue", id="relative"),
        # Signing in "back to" the sign-in page would show it again after a good token.
        pytest.param("/dashboard/sign-in?next=%2Fdashboard%2Fqueue", id="sign-in-page"),
        pytest.param("/dashboard/sign-in/oidc?next=%2Fdashboard%2Fqueue", id="sign-in-oidc"),
    ],
)
def test_safe_next_refuses_anything_but_a_dashboard_path(path):
    assert safe_next(path) == "/dashboard/queue"


@pytest.mark.parametrize("evil", ["//evil.example", "https://evil.example", "/\\evil.example"])
async def test_sign_in_page_never_carries_a_foreign_next(signed_out, evil):
    response = await signed_out.get("/dashboard/sign-in", params={"next": evil})

    assert response.status_code == 200
    assert 'data-next="/dashboard/queue"' in response.text
    assert "evil.example" not in response.text


# --- roles -------------------------------------------------------------------------------------


async def test_non_admins_on_the_admin_page_get_a_403_page_naming_the_permission(client, tokens):
    for role in ("lead", "analyst"):
        cookie = await sign_in(client, getattr(tokens, role))

        response = await client.get("/dashboard/admin", headers=cookie)

        assert response.status_code == 403, role
        assert response.headers["content-type"].startswith("text/html")
        assert "manage_tokens" in response.text
        assert f"<strong>{role}</strong>" in response.text


ALLOWED = [
    ("lead", "/dashboard/queue"),
    ("lead", "/dashboard/insights"),
    ("analyst", "/dashboard/queue"),
    ("admin", "/dashboard/queue"),
    ("admin", "/dashboard/admin"),
    ("lead", "/dashboard/flags/{flag}"),
]


async def test_each_role_opens_the_pages_it_may_use(client, tokens, session_factory):
    flag = await make_flag(session_factory)
    cookies = {role: await sign_in(client, getattr(tokens, role)) for role in ROLES}
    for role, path in ALLOWED:
        response = await client.get(path.format(flag=flag.id), headers=cookies[role])

        assert response.status_code == 200, f"{role} on {path}: {response.status_code}"


# --- headers and the CSRF token ----------------------------------------------------------------


PAGES = [
    ("/dashboard/sign-in", None, 200),
    ("/dashboard/admin", "lead", 403),
    ("/dashboard/insights", "analyst", 200),
    ("/dashboard/queue", "analyst", 200),
    ("/dashboard/admin", "admin", 200),
    ("/dashboard/flags/{flag}", "lead", 200),
]


async def test_every_page_forbids_framing_and_caching(client, tokens, session_factory):
    flag = await make_flag(session_factory)
    cookies = {role: await sign_in(client, getattr(tokens, role)) for role in ROLES}

    for path, role, status in PAGES:
        response = await client.get(
            path.format(flag=flag.id), headers=cookies[role] if role else {}
        )

        assert response.status_code == status, f"{path} as {role}: {response.text}"
        csp = [part.strip() for part in response.headers["content-security-policy"].split(";")]
        assert "frame-ancestors 'none'" in csp, path
        assert response.headers["cache-control"] == "no-store", path


async def test_page_carries_the_sessions_csrf_token(client, tokens):
    login = await client.post("/api/v1/session", json={"token": tokens.analyst})
    cookie = {"Cookie": f"{COOKIE}={login.cookies[COOKIE]}"}

    response = await client.get("/dashboard/insights", headers=cookie)

    assert response.status_code == 200, response.text
    assert csrf_meta(response.text) == login.json()["csrf_token"]


async def test_signed_out_sign_in_page_carries_no_csrf_token(signed_out):
    response = await signed_out.get("/dashboard/sign-in")

    assert response.status_code == 200
    assert csrf_meta(response.text) is None


async def test_sign_in_page_has_no_single_sign_on_button_when_oidc_is_not_configured(signed_out):
    response = await signed_out.get("/dashboard/sign-in")

    assert response.status_code == 200
    assert 'id="token-sign-in"' in response.text
    assert 'id="oidc-sign-in"' not in response.text


async def test_single_sign_on_start_without_oidc_shows_the_sign_in_page_with_a_404(signed_out):
    response = await signed_out.get("/dashboard/sign-in/oidc", params={"next": "/dashboard/queue"})

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert 'role="alert"' in response.text
    assert "not configured" in response.text
    assert "location" not in response.headers


async def test_sign_in_page_never_shows_a_message_taken_from_the_url(client):
    response = await client.get(
        "/dashboard/sign-in", params={"error": "Your account is locked, call 555-0100"}
    )

    assert response.status_code == 200
    assert "555-0100" not in response.text
    assert '<p class="error" role="alert">' not in response.text


# --- the Audit page ----------------------------------------------------------------------------


async def test_only_admins_open_the_audit_page_and_see_it_in_the_nav(client, tokens):
    for role in ROLES:
        cookie = await sign_in(client, getattr(tokens, role))

        audit = await client.get("/dashboard/audit", headers=cookie)
        queue = await client.get("/dashboard/queue", headers=cookie)

        linked = 'href="/dashboard/audit"' in queue.text
        if role == "admin":
            assert audit.status_code == 200
            assert 'id="audit"' in audit.text
            assert linked
            assert audit.headers["cache-control"] == "no-store"
        else:
            assert audit.status_code == 403, role
            assert "read_audit" in audit.text
            assert not linked, role


async def test_signed_out_visitor_of_the_audit_page_signs_in_back_to_it(signed_out):
    response = await signed_out.get("/dashboard/audit?actor=lead")

    assert sign_in_target(response) == "/dashboard/audit?actor=lead"
