"""The audit trail is readable by admins only, newest first, pages without gaps, filters by
actor, flag, patient and day, exports as safe CSV, and records its own reading."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from app.audit.models import AuditEvent
from app.audit.repository import ROWS_PER_CHUNK
from tests.conftest import Tokens
from tests.factories import make_flag


async def test_admin_reads_who_opened_which_flag_newest_first(client, tokens, session_factory):
    first = await make_flag(session_factory)
    second = await make_flag(session_factory)
    for flag in (first, second):
        response = await client.get(f"/api/v1/flags/{flag.id}", headers=tokens.header("analyst"))
        assert response.status_code == 200

    response = await client.get("/api/v1/audit-events", headers=tokens.header("admin"))

    assert response.status_code == 200
    items = response.json()["items"]
    assert [(item["action"], item["entity_id"]) for item in items] == [
        ("read", str(second.id)),
        ("read", str(first.id)),
    ]
    assert items[0]["actor_role"] == "analyst"
    assert "Test analyst" in items[0]["actor_id"]
    assert items[0]["issuer"] == first.issuer
    assert items[0]["request_id"]


async def test_audit_pages_follow_before_id_without_gaps(client, tokens, session_factory):
    flags = [await make_flag(session_factory) for _ in range(5)]
    for flag in flags:
        await client.get(f"/api/v1/flags/{flag.id}", headers=tokens.header("analyst"))

    seen: list[str] = []
    before = None
    for _ in range(5):
        params = {"limit": 2, **({"before_id": before} if before else {})}
        page = (
            await client.get("/api/v1/audit-events", params=params, headers=tokens.header("admin"))
        ).json()
        seen += [item["entity_id"] for item in page["items"]]
        before = page["next_before_id"]
        if before is None:
            break
    assert seen == [str(flag.id) for flag in reversed(flags)]


async def test_audit_events_filter_by_flag_and_action(client, tokens, session_factory):
    watched = await make_flag(session_factory)
    other = await make_flag(session_factory)
    for flag in (watched, other, watched):
        await client.get(f"/api/v1/flags/{flag.id}", headers=tokens.header("lead"))
    await client.get("/api/v1/flags", headers=tokens.header("lead"))

    response = await client.get(
        "/api/v1/audit-events",
        params={"entity_id": str(watched.id), "action": "read"},
        headers=tokens.header("admin"),
    )

    assert [item["entity_id"] for item in response.json()["items"]] == [str(watched.id)] * 2


async def test_only_admins_read_the_audit_trail(client, tokens):
    for role in ("analyst", "lead"):
        response = await client.get("/api/v1/audit-events", headers=tokens.header(role))
        assert response.status_code == 403
        assert response.headers["content-type"] == "application/problem+json"
        assert "admin" in response.json()["detail"]


# --- filters -----------------------------------------------------------------------------------


def audit_row(**overrides: Any) -> AuditEvent:
    """An audit event as a request would have written it."""
    values: dict[str, Any] = {
        "at": datetime(2026, 3, 2, 12, 0, tzinfo=UTC),
        "actor_kind": "clinician",
        "actor_id": "Practitioner/pr-1",
        "actor_role": "clinician",
        "action": "read",
        "entity_type": "patient-context",
        "entity_id": "pt-1",
        "request_id": uuid.uuid4().hex,
    }
    return AuditEvent(**{**values, **overrides})


async def add_rows(session_factory, *rows: AuditEvent) -> list[int]:
    async with session_factory() as session:
        session.add_all(rows)
        await session.commit()
        return [row.id for row in rows if row.id is not None]


async def audit_ids(client, tokens, **params: Any) -> list[int]:
    response = await client.get(
        "/api/v1/audit-events", params=params, headers=tokens.header("admin")
    )
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


async def test_actor_filter_matches_part_of_the_actor_in_any_case(client, tokens, session_factory):
    flag = await make_flag(session_factory)
    for role in ("analyst", "lead", "analyst"):
        await client.get(f"/api/v1/flags/{flag.id}", headers=tokens.header(role))

    response = await client.get(
        "/api/v1/audit-events", params={"actor": "test ANALYST"}, headers=tokens.header("admin")
    )

    items = response.json()["items"]
    assert [item["actor_role"] for item in items] == ["analyst", "analyst"]


async def test_actor_filter_takes_like_wildcards_literally(client, tokens, session_factory):
    await add_rows(session_factory, audit_row(actor_id="Practitioner/pr-1"))

    assert await audit_ids(client, tokens, actor="%") == []
    assert await audit_ids(client, tokens, actor="pr_1") == []


async def test_flag_filter_finds_its_reads_and_the_searches_that_listed_it(
    client, tokens, session_factory
):
    watched = await make_flag(session_factory)
    other = await make_flag(session_factory, patient={"fhir_id": "pt-2"})
    await client.get(f"/api/v1/flags/{watched.id}", headers=tokens.header("lead"))
    await client.get(f"/api/v1/flags/{other.id}", headers=tokens.header("lead"))
    await client.get("/api/v1/flags", headers=tokens.header("lead"))
    await client.get(
        "/api/v1/flags", params={"q": "nothing like it"}, headers=tokens.header("lead")
    )

    response = await client.get(
        "/api/v1/audit-events", params={"flag_id": str(watched.id)}, headers=tokens.header("admin")
    )

    items = response.json()["items"]
    assert [(item["action"], item["entity_id"]) for item in items] == [
        ("search", None),
        ("read", str(watched.id)),
    ]
    assert str(watched.id) in items[0]["details"]["flag_ids"]


async def test_patient_filter_finds_their_chart_reads_and_their_flags(
    client, tokens, session_factory
):
    theirs = await make_flag(session_factory, patient={"fhir_id": "pt-7", "sex": "male"})
    someone_elses = await make_flag(session_factory, patient={"fhir_id": "pt-70"})
    [chart_read, _] = await add_rows(
        session_factory, audit_row(entity_id="pt-7"), audit_row(entity_id="pt-70")
    )
    for flag in (theirs, someone_elses):
        await client.get(f"/api/v1/flags/{flag.id}", headers=tokens.header("lead"))

    response = await client.get(
        "/api/v1/audit-events", params={"patient_id": "pt-7"}, headers=tokens.header("admin")
    )

    items = response.json()["items"]
    assert [(item["entity_type"], item["entity_id"]) for item in items] == [
        ("flag", str(theirs.id)),
        ("patient-context", "pt-7"),
    ]
    assert items[1]["id"] == chart_read


async def test_date_range_is_inclusive_whole_utc_days(client, tokens, session_factory):
    times = [
        datetime(2026, 3, 1, 23, 59, 59, tzinfo=UTC),
        datetime(2026, 3, 2, 0, 0, tzinfo=UTC),
        datetime(2026, 3, 3, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2026, 3, 4, 0, 0, tzinfo=UTC),
    ]
    ids = await add_rows(session_factory, *(audit_row(at=at) for at in times))

    inside = await audit_ids(client, tokens, date_from="2026-03-02", date_to="2026-03-03")
    open_ended = await audit_ids(client, tokens, date_from="2026-03-04", date_to="9999-12-31")

    assert inside == [ids[2], ids[1]]
    assert open_ended[-1] == ids[3]
    assert ids[2] not in open_ended


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"date_from": "2026-03-04", "date_to": "2026-03-02"}, None),
        ({"date_from": "2026-03-04T00:00:00"}, "date_from"),
        ({"flag_id": "not-a-flag"}, "flag_id"),
        ({"actor": ""}, "actor"),
        ({"patient_id": "p" * 65}, "patient_id"),
    ],
)
async def test_bad_filters_are_refused_with_a_problem(client, tokens, params, field):
    response = await client.get(
        "/api/v1/audit-events", params=params, headers=tokens.header("admin")
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    if field:
        assert [error["field"] for error in response.json()["errors"]] == [field]
    else:
        assert "swap them" in response.json()["detail"]


async def test_reading_the_audit_trail_is_itself_audited(client, tokens, session_factory):
    flag = await make_flag(session_factory)
    await client.get(f"/api/v1/flags/{flag.id}", headers=tokens.header("lead"))
    params = {"flag_id": str(flag.id), "action": "read"}
    first = await client.get("/api/v1/audit-events", params=params, headers=tokens.header("admin"))

    response = await client.get("/api/v1/audit-events", headers=tokens.header("admin"))

    newest = response.json()["items"][0]
    assert (newest["action"], newest["entity_type"]) == ("search", "audit_event")
    assert newest["actor_role"] == "admin"
    assert newest["details"]["filters"] == params
    assert newest["details"]["event_ids"] == [item["id"] for item in first.json()["items"]]


# --- CSV export --------------------------------------------------------------------------------


async def export(
    client: httpx.AsyncClient, tokens: Tokens, role: str = "admin", **params: Any
) -> httpx.Response:
    return await client.get(
        "/api/v1/audit-events/export", params=params, headers=tokens.header(role)
    )


def csv_rows(response: httpx.Response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.text)))


async def test_export_is_csv_of_the_same_filters_as_the_list(client, tokens, session_factory):
    flag = await make_flag(session_factory)
    await client.get(f"/api/v1/flags/{flag.id}", headers=tokens.header("lead"))
    await client.get(f"/api/v1/flags/{flag.id}", headers=tokens.header("analyst"))
    listed = await audit_ids(client, tokens, flag_id=str(flag.id), actor="lead")

    response = await export(client, tokens, flag_id=str(flag.id), actor="lead")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    assert response.headers["cache-control"] == "no-store"
    rows = csv_rows(response)
    assert [int(row["id"]) for row in rows] == listed
    assert rows[0]["entity_id"] == str(flag.id)
    assert rows[0]["actor_role"] == "lead"


async def test_export_streams_every_matching_event_past_one_chunk(client, tokens, session_factory):
    count = ROWS_PER_CHUNK + 3
    await add_rows(session_factory, *(audit_row(entity_id="pt-many") for _ in range(count)))

    rows = csv_rows(await export(client, tokens, patient_id="pt-many"))

    assert len(rows) == count
    assert len({row["id"] for row in rows}) == count
    assert [int(row["id"]) for row in rows] == sorted(
        (int(row["id"]) for row in rows), reverse=True
    )


async def test_export_cells_never_run_as_spreadsheet_formulas(client, tokens, session_factory):
    await add_rows(
        session_factory,
        audit_row(actor_id='=HYPERLINK("http://evil.example","x")', entity_id="+pt-1"),
    )

    response = await export(client, tokens, actor="hyperlink")

    [row] = csv_rows(response)
    assert row["actor_id"] == '\'=HYPERLINK("http://evil.example","x")'
    assert row["entity_id"] == "'+pt-1"


async def test_exporting_the_audit_trail_is_audited(client, tokens):
    await export(client, tokens, action="read", date_from="2026-01-01")

    newest = (
        await client.get(
            "/api/v1/audit-events", params={"limit": 1}, headers=tokens.header("admin")
        )
    ).json()["items"][0]
    assert (newest["action"], newest["entity_type"]) == ("export", "audit_event")
    assert newest["details"] == {
        "filters": {"action": "read", "date_from": "2026-01-01"},
        "format": "csv",
    }


async def test_only_admins_export_the_audit_trail(client, tokens):
    for role in ("analyst", "lead"):
        response = await export(client, tokens, role)

        assert response.status_code == 403
        assert response.headers["content-type"] == "application/problem+json"
    assert (await client.get("/api/v1/audit-events/export")).status_code == 401
