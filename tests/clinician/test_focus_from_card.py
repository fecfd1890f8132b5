"""A launch from a CDS card's SMART link: the EHR relays the link's appContext in the token
response; the session keeps it, and the in-EHR page's ``focus_order`` names the card's order
when it is one of this launch's orders (fhirContext, when the EHR sends it, comes first)."""

from __future__ import annotations

import json
import uuid

import sqlalchemy as sa

from app.cds.cards import app_context_of
from app.launch.models import AppSession
from tests.clinician.test_clinician_api import encounter_orders, header
from tests.sim_ehr import a_patient_and_encounter, full_launch


def card_context(order: str) -> str:
    return app_context_of(order, "low-back-pain-imaging", uuid.uuid4())


async def focus(client, handle: str) -> str | None:
    response = await client.get("/api/v1/clinician/context", headers=header(handle))
    assert response.status_code == 200, response.text
    value = response.json()["focus_order"]
    return None if value is None else str(value)


async def test_the_session_keeps_the_app_context_and_focuses_its_order(
    client, ehr, ehr_http, session
):
    _, encounter = a_patient_and_encounter(ehr.sim)
    kind, order_id = sorted(encounter_orders(ehr.sim, encounter))[0]
    app_context = card_context(f"{kind}/{order_id}")

    handle = await full_launch(client, ehr_http, ehr.sim, app_context=app_context)

    stored = (await session.execute(sa.select(AppSession))).scalar_one()
    assert stored.app_context == app_context
    assert await focus(client, handle) == f"{kind}/{order_id}"


async def test_an_app_context_naming_another_patients_order_is_ignored(client, ehr, ehr_http):
    patient, _ = a_patient_and_encounter(ehr.sim)
    theirs = next(
        order
        for order in ehr.sim.state.store.all("ServiceRequest")
        if order["subject"]["reference"] != f"Patient/{patient}"
    )

    handle = await full_launch(
        client, ehr_http, ehr.sim, app_context=card_context(f"ServiceRequest/{theirs['id']}")
    )

    assert await focus(client, handle) is None


async def test_fhir_context_comes_before_the_app_context(client, ehr, ehr_http):
    _, encounter = a_patient_and_encounter(ehr.sim)
    first, second = sorted(encounter_orders(ehr.sim, encounter))[:2]

    handle = await full_launch(
        client,
        ehr_http,
        ehr.sim,
        fhir_context=[{"reference": "/".join(first)}],
        app_context=card_context("/".join(second)),
    )

    assert await focus(client, handle) == "/".join(first)


async def test_an_app_context_of_another_shape_names_no_order(client, ehr, ehr_http):
    _, encounter = a_patient_and_encounter(ehr.sim)
    kind, order_id = sorted(encounter_orders(ehr.sim, encounter))[0]
    foreign = json.dumps({"order": f"{kind}/{order_id}"})  # not the shape our cards write

    handle = await full_launch(client, ehr_http, ehr.sim, app_context=foreign)

    assert await focus(client, handle) is None
