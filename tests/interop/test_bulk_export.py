"""GET /api/v1/exports/flags?format=fhir-ndjson: the flags' resources one per line, narrowed by
resource type and by the flag filters, streamed for any number of flags, export-permission
only, and audited like the CSV export."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import col, select

from app.audit.models import AuditEvent
from app.db import create_sync_engine_for
from app.demo import synthetic
from app.flags.models import FlagEvent
from app.flags.workflow import Status
from app.interop.export import FLAGS_PER_CHUNK
from tests.conftest import Tokens
from tests.factories import make_flag, make_staff
from tests.interop.arrange import move, parse_ndjson, reply

EXPORT = "/api/v1/exports/flags"


async def fhir_export(
    client: httpx.AsyncClient, tokens: Tokens, **params: Any
) -> tuple[httpx.Response, list[Any]]:
    response = await client.get(
        EXPORT, params={"format": "fhir-ndjson", **params}, headers=tokens.header("analyst")
    )
    assert response.status_code == 200, response.text
    return response, parse_ndjson(response.text)


def count_types(resources: list[Any]) -> Counter[str]:
    return Counter(resource.get_resource_type() for resource in resources)


async def replied_flag(factory, **overrides: Any):
    flag = await make_flag(factory, **overrides)
    person = await make_staff(factory)
    await move(factory, flag.id, Status.TRIAGED, person)
    await reply(factory, flag.id, "Thanks, noted.", person)
    return flag


async def test_every_resource_of_every_flag_is_one_valid_line(client, tokens, session_factory):
    await replied_flag(session_factory)
    await make_flag(session_factory)

    response, resources = await fhir_export(client, tokens)

    assert response.headers["content-type"] == "application/fhir+ndjson"
    assert response.headers["content-disposition"].endswith('.ndjson"')
    # Flag one: created, triaged, replied (3 events, 1 reply); flag two: created.
    assert count_types(resources) == {
        "DetectedIssue": 2,
        "Task": 2,
        "Communication": 1,
        "Provenance": 4,
    }


@pytest.mark.parametrize(
    ("types", "expected"),
    [
        ({"type": "Task"}, {"Task"}),
        ({"type": "DetectedIssue,Communication"}, {"DetectedIssue", "Communication"}),
        ({"type": ["Provenance", "Task"]}, {"Provenance", "Task"}),
    ],
)
async def test_the_type_filter_keeps_only_the_types_asked_for(
    client, tokens, session_factory, types, expected
):
    await replied_flag(session_factory)

    _, resources = await fhir_export(client, tokens, **types)

    assert set(count_types(resources)) == expected


@pytest.mark.parametrize("bad", ["Patient", "Task,Flag", ","])
async def test_a_type_this_export_does_not_make_is_refused_with_422(client, tokens, bad):
    response = await client.get(
        EXPORT, params={"format": "fhir-ndjson", "type": bad}, headers=tokens.header("analyst")
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert "DetectedIssue" in response.json()["detail"]


async def test_a_type_filter_without_the_fhir_format_is_refused_and_not_audited(
    client, tokens, session_factory
):
    response = await client.get(
        EXPORT, params={"format": "csv", "type": "Task"}, headers=tokens.header("analyst")
    )

    assert response.status_code == 422
    async with session_factory() as session:
        assert (await session.scalars(select(AuditEvent))).all() == []


async def test_the_flag_filters_narrow_the_fhir_export(client, tokens, session_factory):
    wanted = await make_flag(session_factory, reason="low_benefit", driver="protocol")
    await make_flag(session_factory, reason="low_benefit", driver="patient_request")
    await make_flag(session_factory, reason="not_indicated", driver="protocol")

    _, resources = await fhir_export(
        client, tokens, type="DetectedIssue", reason="low_benefit", driver="protocol"
    )

    assert [issue.identifier[0].value for issue in resources] == [str(wanted.id)]


async def test_a_hidden_reporter_is_named_nowhere_in_the_bulk_export(
    client, tokens, session_factory
):
    await replied_flag(session_factory, anonymity="confidential")

    response, _ = await fhir_export(client, tokens)

    for identity in ("Practitioner/pr-1", "Dr. Avery Sample", "avery.sample@example.org"):
        assert identity not in response.text


async def test_the_bulk_lines_are_the_resources_of_the_single_flag_bundle(
    client, tokens, session_factory
):
    flag = await replied_flag(session_factory)

    response, _ = await fhir_export(client, tokens)
    bundle = await client.get(f"/api/v1/flags/{flag.id}/fhir", headers=tokens.header("analyst"))

    in_bundle = {entry["resource"]["id"]: entry["resource"] for entry in bundle.json()["entry"]}
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert {line["id"]: line for line in lines} == in_bundle


async def test_the_fhir_export_is_audited_with_its_filters_format_and_types(
    client, tokens, session_factory
):
    await fhir_export(client, tokens, type="Task,DetectedIssue", reason="low_benefit")

    async with session_factory() as session:
        rows = (await session.scalars(select(AuditEvent).order_by(col(AuditEvent.id)))).all()
    assert [(row.action, row.entity_type, row.details) for row in rows] == [
        (
            "export",
            "flag",
            {
                "filters": {"reason": ["low_benefit"]},
                "format": "fhir-ndjson",
                "types": ["DetectedIssue", "Task"],
            },
        )
    ]


async def test_a_lead_without_export_permission_gets_403_on_the_fhir_export(client, tokens):
    response = await client.get(
        EXPORT, params={"format": "fhir-ndjson"}, headers=tokens.header("lead")
    )

    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"


async def test_an_export_larger_than_one_batch_streams_every_flag_once(
    client, tokens, database_url
):
    total = 2 * FLAGS_PER_CHUNK + 30
    engine = create_sync_engine_for(database_url)
    try:
        synthetic.seed(engine, total, seed=7, now=datetime(2026, 6, 1, tzinfo=UTC))
    finally:
        engine.dispose()

    _, resources = await fhir_export(client, tokens, type="DetectedIssue,Task,Provenance")

    counts = count_types(resources)
    assert (counts["DetectedIssue"], counts["Task"]) == (total, total)
    issued = [r.identifiedDateTime for r in resources if r.get_resource_type() == "DetectedIssue"]
    assert issued == sorted(issued)  # oldest flag first, as the other exports
    assert counts["Provenance"] == timeline_events(database_url)  # one per event, none lost


def timeline_events(database_url: str) -> int:
    engine = create_sync_engine_for(database_url)
    try:
        with engine.connect() as connection:
            return int(
                connection.execute(sa.select(sa.func.count()).select_from(FlagEvent)).scalar_one()
            )
    finally:
        engine.dispose()
