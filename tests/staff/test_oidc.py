"""Staff sign-in with OpenID Connect, against the simulated EHR playing the identity provider
on a real loopback port. The browser's redirects are followed by hand: app -> provider's
authorize endpoint -> back to the app's callback with code and state, carrying the sign-in
binding cookie the app set when the sign-in started."""

from __future__ import annotations

import hashlib
import re
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import smart
from app.audit.models import AuditEvent
from app.auth.models import OidcSignIn, Role, StaffSession
from app.auth.sessions import COOKIE
from app.config import OidcConfig, OidcRole
from app.main import create_app
from app.staff import oidc
from app.staff.errors import NoValueLoopRole
from app.staff.oidc import BINDING_COOKIE, CALLBACK_PATH, role_from_claims
from ehr_sim.clients import ClientKind, ClientRegistration, ClientRegistry
from ehr_sim.config import SimSettings
from ehr_sim.server import SimServer
from frontend import TEMPLATES_DIR

CLIENT_ID = "vl-dashboard"
CLIENT_SECRET = "dashboard-client-secret-for-tests"
ROLE_MAP = {
    "valueloop-admin": OidcRole.ADMIN,
    "valueloop-analyst": OidcRole.ANALYST,
    "valueloop-lead": OidcRole.LEAD,
}
# Who holds which group at the provider (the sim's default three, plus two more).
STAFF_ROLES = {
    "prac-00001": ["valueloop-admin"],
    "prac-00002": ["valueloop-analyst"],
    "prac-00003": ["valueloop-lead"],
    "prac-00004": ["valueloop-lead", "valueloop-admin", "valueloop-analyst", "cafeteria"],
    "prac-00005": ["cafeteria", "parking"],
}


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def idp(settings) -> Iterator[SimServer]:
    """The simulated EHR as the health system's identity provider, ValueLoop registered there
    as a confidential client for the dashboard's callback."""
    clients = ClientRegistry(
        [
            ClientRegistration(
                client_id=CLIENT_ID,
                name="ValueLoop dashboard",
                kind=ClientKind.SYMMETRIC,
                client_secret=CLIENT_SECRET,
                redirect_uris=[settings.base_url + CALLBACK_PATH],
            )
        ]
    )
    with SimServer(SimSettings(patients=2, staff_roles=STAFF_ROLES), clients) as server:
        yield server


@pytest.fixture(scope="session")
async def sso_app(settings, idp) -> AsyncIterator[FastAPI]:
    configured = settings.model_copy(
        update={
            "oidc": OidcConfig(
                issuer=idp.fhir_base,
                client_id=CLIENT_ID,
                client_secret=CLIENT_SECRET,
                display_name="Riverside Health",
                roles=ROLE_MAP,
            )
        }
    )
    app = create_app(configured)
    async with app.router.lifespan_context(app):
        yield app


