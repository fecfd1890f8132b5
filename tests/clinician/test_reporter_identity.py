"""The reporter is known: who is signed in (fhirUser resource, else the id_token's claims),
kept on the session, carried by identified flags, hidden or not stored by the others."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import col

from app.flags.models import Flag
from app.launch.models import AppSession
from tests.clinician.test_clinician_api import flag_body, header
from tests.sim_ehr import full_launch


def practitioner(sim, practitioner_id: str = "prac-00001") -> tuple[str, str]:
    resource = sim.state.store.get("Practitioner", practitioner_id)
    name = resource["name"][0]
    display = " ".join([*name.get("prefix", []), *name["given"], name["family"]])
    return display, resource["telecom"][0]["value"]


async def launched(client, ehr_http, sim, **context) -> tuple[str, dict[str, Any]]:
    handle = await full_launch(client, ehr_http, sim, **context)
    body = (await client.get("/api/v1/clinician/context", headers=header(handle))).json()
    return handle, body


async def flag(client, handle: str, order: dict[str, Any], **overrides) -> str:
    created = await client.post(
        "/api/v1/clinician/flags", json=flag_body(order, **overrides), headers=header(handle)
    )
    assert created.status_code == 201, created.text
    return str(created.json()["flag_id"])


async def test_the_practitioner_user_is_named_on_the_page_and_on_identified_flags(
    client, ehr, ehr_http, tokens
):
    name, email = practitioner(ehr.sim)
    handle, body = await launched(client, ehr_http, ehr.sim)

    assert body["signed_in"]["name"] == name
    assert body["signed_in"]["email"] == email
    flag_id = await flag(client, handle, body["orders"][0])
    detail = (await client.get(f"/api/v1/flags/{flag_id}", headers=tokens.header("lead"))).json()
    assert detail["reporter"]["display"] == body["signed_in"]["name"]
    assert detail["reporter"]["email"] == email
    export = await client.get("/api/v1/exports/flags?format=csv", headers=tokens.header("analyst"))
    assert body["signed_in"]["name"] in export.text


async def test_a_practitioner_role_user_is_named_from_the_role(client, ehr, ehr_http):
    role = ehr.sim.state.store.get("PractitionerRole", "role-00002")
    _, body = await launched(client, ehr_http, ehr.sim, user="PractitionerRole/role-00002")

    assert body["signed_in"]["fhir_user"] == "PractitionerRole/role-00002"
    assert body["signed_in"]["name"] == role["practitioner"]["display"]
    assert body["signed_in"]["email"] == role["telecom"][0]["value"]


async def test_without_access_to_the_user_record_the_id_token_claims_name_the_user(
    client, ehr, ehr_http, session, settings
):
    from app.ehrs import service as ehrs
    from app.ehrs.secrets import secret_box

    await ehrs.register(
        session,
        issuer=ehr.iss,
        client_id="vl-public",
        client_auth=ehrs.ClientAuthKind.NONE,
        box=secret_box(settings),
        scopes=["launch", "openid", "fhirUser", "profile", "email", "patient/*.rs"],
    )
    await session.commit()
    name, email = practitioner(ehr.sim)

    _, body = await launched(client, ehr_http, ehr.sim)

    # The id_token's name claim: prefix, given and family (the sim's OpenID profile).
    assert body["signed_in"]["name"] == name
    assert body["signed_in"]["email"] == email
    assert body["orders"]


async def test_confidential_and_anonymous_flags_never_show_the_reporter(
    client, ehr, ehr_http, tokens, session
):
    name, email = practitioner(ehr.sim)
    handle, body = await launched(client, ehr_http, ehr.sim)
    orders = body["orders"]
    confidential = await flag(client, handle, orders[0], anonymity="confidential")
    anonymous = await flag(client, handle, orders[1], anonymity="anonymous")

    for flag_id in (confidential, anonymous):
        detail = await client.get(f"/api/v1/flags/{flag_id}", headers=tokens.header("admin"))
        assert detail.json()["reporter"]["identity_hidden"] is True
        for secret in (name, email, "prac-00001"):
            assert secret not in detail.text
    export = await client.get("/api/v1/exports/flags?format=ndjson", headers=tokens.header("admin"))
    assert export.status_code == 200
    assert name not in export.text
    assert email not in export.text
    rows = {
        str(row.id): row
        for row in (await session.execute(sa.select(Flag).where(col(Flag.id).is_not(None))))
        .scalars()
        .all()
    }
    # Confidential: kept so the reporter can be told about replies. Anonymous: not kept.
    assert (rows[confidential].reporter_display, rows[confidential].reporter_email) == (
        body["signed_in"]["name"],
        email,
    )
    assert (rows[anonymous].reporter_display, rows[anonymous].reporter_email) == (None, None)


async def test_reason_other_without_a_note_is_refused_and_nothing_is_saved(
    client, ehr, ehr_http, session
):
    handle, body = await launched(client, ehr_http, ehr.sim)

    response = await client.post(
        "/api/v1/clinician/flags",
        json=flag_body(body["orders"][0], reason="other", note="  "),
        headers=header(handle),
    )

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "note" in response.json()["detail"]
    assert (await session.execute(sa.select(sa.func.count()).select_from(Flag))).scalar() == 0
    with_note = flag_body(body["orders"][0], reason="other", note="Ordered twice by two teams.")
    ok = await client.post("/api/v1/clinician/flags", json=with_note, headers=header(handle))
    assert ok.status_code == 201, ok.text


async def test_the_session_keeps_who_is_signed_in(client, ehr, ehr_http, session):
    _, email = practitioner(ehr.sim)
    await launched(client, ehr_http, ehr.sim)

    stored = (await session.execute(sa.select(AppSession))).scalars().one()
    assert stored.reporter_email == email
    assert stored.reporter_name
