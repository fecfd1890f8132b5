"""Exports: CSV and NDJSON with the API's filters and masking, streamed for any size, audited."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlmodel import col, select

from app.audit.models import AuditEvent
from app.db import create_sync_engine_for
from app.demo import synthetic
from app.flags.filters import FlagFilters
from app.insights.export import EXPORT_COLUMNS, ROWS_PER_CHUNK, ExportFormat, stream_export
from app.kit.time import utcnow
from app.organizations.scope import SYSTEM_LEVEL
from tests.conftest import Tokens
from tests.factories import make_flag

EXPORT = "/api/v1/exports/flags"


async def export(
    client: httpx.AsyncClient, tokens: Tokens, fmt: str, **params: Any
) -> httpx.Response:
    response = await client.get(
        EXPORT, params={"format": fmt, **params}, headers=tokens.header("analyst")
    )
    assert response.status_code == 200, response.text
    return response


def csv_rows(response: httpx.Response) -> list[dict[str, str]]:
    reader = csv.reader(io.StringIO(response.text))
    header = next(reader)
    assert tuple(header) == EXPORT_COLUMNS
    return [dict(zip(header, row, strict=True)) for row in reader]


def ndjson_rows(response: httpx.Response) -> list[dict[str, Any]]:
    return [json.loads(line) for line in response.text.splitlines()]


async def test_csv_export_has_the_documented_header_and_one_row_per_flag(
    client, tokens, session_factory
):
    flags = [await make_flag(session_factory) for _ in range(3)]

    response = await export(client, tokens, "csv")

    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    rows = csv_rows(response)
    assert [row["id"] for row in rows] == [str(flag.id) for flag in flags]  # oldest first
    assert rows[0]["order_code"] == "72148"
    assert rows[0]["estimated_cost"] == "207.64"
    assert rows[0]["reporter_display"] == "Dr. Avery Sample"


async def test_csv_export_of_nothing_is_just_the_header(client, tokens):
    response = await export(client, tokens, "csv")

    assert response.text == ",".join(EXPORT_COLUMNS) + "\r\n"


async def test_ndjson_export_has_one_object_per_flag_with_the_export_columns(
    client, tokens, session_factory
):
    flags = [await make_flag(session_factory, tags=["order-set"]) for _ in range(2)]

    response = await export(client, tokens, "ndjson")

    assert response.headers["content-type"] == "application/x-ndjson"
    rows = ndjson_rows(response)
    assert [row["id"] for row in rows] == [str(flag.id) for flag in flags]
    assert all(tuple(row) == EXPORT_COLUMNS for row in rows)
    assert rows[0]["tags"] == "order-set"
    assert rows[0]["cost_year"] == 2022


@pytest.mark.parametrize("fmt", ["csv", "ndjson"])
async def test_export_is_an_attachment_named_after_today(client, tokens, fmt):
    before = utcnow().date()
    response = await export(client, tokens, fmt)
    after = utcnow().date()

    assert response.headers["content-disposition"] in {
        f'attachment; filename="valueloop-flags-{day.isoformat()}.{fmt}"' for day in (before, after)
    }
    assert response.headers["cache-control"] == "no-store"


async def test_export_applies_the_list_filters(client, tokens, session_factory):
    wanted = await make_flag(session_factory, reason="low_benefit", driver="protocol")
    await make_flag(session_factory, reason="low_benefit", driver="patient_request")
    await make_flag(session_factory, reason="not_indicated", driver="protocol")

    csv_response = await export(client, tokens, "csv", reason="low_benefit", driver="protocol")
    ndjson_response = await export(
        client, tokens, "ndjson", reason="low_benefit", driver="protocol"
    )

    assert [row["id"] for row in csv_rows(csv_response)] == [str(wanted.id)]
    assert [row["id"] for row in ndjson_rows(ndjson_response)] == [str(wanted.id)]


async def test_export_filters_by_creation_day(client, tokens, session_factory):
    flag = await make_flag(session_factory)

    day = flag.created_at.date().isoformat()
    response = await export(
        client, tokens, "csv", created_from="2020-01-01", created_to="2020-12-31"
    )
    todays = await export(client, tokens, "csv", created_from=day, created_to=day)

    assert csv_rows(response) == []
    assert len(csv_rows(todays)) == 1


async def test_export_hides_confidential_and_anonymous_reporters(client, tokens, session_factory):
    identified = await make_flag(session_factory, anonymity="identified")
    confidential = await make_flag(session_factory, anonymity="confidential")
    anonymous = await make_flag(session_factory, anonymity="anonymous")

    by_id = {row["id"]: row for row in csv_rows(await export(client, tokens, "csv"))}
    as_json = {row["id"]: row for row in ndjson_rows(await export(client, tokens, "ndjson"))}

    identity = ("reporter_fhir_user", "reporter_display")
    assert [by_id[str(identified.id)][field] for field in identity] == [
        "Practitioner/pr-1",
        "Dr. Avery Sample",
    ]
    for hidden in (confidential, anonymous):
        assert [by_id[str(hidden.id)][field] for field in identity] == ["", ""]
        assert [as_json[str(hidden.id)][field] for field in identity] == [None, None]
        assert as_json[str(hidden.id)]["reporter_anonymity"] == hidden.anonymity
        assert as_json[str(hidden.id)]["reporter_role"] == "physician"


@pytest.mark.parametrize("fmt", ["csv", "ndjson"])
async def test_export_leaves_out_the_patient_fhir_id(client, tokens, session_factory, fmt):
    await make_flag(
        session_factory, patient={"fhir_id": "pt-do-not-export-4711", "age_band": "65-74"}
    )

    response = await export(client, tokens, fmt)

    assert "patient_fhir_id" not in EXPORT_COLUMNS
    assert "pt-do-not-export-4711" not in response.text
    assert "65-74" in response.text


@pytest.mark.parametrize("note", ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1:A2)"])
async def test_csv_neutralises_a_note_that_a_spreadsheet_would_run_as_a_formula(
    client, tokens, session_factory, note
):
    await make_flag(session_factory, note=note)

    (row,) = csv_rows(await export(client, tokens, "csv"))
    (record,) = ndjson_rows(await export(client, tokens, "ndjson"))

    assert row["note"] == "'" + note
    assert record["note"] == note  # NDJSON is data for programs, not a spreadsheet: unchanged


async def test_csv_leaves_an_ordinary_note_alone(client, tokens, session_factory):
    await make_flag(session_factory, note="Week-one back pain, no red flags.")

    (row,) = csv_rows(await export(client, tokens, "csv"))

    assert row["note"] == "Week-one back pain, no red flags."


@pytest.mark.parametrize("fmt", ["csv", "ndjson"])
async def test_an_export_larger_than_one_chunk_streams_every_row(client, tokens, database_url, fmt):
    total = 2 * ROWS_PER_CHUNK + 200
    engine = create_sync_engine_for(database_url)
    try:
        synthetic.seed(engine, total, seed=5, now=datetime(2026, 6, 1, tzinfo=UTC))
    finally:
        engine.dispose()

    response = await export(client, tokens, fmt)

    rows = csv_rows(response) if fmt == "csv" else ndjson_rows(response)
    assert len(rows) == total
    assert len({row["id"] for row in rows}) == total
    created = [row["created_at"] for row in rows]
    assert created == sorted(created)


async def test_export_stream_yields_one_chunk_per_batch_of_rows(session_factory, database_url):
    total = 2 * ROWS_PER_CHUNK + 200
    engine = create_sync_engine_for(database_url)
    try:
        synthetic.seed(engine, total, seed=6, now=datetime(2026, 6, 1, tzinfo=UTC))
    finally:
        engine.dispose()

    chunks = [
        chunk
        async for chunk in stream_export(
            session_factory, FlagFilters(), ExportFormat.NDJSON, scope=SYSTEM_LEVEL
        )
    ]

    assert [chunk.count(b"\n") for chunk in chunks] == [ROWS_PER_CHUNK, ROWS_PER_CHUNK, 200]


async def test_export_writes_an_audit_event_with_the_filters_and_format(
    client, tokens, session_factory, session
):
    await make_flag(session_factory)

    await export(client, tokens, "ndjson", reason="not_indicated", created_from="2026-01-01")

    events = (
        await session.scalars(select(AuditEvent).where(col(AuditEvent.action) == "export"))
    ).all()
    assert len(events) == 1
    (event,) = events
    assert event.entity_type == "flag"
    assert event.actor_role == "analyst"
    assert event.details == {
        "filters": {"reason": ["not_indicated"], "created_from": "2026-01-01"},
        "format": "ndjson",
    }


async def test_export_needs_the_export_permission(client, tokens):
    response = await client.get(EXPORT, headers=tokens.header("lead"))

    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"


async def test_export_refuses_an_unknown_format(client, tokens):
    response = await client.get(EXPORT, params={"format": "xlsx"}, headers=tokens.header("analyst"))

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "format"
