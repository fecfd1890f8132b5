"""The clinician API after a real launch: the encounter's orders, flagging one, and refusals."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import httpx
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.launch.models import AppSession
from tests.sim_ehr import a_patient_and_encounter, full_launch


def header(handle: str) -> dict[str, str]:
    return {"X-ValueLoop-Session": handle}


def encounter_orders(sim, encounter: str) -> set[tuple[str, str]]:
    return {
        (kind, resource["id"])
        for kind in ("ServiceRequest", "MedicationRequest")
        for resource in sim.state.store.all(kind)
        if resource.get("encounter", {}).get("reference") == f"Encounter/{encounter}"
    }


async def test_context_lists_exactly_the_encounters_orders(client, ehr, ehr_http):
    _, encounter = a_patient_and_encounter(ehr.sim)
    handle = await full_launch(client, ehr_http, ehr.sim)

    response = await client.get("/api/v1/clinician/context", headers=header(handle))

    assert response.status_code == 200, response.text
    body = response.json()
    assert {(o["resource_type"], o["fhir_id"]) for o in body["orders"]} == encounter_orders(
        ehr.sim, encounter
    )
    assert all(order["display"] and order["status"] for order in body["orders"])
    assert body["encounter"]["fhir_id"] == encounter
    assert body["patient"]["mrn"]  # the EHR asked for a banner
    assert response.headers["cache-control"] == "no-store"


async def test_no_banner_when_the_ehr_shows_the_patient_itself(client, ehr, ehr_http):
    handle = await full_launch(client, ehr_http, ehr.sim, need_patient_banner=False)

    body = (await client.get("/api/v1/clinician/context", headers=header(handle))).json()

    assert body["patient"] is None


async def test_reading_the_context_is_audited(client, ehr, ehr_http, session):
    patient, _ = a_patient_and_encounter(ehr.sim)
    handle = await full_launch(client, ehr_http, ehr.sim)

    await client.get("/api/v1/clinician/context", headers=header(handle))

    rows = (await session.execute(sa.select(AuditEvent))).scalars().all()
    assert [(r.action, r.entity_type, r.entity_id, r.actor_id) for r in rows] == [
        ("read", "patient-context", patient, "Practitioner/prac-00001")
    ]
    assert rows[0].issuer == ehr.iss


async def test_requests_without_a_live_session_are_refused(client, ehr):
    for headers in ({}, header("made-up-handle")):
        response = await client.get("/api/v1/clinician/context", headers=headers)
        assert response.status_code == 401
        assert "from the EHR" in response.json()["detail"]


async def test_two_launches_never_see_each_others_patient(client, ehr, ehr_http):
    first_patient, _ = a_patient_and_encounter(ehr.sim)
    other = next(
        e
        for e in ehr.sim.state.store.all("Encounter")
        if e["status"] == "in-progress" and e["subject"]["reference"] != f"Patient/{first_patient}"
    )
    first = await full_launch(client, ehr_http, ehr.sim)
    second = await full_launch(
        client,
        ehr_http,
        ehr.sim,
        patient=other["subject"]["reference"].split("/")[1],
        encounter=other["id"],
    )

    one = (await client.get("/api/v1/clinician/context", headers=header(first))).json()
    two = (await client.get("/api/v1/clinician/context", headers=header(second))).json()

    assert one["encounter"]["fhir_id"] != two["encounter"]["fhir_id"]
    assert not {o["fhir_id"] for o in one["orders"]} & {o["fhir_id"] for o in two["orders"]}


def flag_body(order: dict[str, str], **overrides: object) -> dict[str, object]:
    return {
        "resource_type": order["resource_type"],
        "order_id": order["fhir_id"],
        "reason": "not_indicated",
        "driver": "patient_request",
        "reporter_role": "physician",
        "idempotency_key": uuid.uuid4().hex,
        **overrides,
    }


async def test_flagging_an_order_lands_in_the_registry_with_the_ehrs_data(
    client, ehr, ehr_http, tokens
):
    handle = await full_launch(client, ehr_http, ehr.sim)
    orders = (await client.get("/api/v1/clinician/context", headers=header(handle))).json()[
        "orders"
    ]
    order = orders[0]

    created = await client.post(
        "/api/v1/clinician/flags", json=flag_body(order), headers=header(handle)
    )

    assert created.status_code == 201, created.text
    flag_id = created.json()["flag_id"]
    detail = (await client.get(f"/api/v1/flags/{flag_id}", headers=tokens.header("analyst"))).json()
    assert detail["order"]["fhir_id"] == order["fhir_id"]
    assert detail["order"]["code"]["display"] == order["display"]
    assert detail["reporter"]["fhir_user"] == "Practitioner/prac-00001"
    assert detail["patient"]["age_band"]
    assert detail["issuer"] == ehr.iss


@contextmanager
def fhir_reads(app) -> Iterator[list[str]]:
    """The FHIR paths the app requests from the EHR while the block runs."""
    paths: list[str] = []

    async def note(request: httpx.Request) -> None:
        if "/fhir/" in request.url.path:
            paths.append(request.url.path.split("/fhir/", 1)[1])

    hooks = app.state.http.event_hooks["request"]
    hooks.append(note)
    try:
        yield paths
    finally:
        hooks.remove(note)


async def test_a_flag_after_the_context_read_asks_the_ehr_for_its_order_alone(
    client, app, ehr, ehr_http, tokens
):
    patient, encounter = a_patient_and_encounter(ehr.sim)
    handle = await full_launch(client, ehr_http, ehr.sim)
    order = (await client.get("/api/v1/clinician/context", headers=header(handle))).json()[
        "orders"
    ][0]

    with fhir_reads(app) as paths:
        created = await client.post(
            "/api/v1/clinician/flags", json=flag_body(order), headers=header(handle)
        )

    assert created.status_code == 201, created.text
    assert paths == [f"{order['resource_type']}/{order['fhir_id']}"]
    flag_id = created.json()["flag_id"]
    detail = (await client.get(f"/api/v1/flags/{flag_id}", headers=tokens.header("lead"))).json()
    assert detail["patient"]["fhir_id"] == patient
    assert detail["patient"]["age_band"]
    assert detail["patient"]["sex"]
    assert detail["encounter"]["fhir_id"] == encounter
    assert detail["encounter"]["class_code"]


async def test_a_flag_without_a_context_read_reads_patient_and_encounter_itself(
    client, app, ehr, ehr_http, tokens, session
):
    patient, encounter = a_patient_and_encounter(ehr.sim)
    handle = await full_launch(client, ehr_http, ehr.sim)
    order = (await client.get("/api/v1/clinician/context", headers=header(handle))).json()[
        "orders"
    ][0]
    # A session from before flag contexts were kept (or a page that never read its context).
    await session.execute(sa.update(AppSession).values(flag_context=None))
    await session.commit()

    with fhir_reads(app) as paths:
        created = await client.post(
            "/api/v1/clinician/flags", json=flag_body(order), headers=header(handle)
        )

    assert created.status_code == 201, created.text
    assert sorted(paths) == sorted(
        [
            f"{order['resource_type']}/{order['fhir_id']}",
            f"Patient/{patient}",
            f"Encounter/{encounter}",
        ]
    )
    flag_id = created.json()["flag_id"]
    detail = (await client.get(f"/api/v1/flags/{flag_id}", headers=tokens.header("lead"))).json()
    assert detail["patient"]["age_band"]
    assert detail["encounter"]["fhir_id"] == encounter


async def test_a_retried_flag_makes_one_flag(client, ehr, ehr_http):
    handle = await full_launch(client, ehr_http, ehr.sim)
    order = (await client.get("/api/v1/clinician/context", headers=header(handle))).json()[
        "orders"
    ][0]
    body = flag_body(order)

    first = await client.post("/api/v1/clinician/flags", json=body, headers=header(handle))
    again = await client.post("/api/v1/clinician/flags", json=body, headers=header(handle))

    assert (first.json()["created"], again.json()["created"]) == (True, False)
    assert first.json()["flag_id"] == again.json()["flag_id"]


async def test_a_nul_in_the_note_is_refused_and_nothing_is_saved(client, ehr, ehr_http):
    handle = await full_launch(client, ehr_http, ehr.sim)
    order = (await client.get("/api/v1/clinician/context", headers=header(handle))).json()[
        "orders"
    ][0]

    refused = await client.post(
        "/api/v1/clinician/flags",
        json=flag_body(order, note="before\x00after"),
        headers=header(handle),
    )
    mine = await client.get("/api/v1/clinician/flags", headers=header(handle))

    assert refused.status_code == 422, refused.text
    assert [error["field"] for error in refused.json()["errors"]] == ["note"]
    assert mine.status_code == 200  # the same connection goes on serving
    assert mine.json()["items"] == []


async def test_a_flag_sent_from_another_origin_is_refused_and_not_saved(client, ehr, ehr_http):
    handle = await full_launch(client, ehr_http, ehr.sim)
    order = (await client.get("/api/v1/clinician/context", headers=header(handle))).json()[
        "orders"
    ][0]

    refused = await client.post(
        "/api/v1/clinician/flags",
        json=flag_body(order),
        headers={**header(handle), "Origin": "https://attacker.example"},
    )
    mine = await client.get("/api/v1/clinician/flags", headers=header(handle))

    assert refused.status_code == 403, refused.text
    assert mine.json()["items"] == []


async def test_an_order_outside_the_launch_cannot_be_flagged(client, ehr, ehr_http):
    patient, _ = a_patient_and_encounter(ehr.sim)
    handle = await full_launch(client, ehr_http, ehr.sim)
    foreign = next(
        r
        for r in ehr.sim.state.store.all("ServiceRequest")
        if r["subject"]["reference"] != f"Patient/{patient}"
    )
    body = flag_body({"resource_type": "ServiceRequest", "fhir_id": foreign["id"]})

    response = await client.post("/api/v1/clinician/flags", json=body, headers=header(handle))

    assert response.status_code == 422
    assert response.json()["type"].endswith("order-not-in-launch")


async def test_a_made_up_order_id_is_refused(client, ehr, ehr_http):
    handle = await full_launch(client, ehr_http, ehr.sim)
    body = flag_body({"resource_type": "ServiceRequest", "fhir_id": "no-such-order"})

    response = await client.post("/api/v1/clinician/flags", json=body, headers=header(handle))

    assert response.status_code == 422
    assert response.json()["type"].endswith("order-not-in-launch")


async def test_an_unreachable_ehr_gives_a_clear_error_and_saves_nothing(
    client, ehr, ehr_http, session
):
    handle = await full_launch(client, ehr_http, ehr.sim)
    await ehr_http.put(f"{ehr.sim.base_url}/_sim/faults", json={"service_unavailable": 100})
    try:
        response = await client.get("/api/v1/clinician/context", headers=header(handle))
    finally:
        await ehr_http.put(f"{ehr.sim.base_url}/_sim/faults", json={})

    assert response.status_code == 502
    assert "try again" in response.json()["detail"]


async def test_no_token_or_handle_appears_in_logs_or_responses(
    client, ehr, ehr_http, session, caplog
):
    caplog.set_level(logging.DEBUG)
    handle = await full_launch(client, ehr_http, ehr.sim)
    context = await client.get("/api/v1/clinician/context", headers=header(handle))
    stored = (await session.execute(sa.select(AppSession))).scalar_one()
    token = client._transport.app.state.settings  # settings, to decrypt below
    from app.launch.secrets import token_box

    access = token_box(token).decrypt(stored.access_token_encrypted)

    assert access not in caplog.text
    assert handle not in caplog.text
    assert access not in context.text


async def flag_first_order(client, handle: str) -> str:
    order = (await client.get("/api/v1/clinician/context", headers=header(handle))).json()[
        "orders"
    ][0]
    created = await client.post(
        "/api/v1/clinician/flags", json=flag_body(order), headers=header(handle)
    )
    return str(created.json()["flag_id"])


async def test_a_reply_from_the_quality_team_shows_as_unread_until_opened(
    client, ehr, ehr_http, tokens
):
    handle = await full_launch(client, ehr_http, ehr.sim)
    flag_id = await flag_first_order(client, handle)
    reply = await client.post(
        f"/api/v1/flags/{flag_id}/replies",
        json={"body": "Thanks, we removed it from the order set."},
        headers=tokens.header("analyst"),
    )
    assert reply.status_code == 201

    mine = (await client.get("/api/v1/clinician/flags", headers=header(handle))).json()

    assert mine["unread"] == 1
    (item,) = mine["items"]
    assert item["id"] == flag_id
    assert [r["body"] for r in item["replies"]] == ["Thanks, we removed it from the order set."]
    assert item["replies"][0]["unread"] is True

    opened = await client.post(f"/api/v1/clinician/flags/{flag_id}/read", headers=header(handle))
    assert opened.status_code == 204
    again = (await client.get("/api/v1/clinician/flags", headers=header(handle))).json()
    assert again["unread"] == 0


async def test_my_flags_follow_the_reporter_across_launches(client, ehr, ehr_http):
    first = await full_launch(client, ehr_http, ehr.sim)
    flag_id = await flag_first_order(client, first)

    later = await full_launch(client, ehr_http, ehr.sim)
    mine = (await client.get("/api/v1/clinician/flags", headers=header(later))).json()

    assert [item["id"] for item in mine["items"]] == [flag_id]


async def test_a_reporter_cannot_mark_someone_elses_flag(client, ehr, ehr_http, session_factory):
    from tests.factories import make_flag

    handle = await full_launch(client, ehr_http, ehr.sim)
    someone_else = await make_flag(session_factory)

    response = await client.post(
        f"/api/v1/clinician/flags/{someone_else.id}/read", headers=header(handle)
    )

    assert response.status_code == 404


async def test_the_partitioned_cookie_works_when_the_header_is_missing(client, ehr, ehr_http):
    handle = await full_launch(client, ehr_http, ehr.sim)

    response = await client.get(
        "/api/v1/clinician/context", headers={"Cookie": f"__Host-vl_session={handle}"}
    )

    assert response.status_code == 200


async def test_the_callback_sets_the_session_cookie_as_partitioned_and_secure(
    client, ehr, ehr_http
):
    from tests.sim_ehr import ehr_launch_id

    launch = await ehr_launch_id(ehr_http, ehr.sim)
    started = await client.get("/launch", params={"iss": ehr.iss, "launch": launch})
    callback = (await ehr_http.get(started.headers["location"])).headers["location"]
    path = callback[callback.index("/launch/callback") :]

    finished = await client.get(path)

    cookies = finished.headers.get_list("set-cookie")
    session_cookie = next(c for c in cookies if c.startswith("__Host-vl_session="))
    for attribute in (
        "Secure",
        "HttpOnly",
        "SameSite=None",
        "Partitioned",
        "Path=/;",
    ):
        assert attribute in session_cookie
    assert finished.headers["content-security-policy"].endswith(
        f"frame-ancestors {ehr.sim.base_url}"
    )
    assert "x-frame-options" not in finished.headers


async def expire_access_token(session) -> None:
    from app.kit.time import utcnow

    await session.execute(
        sa.update(AppSession).values(access_expires_at=utcnow() - timedelta(minutes=5))
    )
    await session.commit()


async def test_an_expired_access_token_is_refreshed_before_use(client, ehr, ehr_http, session):
    handle = await full_launch(client, ehr_http, ehr.sim)
    before = (await session.execute(sa.select(AppSession))).scalar_one().access_token_encrypted
    await expire_access_token(session)

    response = await client.get("/api/v1/clinician/context", headers=header(handle))

    assert response.status_code == 200, response.text
    session.expire_all()
    after = (await session.execute(sa.select(AppSession))).scalar_one()
    assert after.access_token_encrypted != before
    assert after.access_expires_at is not None


async def test_an_expired_token_without_refresh_asks_to_launch_again(
    client, ehr, ehr_http, session
):
    handle = await full_launch(client, ehr_http, ehr.sim)
    await session.execute(sa.update(AppSession).values(refresh_token_encrypted=None))
    await expire_access_token(session)

    response = await client.get("/api/v1/clinician/context", headers=header(handle))

    assert response.status_code == 401
    assert "again from the EHR" in response.json()["detail"]


async def test_standalone_launch_picks_a_patient_at_the_ehr(client, ehr, ehr_http, session):
    patient, _ = a_patient_and_encounter(ehr.sim)

    started = await client.get("/launch", params={"iss": ehr.iss})
    authorize_url = started.headers["location"]
    assert "launch%2Fpatient" in authorize_url or "launch/patient" in authorize_url
    picker = await ehr_http.get(authorize_url)
    assert "Select a patient" in picker.text
    authorized = await ehr_http.get(authorize_url + f"&sim_patient={patient}")
    callback = authorized.headers["location"]
    finished = await client.get(callback[callback.index("/launch/callback") :])

    assert finished.status_code == 200
    stored = (await session.execute(sa.select(AppSession))).scalar_one()
    assert (stored.patient_id, stored.encounter_id) == (patient, None)


async def test_a_narrower_grant_shows_less_and_says_so(client, ehr, ehr_http, session, settings):
    from app.ehrs import service as ehrs
    from app.ehrs.secrets import secret_box

    await ehrs.register(
        session,
        issuer=ehr.iss,
        client_id="vl-public",
        client_auth=ehrs.ClientAuthKind.NONE,
        box=secret_box(settings),
        scopes=[
            "launch",
            "openid",
            "fhirUser",
            "patient/Patient.rs",
            "patient/Encounter.rs",
            "patient/ServiceRequest.rs",
        ],
    )
    await session.commit()
    _, encounter = a_patient_and_encounter(ehr.sim)
    handle = await full_launch(client, ehr_http, ehr.sim)

    body = (await client.get("/api/v1/clinician/context", headers=header(handle))).json()

    assert {o["resource_type"] for o in body["orders"]} <= {"ServiceRequest"}
    assert {o["fhir_id"] for o in body["orders"]} == {
        i for kind, i in encounter_orders(ehr.sim, encounter) if kind == "ServiceRequest"
    }
    assert any("MedicationRequest" in warning for warning in body["warnings"])


async def test_a_rate_limited_ehr_is_retried_and_the_page_still_loads(client, ehr, ehr_http):
    handle = await full_launch(client, ehr_http, ehr.sim)
    await ehr_http.put(
        f"{ehr.sim.base_url}/_sim/faults",
        json={"too_many_requests": 2, "retry_after_seconds": 0},
    )
    try:
        response = await client.get("/api/v1/clinician/context", headers=header(handle))
    finally:
        await ehr_http.put(f"{ehr.sim.base_url}/_sim/faults", json={})

    assert response.status_code == 200, response.text


async def test_malformed_json_from_the_ehr_is_a_clear_error_not_a_crash(client, ehr, ehr_http):
    handle = await full_launch(client, ehr_http, ehr.sim)
    await ehr_http.put(f"{ehr.sim.base_url}/_sim/faults", json={"malformed_json": 1})
    try:
        response = await client.get("/api/v1/clinician/context", headers=header(handle))
    finally:
        await ehr_http.put(f"{ehr.sim.base_url}/_sim/faults", json={})

    assert response.status_code == 502
    assert response.headers["content-type"] == "application/problem+json"
    assert "could not read" in response.json()["detail"]


async def test_parallel_requests_refresh_once_with_a_rotating_refresh_token(
    client, ehr, ehr_http, session
):
    handle = await full_launch(client, ehr_http, ehr.sim)
    await expire_access_token(session)

    # The EHR rotates refresh tokens: a second refresh with the same token would be refused.
    responses = await asyncio.gather(
        client.get("/api/v1/clinician/context", headers=header(handle)),
        client.get("/api/v1/clinician/context", headers=header(handle)),
        client.get("/api/v1/clinician/flags", headers=header(handle)),
    )

    assert [r.status_code for r in responses] == [200, 200, 200]
    session.expire_all()
    stored = (await session.execute(sa.select(AppSession))).scalar_one()
    assert stored.version == 2  # exactly one refresh


async def test_parallel_requests_of_one_session_do_not_conflict(client, ehr, ehr_http):
    handle = await full_launch(client, ehr_http, ehr.sim)

    responses = await asyncio.gather(
        *(client.get("/api/v1/clinician/flags", headers=header(handle)) for _ in range(5))
    )

    assert {r.status_code for r in responses} == {200}


async def test_activity_keeps_a_session_alive_and_idleness_ends_it(client, ehr, ehr_http, session):
    from app.kit.time import utcnow

    handle = await full_launch(client, ehr_http, ehr.sim)
    five_minutes_ago = utcnow() - timedelta(minutes=5)
    await session.execute(sa.update(AppSession).values(last_seen_at=five_minutes_ago))
    await session.commit()

    assert (await client.get("/api/v1/clinician/flags", headers=header(handle))).status_code == 200
    session.expire_all()
    seen = (await session.execute(sa.select(AppSession))).scalar_one().last_seen_at
    assert seen > five_minutes_ago + timedelta(minutes=4)

    await session.execute(
        sa.update(AppSession).values(last_seen_at=utcnow() - timedelta(minutes=31))
    )
    await session.commit()
    idle = await client.get("/api/v1/clinician/flags", headers=header(handle))
    assert idle.status_code == 401


async def test_a_launch_on_an_order_names_it_as_the_focus(client, ehr, ehr_http):
    _, encounter = a_patient_and_encounter(ehr.sim)
    kind, order_id = sorted(encounter_orders(ehr.sim, encounter))[0]
    handle = await full_launch(
        client, ehr_http, ehr.sim, fhir_context=[{"reference": f"{kind}/{order_id}"}]
    )

    body = (await client.get("/api/v1/clinician/context", headers=header(handle))).json()

    assert body["focus_order"] == f"{kind}/{order_id}"


async def test_listing_my_flags_is_audited(client, ehr, ehr_http, session):
    handle = await full_launch(client, ehr_http, ehr.sim)

    await client.get("/api/v1/clinician/flags", headers=header(handle))

    rows = (await session.execute(sa.select(AuditEvent))).scalars().all()
    assert [(r.action, r.actor_id) for r in rows] == [("search", "Practitioner/prac-00001")]


async def test_orders_flagged_in_an_earlier_launch_are_marked(client, ehr, ehr_http):
    first = await full_launch(client, ehr_http, ehr.sim)
    orders = (await client.get("/api/v1/clinician/context", headers=header(first))).json()["orders"]
    await client.post("/api/v1/clinician/flags", json=flag_body(orders[0]), headers=header(first))

    later = await full_launch(client, ehr_http, ehr.sim)
    again = (await client.get("/api/v1/clinician/context", headers=header(later))).json()["orders"]

    marked = {o["fhir_id"] for o in again if o["flagged_by_you"]}
    assert marked == {orders[0]["fhir_id"]}
