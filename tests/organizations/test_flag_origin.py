"""A flag belongs to the organization of the EHR it was launched from: the server decides, from
the EHR registration, and nothing the clinician's request says changes that."""

from __future__ import annotations

import uuid

from app.ehrs import service as ehrs
from app.organizations import service as organizations
from tests.clinician.test_clinician_api import flag_body
from tests.sim_ehr import full_launch


async def test_a_flag_belongs_to_the_organization_its_ehr_is_registered_to(
    client, ehr, ehr_http, session, session_factory, tokens
):
    practice = await organizations.add(session, "practice", name="Riverside Family Practice")
    await session.flush()
    registration = await ehrs.trusted(session, ehr.sim.fhir_base)
    registration.organization_id = practice.id
    await session.commit()
    handle = await full_launch(client, ehr_http, ehr.sim)
    headers = {"X-ValueLoop-Session": handle}
    order = (await client.get("/api/v1/clinician/context", headers=headers)).json()["orders"][0]

    # A client cannot choose: the field is not part of the flag form at all.
    chosen = flag_body(order, organization_id=str(uuid.uuid4()))
    refused_field = (
        await client.post("/api/v1/clinician/flags", json=chosen, headers=headers)
    ).status_code
    accepted = await client.post("/api/v1/clinician/flags", json=flag_body(order), headers=headers)

    assert refused_field == 422
    assert accepted.status_code == 201, accepted.text
    flag = (
        await client.get(
            f"/api/v1/flags/{accepted.json()['flag_id']}", headers=tokens.header("analyst")
        )
    ).json()
    assert flag["organization_id"] == str(practice.id)
