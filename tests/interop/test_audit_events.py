"""GET /api/v1/audit-events/export?format=fhir-ndjson: the audit trail as R4 AuditEvents for the
security team: audit-event-type / DICOM codes and C/R/U/D/E actions, the actor and the flag or
patient concerned, admins only, and the export recorded like the CSV one."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlmodel import col, select

from app.audit.models import AuditEvent
from tests.conftest import Tokens
from tests.factories import make_flag
from tests.interop.arrange import parse_ndjson

EXPORT = "/api/v1/audit-events/export"
AUDIT_TYPES = "http://terminology.hl7.org/CodeSystem/audit-event-type"
DICOM = "http://dicom.nema.org/resources/ontology/DCM"
RESTFUL = "http://hl7.org/fhir/restful-interaction"


async def fhir_audit(client: httpx.AsyncClient, tokens: Tokens, **params: Any) -> list[Any]:
    response = await client.get(
        EXPORT, params={"format": "fhir-ndjson", **params}, headers=tokens.header("admin")
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/fhir+ndjson"
    return parse_ndjson(response.text)


def row(**overrides: Any) -> AuditEvent:
    values: dict[str, Any] = {
        "at": datetime(2026, 3, 2, 12, 0, tzinfo=UTC),
        "actor_kind": "api_token",
        "actor_id": "R. Alvarez (token 1)",
        "actor_role": "analyst",
        "action": "read",
        "entity_type": "flag",
        "entity_id": str(uuid.uuid4()),
        "source_ip": "10.0.0.7",
        "request_id": uuid.uuid4().hex,
    }
    return AuditEvent(**{**values, **overrides})


async def add(session_factory, *rows: AuditEvent) -> None:
    async with session_factory() as session:
        session.add_all(rows)
        await session.commit()


def the_one_about(events: list[Any], recorded: datetime) -> Any:
    (found,) = [event for event in events if event.recorded == recorded]
    return found


@pytest.mark.parametrize(
    ("action", "type_", "subtype", "fhir_action", "outcome"),
    [
        ("read", (AUDIT_TYPES, "rest"), (RESTFUL, "read"), "R", "0"),
        ("search", (AUDIT_TYPES, "rest"), (RESTFUL, "search-type"), "E", "0"),
        ("create", (AUDIT_TYPES, "rest"), (RESTFUL, "create"), "C", "0"),
        ("update", (AUDIT_TYPES, "rest"), (RESTFUL, "update"), "U", "0"),
        ("export", (DICOM, "110106"), None, "R", "0"),
        ("sign_in", (DICOM, "110114"), (DICOM, "110122"), "E", "0"),
        ("sign_out", (DICOM, "110114"), (DICOM, "110123"), "E", "0"),
        ("refuse", (DICOM, "110113"), None, "E", "4"),
    ],
)
async def test_each_action_maps_to_its_audit_type_subtype_action_and_outcome(
    client, tokens, session_factory, action, type_, subtype, fhir_action, outcome
):
    moment = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    await add(session_factory, row(action=action, at=moment))

    event = the_one_about(await fhir_audit(client, tokens), moment)

    assert (event.type.system, event.type.code) == type_
    assert [(s.system, s.code) for s in event.subtype or []] == ([subtype] if subtype else [])
    assert (event.action, event.outcome) == (fhir_action, outcome)


async def test_a_read_names_its_actor_source_and_the_flag_by_its_registry_id(
    client, tokens, session_factory
):
    flag_id = str(uuid.uuid4())
    moment = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    await add(session_factory, row(entity_id=flag_id, at=moment))

    event = the_one_about(await fhir_audit(client, tokens), moment)

    (agent,) = event.agent
    assert (agent.who.display, agent.role[0].text, agent.requestor) == (
        "R. Alvarez (token 1)",
        "analyst",
        True,
    )
    assert (agent.network.address, agent.network.type) == ("10.0.0.7", "2")
    assert event.source.observer.display == "ValueLoop"
    (entity,) = event.entity
    assert entity.what.identifier.system == "http://127.0.0.1:8000/fhir/sid/flag"
    assert entity.what.identifier.value == flag_id


async def test_a_chart_read_names_the_patient(client, tokens, session_factory):
    moment = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    await add(
        session_factory,
        row(
            at=moment,
            actor_kind="clinician",
            actor_id="Practitioner/pr-1",
            entity_type="patient-context",
            entity_id="pt-1",
        ),
    )

    event = the_one_about(await fhir_audit(client, tokens), moment)

    (entity,) = event.entity
    assert entity.what.reference == "Patient/pt-1"
    assert entity.role.code == "1"  # object-role: Patient


async def test_a_search_carries_its_filters_and_every_flag_it_listed(
    client, tokens, session_factory
):
    one, two = await make_flag(session_factory), await make_flag(session_factory)
    listed = await client.get(
        "/api/v1/flags", params={"reason": "not_indicated"}, headers=tokens.header("analyst")
    )
    assert listed.status_code == 200

    events = await fhir_audit(client, tokens)

    (search,) = [
        event for event in events if event.subtype and event.subtype[0].code == "search-type"
    ]
    query, *flags = search.entity
    # base64Binary: the R4B model hands back the decoded bytes.
    assert json.loads(query.query) == {"reason": ["not_indicated"]}
    assert {entity.what.identifier.value for entity in flags} == {str(one.id), str(two.id)}


async def test_exporting_the_trail_as_fhir_is_itself_recorded_first(
    client, tokens, session_factory
):
    events = await fhir_audit(client, tokens)

    async with session_factory() as session:
        rows = (await session.scalars(select(AuditEvent).order_by(col(AuditEvent.id)))).all()
    assert [(r.action, r.entity_type, r.details["format"]) for r in rows] == [
        ("export", "audit_event", "fhir-ndjson")
    ]
    # Newest first, like the CSV: the export's own record is in it.
    assert [event.id for event in events] == [str(rows[0].id)]


async def test_the_audit_export_stays_csv_by_default(client, tokens):
    response = await client.get(EXPORT, headers=tokens.header("admin"))

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"


@pytest.mark.parametrize("role", ["analyst", "lead"])
async def test_only_admins_export_the_trail_as_fhir(client, tokens, role):
    response = await client.get(
        EXPORT, params={"format": "fhir-ndjson"}, headers=tokens.header(role)
    )

    assert response.status_code == 403