async def browser_on(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://valueloop.test") as client:
        yield client


@pytest.fixture
async def sso(sso_app, clean_tables, monkeypatch) -> AsyncIterator[httpx.AsyncClient]:
    """A browser on the app configured for single sign-on, on emptied tables."""
    # The provider's discovery document is cached per process; start each test without it.
    monkeypatch.setattr(oidc, "PROVIDER_CACHE", smart.DiscoveryCache())
    async for client in browser_on(sso_app):
        yield client


@pytest.fixture
async def sso_page_only(sso_app) -> AsyncIterator[httpx.AsyncClient]:
    """The same app, for pages that touch no stored data (no emptied tables needed)."""
    async for client in browser_on(sso_app):
        yield client


@pytest.fixture
async def without_sso(running_app) -> AsyncIterator[httpx.AsyncClient]:
    """The app as the other tests build it: OpenID Connect not configured."""
    async for client in browser_on(running_app):
        yield client


@pytest.fixture
async def provider_browser() -> AsyncIterator[httpx.AsyncClient]:
    """The browser's side trips to the provider's authorize page."""
    async with httpx.AsyncClient(follow_redirects=False, timeout=10) as http:
        yield http


@pytest.fixture
def db(sso_app) -> async_sessionmaker[AsyncSession]:
    factory: async_sessionmaker[AsyncSession] = sso_app.state.session_factory
    return factory


# --- helpers -----------------------------------------------------------------------------------


def set_cookies(response: httpx.Response) -> dict[str, dict[str, str]]:
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


def query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


@dataclass(frozen=True)
class Started:
    authorize_url: str
    binding: str
    response: httpx.Response


async def start(sso: httpx.AsyncClient, next_path: str = "/dashboard/insights") -> Started:
    response = await sso.get("/dashboard/sign-in/oidc", params={"next": next_path})
    assert response.status_code == 302, response.text
    binding = set_cookies(response)[BINDING_COOKIE]["value"]
    return Started(response.headers["location"], binding, response)


async def provider_signs_in(
    http: httpx.AsyncClient, idp: SimServer, practitioner: str, started: Started
) -> str:
    """The user signs in at the provider; the path and query it sends the browser back to."""
    switched = await http.put(f"{idp.base_url}/_sim/user", json={"practitioner": practitioner})
    assert switched.status_code == 200, switched.text
    response = await http.get(started.authorize_url)
    assert response.status_code == 302, response.text
    back = urlsplit(response.headers["location"])
    assert back.path == CALLBACK_PATH
    return f"{back.path}?{back.query}"


def binding_cookie(value: str) -> dict[str, str]:
    return {"Cookie": f"{BINDING_COOKIE}={value}"}


async def full_sign_in(
    sso: httpx.AsyncClient,
    http: httpx.AsyncClient,
    idp: SimServer,
    practitioner: str,
    next_path: str = "/dashboard/insights",
) -> httpx.Response:
    started = await start(sso, next_path)
    callback = await provider_signs_in(http, idp, practitioner, started)
    return await sso.get(callback, headers=binding_cookie(started.binding))


def staff_cookie(response: httpx.Response) -> dict[str, str]:
    return {"Cookie": f"{COOKIE}={set_cookies(response)[COOKIE]['value']}"}


def display_name(idp: SimServer, practitioner: str) -> str:
    resource = idp.state.store.get("Practitioner", practitioner)
    assert resource is not None
    name = resource["name"][0]
    return " ".join([*name.get("prefix", []), *name.get("given", []), name["family"]])


async def rows(factory: async_sessionmaker[AsyncSession], model: Any) -> list[Any]:
    async with factory() as session:
        return list((await session.scalars(sa.select(model))).all())


def assert_refused(response: httpx.Response, status: int, message: str) -> None:
    """The sign-in page again, with the reason, and no staff session cookie."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert 'role="alert"' in response.text
    assert message in response.text
    assert COOKIE not in set_cookies(response)


# --- starting ----------------------------------------------------------------------------------


async def test_sign_in_page_offers_single_sign_on_when_configured(sso_page_only):
    response = await sso_page_only.get("/dashboard/sign-in", params={"next": "/dashboard/insights"})

    assert response.status_code == 200
    button = re.search(
        r'<a class="button primary" id="oidc-sign-in" href="([^"]+)">([^<]+)</a>', response.text
    )
    assert button is not None
    assert button.group(1) == "/dashboard/sign-in/oidc?next=/dashboard/insights"
    assert button.group(2) == "Sign in with Riverside Health"


async def test_sign_in_goes_to_the_provider_with_pkce_and_binds_the_browser(sso, idp, db, settings):
    started = await start(sso)

    url = urlsplit(started.authorize_url)
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{idp.base_url}/auth/authorize"
    params = query(started.authorize_url)
    assert params["client_id"] == CLIENT_ID
    assert params["response_type"] == "code"
    assert params["redirect_uri"] == settings.base_url + CALLBACK_PATH
    assert params["scope"].split() == ["openid", "profile"]
    assert params["code_challenge_method"] == "S256"
    assert params["code_challenge"]
    assert params["nonce"]
    assert "aud" not in params
    assert started.response.headers["cache-control"] == "no-store"
    [pending] = await rows(db, OidcSignIn)
    assert pending.state_hash == hashlib.sha256(params["state"].encode()).hexdigest()
    assert pending.next_path == "/dashboard/insights"
    cookie = set_cookies(started.response)[BINDING_COOKIE]
    assert "secure" in cookie
    assert "httponly" in cookie
    # Lax: the provider sends the browser back with a cross-site top-level GET.
    assert cookie["samesite"].lower() == "lax"
    assert cookie["path"] == "/"
    assert cookie["max-age"] == "600"
    assert started.binding not in started.authorize_url
    assert pending.browser_binding_hash == hashlib.sha256(started.binding.encode()).hexdigest()


# --- finishing ---------------------------------------------------------------------------------


async def test_analyst_signs_in_to_an_audited_analyst_session(sso, idp, provider_browser, db):
    response = await full_sign_in(sso, provider_browser, idp, "prac-00002")

    assert response.status_code == 200, response.text
    assert "<h1>Signed in</h1>" in response.text
    assert '<meta http-equiv="refresh" content="0;url=/dashboard/insights">' in response.text
    cookies = set_cookies(response)
    staff = cookies[COOKIE]
    assert "secure" in staff
    assert "httponly" in staff
    assert staff["samesite"].lower() == "strict"
    spent = cookies[BINDING_COOKIE]  # the binding is spent: cleared as a __Host- cookie
    assert spent["max-age"] == "0"
    assert "secure" in spent
    assert spent["path"] == "/"
    session = await sso.get("/api/v1/session", headers=staff_cookie(response))
    assert session.status_code == 200, session.text
    body = session.json()
    assert (body["role"], body["method"]) == ("analyst", "oidc")
    assert body["name"] == display_name(idp, "prac-00002")
    [stored] = await rows(db, StaffSession)
    assert stored.subject == f"{idp.fhir_base}|prac-00002"
    assert stored.api_token_id is None
    [event] = await rows(db, AuditEvent)
    assert (event.action, event.actor_kind, event.actor_role, event.entity_id) == (
        "sign_in",
        "staff_session",
        "analyst",
        str(stored.id),
    )
    assert event.actor_id == f"{body['name']} ({stored.id})"


async def test_single_sign_on_session_opens_the_dashboard_and_reads_the_api(
    sso, idp, provider_browser
):
    response = await full_sign_in(sso, provider_browser, idp, "prac-00003")
    cookie = staff_cookie(response)

    flags = await sso.get("/api/v1/flags", headers=cookie)
    page = await sso.get("/dashboard/insights", headers=cookie)
    admin_page = await sso.get("/dashboard/admin", headers=cookie)

    assert flags.status_code == 200, flags.text
    assert page.status_code == 200, page.text
    assert admin_page.status_code == 403  # a lead
    if (TEMPLATES_DIR / "dashboard" / "queue.html").exists():
        assert (await sso.get("/dashboard/queue", headers=cookie)).status_code == 200


async def test_user_in_several_mapped_groups_gets_the_most_powerful_role(
    sso, idp, provider_browser
):
    response = await full_sign_in(sso, provider_browser, idp, "prac-00004")

    assert response.status_code == 200, response.text
    session = await sso.get("/api/v1/session", headers=staff_cookie(response))
    assert session.json()["role"] == "admin"


async def test_user_without_a_mapped_role_gets_a_403_page_and_no_session(
    sso, idp, provider_browser, db
):
    response = await full_sign_in(sso, provider_browser, idp, "prac-00005")

    assert_refused(response, 403, "no ValueLoop role")
    assert await rows(db, StaffSession) == []


async def test_next_never_leads_to_another_site_after_sign_in(sso, idp, provider_browser):
    response = await full_sign_in(sso, provider_browser, idp, "prac-00002", "//evil.example")

    assert response.status_code == 200, response.text
    assert '<meta http-equiv="refresh" content="0;url=/dashboard/queue">' in response.text
    assert "evil.example" not in response.text


# --- refusals ----------------------------------------------------------------------------------


async def test_replayed_callback_is_refused(sso, idp, provider_browser, db):
    started = await start(sso)
    callback = await provider_signs_in(provider_browser, idp, "prac-00002", started)
    first = await sso.get(callback, headers=binding_cookie(started.binding))
    assert first.status_code == 200, first.text

    replay = await sso.get(callback, headers=binding_cookie(started.binding))

    assert_refused(replay, 401, "already used")
    assert len(await rows(db, StaffSession)) == 1


async def test_callback_naming_another_provider_is_refused(sso, idp, provider_browser, db):
    """RFC 9207: a code that claims to come from another server is never used."""
    started = await start(sso)
    callback = await provider_signs_in(provider_browser, idp, "prac-00002", started)
    assert f"iss={quote(idp.fhir_base, safe='')}" in callback
    forged = callback.replace(quote(idp.fhir_base, safe=""), quote("https://evil.example", safe=""))

    refused = await sso.get(forged, headers=binding_cookie(started.binding))

    assert_refused(refused, 401, "another server")
    assert await rows(db, StaffSession) == []


async def test_callback_without_the_binding_cookie_is_refused_and_spends_the_state(
    sso, idp, provider_browser, db
):
    started = await start(sso)
    callback = await provider_signs_in(provider_browser, idp, "prac-00002", started)

    without = await sso.get(callback)
    retried = await sso.get(callback, headers=binding_cookie(started.binding))

    assert_refused(without, 401, "another browser")
    assert_refused(retried, 401, "already used")
    assert await rows(db, StaffSession) == []


async def test_callback_in_another_browser_is_refused(sso, idp, provider_browser, db):
    """Login CSRF: an attacker's finished sign-in pushed into the victim's browser."""
    victim = await start(sso)
    attacker = await start(sso)
    attackers_callback = await provider_signs_in(provider_browser, idp, "prac-00001", attacker)

    response = await sso.get(attackers_callback, headers=binding_cookie(victim.binding))

    assert_refused(response, 401, "another browser")
    assert await rows(db, StaffSession) == []


async def test_expired_pending_sign_in_is_refused(sso, idp, provider_browser, db):
    started = await start(sso)
    callback = await provider_signs_in(provider_browser, idp, "prac-00002", started)
    async with db() as session:
        await session.execute(
            sa.update(OidcSignIn).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        await session.commit()

    response = await sso.get(callback, headers=binding_cookie(started.binding))

    assert_refused(response, 401, "expired")
    assert await rows(db, StaffSession) == []


async def test_provider_error_shows_the_sign_in_page_and_ends_the_pending_sign_in(sso, db):
    started = await start(sso)
    state = query(started.authorize_url)["state"]

    response = await sso.get(
        CALLBACK_PATH,
        params={"error": "access_denied", "error_description": "User cancelled", "state": state},
        headers=binding_cookie(started.binding),
    )

    assert_refused(response, 401, "did not sign you in")
    assert 'id="oidc-sign-in"' in response.text  # try again from here
    assert await rows(db, OidcSignIn) == []


async def test_provider_error_is_believed_only_from_the_browser_that_started_the_sign_in(sso, db):
    started = await start(sso)
    state = query(started.authorize_url)["state"]

    response = await sso.get(CALLBACK_PATH, params={"error": "access_denied", "state": state})

    assert_refused(response, 401, "another browser")
    assert await rows(db, OidcSignIn) == []


async def test_callback_without_code_is_refused_and_spends_the_state(sso, db):
    started = await start(sso)
    state = query(started.authorize_url)["state"]

    response = await sso.get(
        CALLBACK_PATH, params={"state": state}, headers=binding_cookie(started.binding)
    )

    assert_refused(response, 401, "incomplete")
    assert await rows(db, OidcSignIn) == []


async def test_callback_without_oidc_configured_is_404(without_sso):
    response = await without_sso.get(CALLBACK_PATH, params={"code": "c", "state": "s"})

    assert_refused(response, 404, "not configured")


async def test_an_unreachable_provider_shows_the_sign_in_page_with_the_reason(
    settings, monkeypatch
):
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    monkeypatch.setattr(oidc, "PROVIDER_CACHE", smart.DiscoveryCache())
    down = create_app(
        settings.model_copy(
            update={"oidc": OidcConfig(issuer=closed, client_id=CLIENT_ID, roles=ROLE_MAP)}
        )
    )
    async with down.router.lifespan_context(down):
        async for browser in browser_on(down):
            response = await browser.get("/dashboard/sign-in/oidc")

    assert_refused(response, 401, "could not be reached")
    assert BINDING_COOKIE not in set_cookies(response)


# --- the role map ------------------------------------------------------------------------------


CONFIG = OidcConfig(issuer="https://login.example.org", client_id="vl", roles=ROLE_MAP)


@pytest.mark.parametrize(
    ("claims", "role"),
    [
        pytest.param({"roles": ["valueloop-lead"]}, Role.LEAD, id="one"),
        pytest.param({"roles": "valueloop-analyst"}, Role.ANALYST, id="string"),
        pytest.param(
            {"roles": ["valueloop-analyst", "valueloop-admin", "valueloop-lead"]},
            Role.ADMIN,
            id="admin-in-the-middle",
        ),
        pytest.param({"roles": ["valueloop-lead", "valueloop-analyst"]}, Role.ANALYST, id="two"),
        pytest.param({"roles": ["other", "valueloop-lead"]}, Role.LEAD, id="with-unmapped"),
    ],
)
def test_role_map_picks_the_most_powerful_mapped_role(claims, role):
    assert role_from_claims(claims, CONFIG) is role


@pytest.mark.parametrize(
    "claims",
    [
        pytest.param({}, id="no-claim"),
        pytest.param({"roles": []}, id="empty"),
        pytest.param({"roles": ["cafeteria"]}, id="unmapped"),
        pytest.param({"roles": {"valueloop-admin": True}}, id="object"),
        pytest.param({"groups": ["valueloop-admin"]}, id="other-claim"),
        pytest.param({"roles": ["VALUELOOP-ADMIN"]}, id="case-differs"),
        pytest.param({"roles": [{"value": "valueloop-admin"}]}, id="list-of-objects"),
    ],
)
def test_role_map_refuses_users_without_a_mapped_role(claims):
    with pytest.raises(NoValueLoopRole):
        role_from_claims(claims, CONFIG)


async def test_sign_in_from_a_page_with_a_long_address_still_goes_to_the_provider(sso, db):
    long_next = "/dashboard/queue?q=" + "x" * 600

    response = await sso.get("/dashboard/sign-in/oidc", params={"next": long_next})

    assert response.status_code == 302, response.text
    [pending] = await rows(db, OidcSignIn)
    assert pending.next_path == "/dashboard/queue"
