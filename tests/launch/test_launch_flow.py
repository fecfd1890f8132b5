"""The SMART launch end to end against the simulated EHR, and each way it is refused."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import httpx
import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.ehrs import service as ehrs
from app.ehrs.secrets import secret_box
from app.launch.models import AppSession, PendingLaunchRecord
from app.launch.secrets import token_box
from tests.sim_ehr import (
    CLIENT_SECRET,
    a_patient_and_encounter,
    ehr_launch_id,
    full_launch,
    query,
)


@contextmanager
def outbound_recorded(app) -> Iterator[list[httpx.Request]]:
    """Every request the app sends out, answered with 500 and never sent anywhere."""
    sent: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(500)

    original = app.state.http
    app.state.http = httpx.AsyncClient(transport=httpx.MockTransport(record))
    try:
        yield sent
    finally:
        app.state.http = original


async def test_ehr_launch_opens_a_session_with_the_ehr_context(client, ehr, ehr_http, session):
    patient, encounter = a_patient_and_encounter(ehr.sim)

    handle = await full_launch(client, ehr_http, ehr.sim)

    stored = (await session.execute(sa.select(AppSession))).scalar_one()
    assert (stored.patient_id, stored.encounter_id) == (patient, encounter)
    assert stored.fhir_user == "Practitioner/prac-00001"
    assert "patient/ServiceRequest.rs" in stored.granted_scopes
    assert handle not in stored.handle_hash
    token = token_box(client._transport.app.state.settings).decrypt(stored.access_token_encrypted)
    assert token not in stored.access_token_encrypted
    assert ehr.sim.state.grants.access(token) is not None


async def test_authorize_request_carries_pkce_s256_aud_launch_and_state(client, ehr, ehr_http):
    launch = await ehr_launch_id(ehr_http, ehr.sim)

    started = await client.get("/launch", params={"iss": ehr.iss, "launch": launch})

    params = query(started.headers["location"])
    assert params["code_challenge_method"] == "S256"
    assert params["aud"] == ehr.iss
    assert params["launch"] == launch
    assert len(params["state"]) >= 22
    assert "launch" in params["scope"].split()
    assert started.headers["content-security-policy"].endswith(
        f"frame-ancestors {ehr.sim.base_url}"
    )
    cookie = started.headers["set-cookie"]
    for attribute in ("Secure", "HttpOnly", "SameSite=none", "Partitioned"):
        assert attribute.lower() in cookie.lower()


async def test_unregistered_issuer_is_refused_without_contacting_it(client, app):
    with outbound_recorded(app) as sent:
        response = await client.get(
            "/launch", params={"iss": "https://evil.example/fhir", "launch": "x"}
        )

    assert response.status_code == 403
    assert "not registered" in response.text
    assert sent == []


async def test_an_unregistered_issuer_leaves_a_security_event_naming_only_its_host(client, session):
    response = await client.get(
        "/launch",
        params={"iss": "https://Evil.example:8443/fhir?patient=secret-123", "launch": "x"},
    )

    assert response.status_code == 403
    rows = (await session.scalars(sa.select(AuditEvent))).all()
    assert [(row.action, row.entity_type, row.actor_kind) for row in rows] == [
        ("refuse", "launch", "anonymous")
    ]
    assert rows[0].details == {"reason": "unregistered issuer", "issuer_host": "evil.example"}
    assert rows[0].issuer is None
    assert "secret-123" not in json.dumps([str(getattr(rows[0], c)) for c in rows[0].__dict__])


@pytest.mark.parametrize("launch", ["abc\r\nSet-Cookie: x=1", "tab\there", "caf\u00e9", ""])
async def test_a_launch_value_outside_printable_ascii_is_refused_before_contacting_the_ehr(
    client, app, ehr, session, launch
):
    with outbound_recorded(app) as sent:
        response = await client.get("/launch", params={"iss": ehr.iss, "launch": launch})

    assert response.status_code == 400
    assert "launch value" in response.text
    assert sent == []
    assert (await session.scalars(sa.select(PendingLaunchRecord))).all() == []


async def test_launch_cookies_carry_the_host_prefix(client, ehr, ehr_http):
    launch = await ehr_launch_id(ehr_http, ehr.sim)
    started = await client.get("/launch", params={"iss": ehr.iss, "launch": launch})
    callback = urlsplit((await ehr_http.get(started.headers["location"])).headers["location"])
    finished = await client.get(f"{callback.path}?{callback.query}")

    set_cookies = [
        *started.headers.get_list("set-cookie"),
        *finished.headers.get_list("set-cookie"),
    ]
    assert [cookie.split("=")[0] for cookie in set_cookies] == [
        "__Host-vl_launch",  # the binding, set at launch
        "__Host-vl_launch",  # and cleared at the callback
        "__Host-vl_session",
    ]
    for cookie in set_cookies:
        assert "; Path=/;" in cookie
        assert "Domain" not in cookie
        assert "; Secure;" in cookie


async def test_a_state_works_once(client, ehr, ehr_http):
    launch = await ehr_launch_id(ehr_http, ehr.sim)
    started = await client.get("/launch", params={"iss": ehr.iss, "launch": launch})
    callback = urlsplit((await ehr_http.get(started.headers["location"])).headers["location"])
    assert (await client.get(f"{callback.path}?{callback.query}")).status_code == 200

    replay = await client.get(f"{callback.path}?{callback.query}")

    assert replay.status_code == 400
    assert "already used" in replay.text


async def test_missing_and_made_up_states_are_refused(client, ehr):
    assert (await client.get("/launch/callback", params={"code": "c"})).status_code == 400
    made_up = await client.get("/launch/callback", params={"code": "c", "state": "invented"})
    assert made_up.status_code == 400
    assert "unknown" in made_up.text


async def test_state_from_another_browser_is_refused(client, ehr, ehr_http):
    launch = await ehr_launch_id(ehr_http, ehr.sim)
    started = await client.get("/launch", params={"iss": ehr.iss, "launch": launch})
    callback = urlsplit((await ehr_http.get(started.headers["location"])).headers["location"])
    client.cookies.set("__Host-vl_launch", "someone-elses-binding", path="/")

    response = await client.get(f"{callback.path}?{callback.query}")

    assert response.status_code == 400
    assert "another browser" in response.text


async def test_the_browser_that_started_the_launch_finishes_it_with_its_cookie(
    client, ehr, ehr_http
):
    launch = await ehr_launch_id(ehr_http, ehr.sim)
    started = await client.get("/launch", params={"iss": ehr.iss, "launch": launch})
    binding = started.cookies["__Host-vl_launch"]
    callback = urlsplit((await ehr_http.get(started.headers["location"])).headers["location"])
    client.cookies.set("__Host-vl_launch", binding, path="/")

    response = await client.get(f"{callback.path}?{callback.query}")

    assert response.status_code == 200, response.text


async def test_in_an_ehr_frame_that_blocks_the_cookie_the_state_alone_finishes_the_launch(
    client, ehr, ehr_http
):
    launch = await ehr_launch_id(ehr_http, ehr.sim)
    started = await client.get("/launch", params={"iss": ehr.iss, "launch": launch})
    assert started.cookies["__Host-vl_launch"]  # offered, but this frame keeps no cookie
    client.cookies.clear()
    callback = urlsplit((await ehr_http.get(started.headers["location"])).headers["location"])

    response = await client.get(f"{callback.path}?{callback.query}")

    assert response.status_code == 200, response.text


async def test_an_ehr_error_response_with_an_unknown_state_is_refused_as_unknown(client, ehr):
    response = await client.get(
        "/launch/callback", params={"state": "invented", "error": "access_denied"}
    )

    assert response.status_code == 400
    assert "unknown or was already used" in response.text
    assert "access_denied" not in response.text


async def test_a_callback_without_code_spends_its_state(client, ehr, ehr_http):
    launch = await ehr_launch_id(ehr_http, ehr.sim)
    started = await client.get("/launch", params={"iss": ehr.iss, "launch": launch})
    state = query(started.headers["location"])["state"]

    without_code = await client.get("/launch/callback", params={"state": state})
    again = await client.get("/launch/callback", params={"state": state, "code": "c"})

    assert without_code.status_code == 400
    assert "carried no code" in without_code.text
    assert "already used" in again.text


async def test_expired_state_is_refused(client, ehr, ehr_http, session):
    launch = await ehr_launch_id(ehr_http, ehr.sim)
    started = await client.get("/launch", params={"iss": ehr.iss, "launch": launch})
    await session.execute(
        sa.update(PendingLaunchRecord).values(
            created_at=sa.func.now() - sa.text("interval '11 minutes'")
            if session.get_bind().dialect.name == "postgresql"
            else sa.func.datetime("now", "-11 minutes")
        )
    )
    await session.commit()
    callback = urlsplit((await ehr_http.get(started.headers["location"])).headers["location"])

    response = await client.get(f"{callback.path}?{callback.query}")

    assert response.status_code == 400
    assert "expired" in response.text


async def test_an_ehr_error_response_is_shown_and_consumes_the_state(client, ehr, ehr_http):
    launch = await ehr_launch_id(ehr_http, ehr.sim)
    started = await client.get("/launch", params={"iss": ehr.iss, "launch": launch})
    state = query(started.headers["location"])["state"]

    denied = await client.get(
        "/launch/callback",
        params={"state": state, "error": "access_denied", "error_description": "no"},
    )

    assert denied.status_code == 400
    assert "access_denied" in denied.text
    again = await client.get("/launch/callback", params={"state": state, "code": "c"})
    assert again.status_code == 400


async def test_pkce_mismatch_at_the_ehr_fails_the_launch(client, ehr, ehr_http, session, settings):
    launch = await ehr_launch_id(ehr_http, ehr.sim)
    started = await client.get("/launch", params={"iss": ehr.iss, "launch": launch})
    callback = urlsplit((await ehr_http.get(started.headers["location"])).headers["location"])
    wrong = secret_box(settings).encrypt("a-verifier-that-does-not-match-the-challenge-at-all-xx")
    await session.execute(sa.update(PendingLaunchRecord).values(pkce_verifier_encrypted=wrong))
    await session.commit()

    response = await client.get(f"{callback.path}?{callback.query}")

    assert response.status_code == 400
    assert "refused" in response.text
    assert (
        await session.execute(sa.select(sa.func.count()).select_from(AppSession))
    ).scalar_one() == 0


async def test_confidential_symmetric_client_launches(client, ehr, ehr_http, session, settings):
    await ehrs.register(
        session,
        issuer=ehr.iss,
        client_id="vl-secret",
        client_auth=ehrs.ClientAuthKind.BASIC,
        client_secret=CLIENT_SECRET,
        box=secret_box(settings),
    )
    await session.commit()

    assert await full_launch(client, ehr_http, ehr.sim)


async def test_confidential_asymmetric_client_launches_with_its_signed_assertion(
    client, ehr, ehr_http, session, settings
):
    await ehrs.register(
        session,
        issuer=ehr.iss,
        client_id="vl-jwt",
        client_auth=ehrs.ClientAuthKind.PRIVATE_KEY_JWT,
        box=secret_box(settings),
    )
    await session.commit()

    assert await full_launch(client, ehr_http, ehr.sim)


async def test_our_public_key_is_published_for_private_key_jwt(client):
    jwks = (await client.get("/.well-known/jwks.json")).json()

    assert jwks["keys"][0]["alg"] == "RS384"
    assert "d" not in jwks["keys"][0]


async def test_openid_granted_without_an_id_token_fails_the_launch(
    client, ehr, ehr_http, session, settings
):
    await ehrs.register(
        session,
        issuer=ehr.iss,
        client_id="vl-public",
        client_auth=ehrs.ClientAuthKind.NONE,
        box=secret_box(settings),
        scopes=["launch", "openid", "patient/*.rs"],  # no fhirUser: the EHR sends no id_token
    )
    await session.commit()
    launch = await ehr_launch_id(ehr_http, ehr.sim)
    started = await client.get("/launch", params={"iss": ehr.iss, "launch": launch})
    callback = urlsplit((await ehr_http.get(started.headers["location"])).headers["location"])

    response = await client.get(f"{callback.path}?{callback.query}")

    assert response.status_code == 400
    assert "id_token" in response.text


async def test_tokens_never_reach_the_browser_or_a_url(client, ehr, ehr_http, session, settings):
    launch = await ehr_launch_id(ehr_http, ehr.sim)
    started = await client.get("/launch", params={"iss": ehr.iss, "launch": launch})
    authorized = await ehr_http.get(started.headers["location"])
    callback = urlsplit(authorized.headers["location"])
    page = await client.get(f"{callback.path}?{callback.query}")

    stored = (await session.execute(sa.select(AppSession))).scalar_one()
    box = token_box(settings)
    secrets_held = [box.decrypt(stored.access_token_encrypted)]
    if stored.refresh_token_encrypted:
        secrets_held.append(box.decrypt(stored.refresh_token_encrypted))
    for secret in secrets_held:
        assert secret not in page.text
        assert secret not in str(page.headers)
        assert secret not in started.headers["location"]
        assert secret not in authorized.headers["location"]


async def test_a_callback_naming_another_authorization_server_is_refused(
    client, ehr, ehr_http, session
):
    """RFC 9207 mix-up defence: the code is never used when iss names another server."""
    launch = await ehr_launch_id(ehr_http, ehr.sim)
    started = await client.get("/launch", params={"iss": ehr.iss, "launch": launch})
    callback = urlsplit((await ehr_http.get(started.headers["location"])).headers["location"])
    params = query(f"?{callback.query}")
    assert params["iss"] == ehr.iss  # the simulated EHR identifies itself, as RFC 9207 asks
    forged = {**params, "iss": "https://attacker.example/fhir"}

    refused = await client.get(callback.path, params=forged)

    assert refused.status_code == 400
    assert "another authorization server" in refused.text
    sessions = (await session.execute(sa.select(sa.func.count()).select_from(AppSession))).scalar()
    assert sessions == 0


async def test_a_callback_without_the_promised_iss_is_refused(client, ehr, ehr_http):
    launch = await ehr_launch_id(ehr_http, ehr.sim)
    started = await client.get("/launch", params={"iss": ehr.iss, "launch": launch})
    callback = urlsplit((await ehr_http.get(started.headers["location"])).headers["location"])
    params = {k: v for k, v in query(f"?{callback.query}").items() if k != "iss"}

    refused = await client.get(callback.path, params=params)

    assert refused.status_code == 400
    assert "lacks the iss parameter" in refused.text
