"""The dashboard's API: the new filters, the triage queue order, bulk changes, duplicate
candidates, the catalog and authentication on the new endpoints.

Everything goes through the real app over HTTP (auth, error handlers, the session dependency),
on SQLite and PostgreSQL. The statistics (outcomes, reply times, CSV and SVG) are in
test_dashboard_stats.py.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col, select

from app.audit.models import AuditEvent
from app.flags import review, service
from app.flags.catalog import Driver, Priority, Reason, ReporterRole
from app.flags.models import Flag
from app.flags.schemas import OwnerIn, TransitionIn
from app.flags.workflow import END_STATES, OWNER_REQUIRED, REPLY_REQUIRED, Status, allowed_from
from tests.conftest import Tokens
from tests.factories import make_flag, sid

PROBLEM_JSON = "application/problem+json"
ANALYST = review.Actor(name="A. Rivera", role="analyst")
DAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

pytestmark = pytest.mark.usefixtures("known_staff")


# --- helpers -----------------------------------------------------------------------------------


def reporter(role: str = "physician") -> dict[str, Any]:
    return {
        "fhir_user": "Practitioner/pr-1",
        "display": "Dr. Avery Sample",
        "role": role,
        "department": "Primary Care - Riverside",
    }


def order(
    *,
    fhir_id: str = "sr-1",
    code: str | None = "72148",
    display: str = "MRI lumbar spine without contrast",
    resource_type: str = "ServiceRequest",
) -> dict[str, Any]:
    return {
        "resource_type": resource_type,
        "fhir_id": fhir_id,
        "code": {"system": "http://www.ama-assn.org/go/cpt", "code": code, "display": display},
        "status": "active",
    }


def patient(fhir_id: str) -> dict[str, Any]:
    return {"fhir_id": fhir_id, "age_band": "50-64", "sex": "female"}


async def move(
    factory: async_sessionmaker[AsyncSession], flag_id: uuid.UUID, to: str, **fields: Any
) -> None:
    async with factory() as session:
        change = TransitionIn.model_validate({"to": to, **fields})
        await review.transition(session, flag_id, change, actor=ANALYST, if_match=None)
        await session.commit()


async def assign(
    factory: async_sessionmaker[AsyncSession], flag_id: uuid.UUID, **owner: str
) -> None:
    async with factory() as session:
        await review.assign(session, flag_id, OwnerIn(**owner), actor=ANALYST, if_match=None)
        await session.commit()


async def reply(factory: async_sessionmaker[AsyncSession], flag_id: uuid.UUID) -> None:
    async with factory() as session:
        await review.reply(session, flag_id, "Thanks, looking.", actor=ANALYST, if_match=None)
        await session.commit()


async def set_created(
    factory: async_sessionmaker[AsyncSession], flag_id: uuid.UUID, created_at: datetime
) -> None:
    """Backdate a flag with a plain UPDATE, so its version stays where it is."""
    async with factory() as session:
        await session.execute(
            sa.update(Flag).where(col(Flag.id) == flag_id).values(created_at=created_at)
        )
        await session.commit()


async def stored(
    factory: async_sessionmaker[AsyncSession], flag_id: uuid.UUID
) -> tuple[int, str, list[str]]:
    """The flag's version, status and timeline event kinds, read back from the database."""
    async with factory() as session:
        flag = await service.get_flag(session, flag_id)
        events = await service.timeline(session, flag)
        return flag.version, flag.status, [event.kind for event in events]


async def audit_rows(factory: async_sessionmaker[AsyncSession]) -> list[AuditEvent]:
    async with factory() as session:
        result = await session.scalars(select(AuditEvent).order_by(col(AuditEvent.id)))
        return list(result.all())


async def listed_ids(client: httpx.AsyncClient, tokens: Tokens, **params: Any) -> list[str]:
    response = await client.get("/api/v1/flags", params=params, headers=tokens.header("analyst"))
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def ids(*flags: Flag) -> list[str]:
    return sorted(str(flag.id) for flag in flags)


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    return body


def raw_cursor(sort: str, values: list[Any]) -> str:
    raw = json.dumps({"s": sort, "v": values}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# --- filters -----------------------------------------------------------------------------------


async def test_reporter_role_filter_matches_one_role_or_any_of_several(
    client, tokens, session_factory
):
    nurse = await make_flag(session_factory, reporter=reporter("nurse"))
    pharmacist = await make_flag(session_factory, reporter=reporter("pharmacist"))
    await make_flag(session_factory, reporter=reporter("physician"))

    assert await listed_ids(client, tokens, reporter_role="nurse") == [str(nurse.id)]
    assert sorted(await listed_ids(client, tokens, reporter_role=["nurse", "pharmacist"])) == ids(
        nurse, pharmacist
    )


async def test_assigned_filter_splits_flags_with_and_without_an_owner(
    client, tokens, session_factory
):
    lead = await make_flag(session_factory)
    dyad = await make_flag(session_factory)
    nobody = await make_flag(session_factory)
    await assign(session_factory, lead.id, lead=sid("Dr. E. Nwosu"))
    await assign(
        session_factory,
        dyad.id,
        clinical_lead=sid("Dr. H. Tanaka"),
        operational_lead=sid("R. Alvarez"),
    )

    assert sorted(await listed_ids(client, tokens, assigned="true")) == ids(lead, dyad)
    assert await listed_ids(client, tokens, assigned="false") == [str(nobody.id)]


async def test_answered_filter_splits_flags_with_and_without_a_reply(
    client, tokens, session_factory
):
    answered = await make_flag(session_factory)
    commented = await make_flag(session_factory)
    waiting = await make_flag(session_factory)
    await reply(session_factory, answered.id)
    async with session_factory() as session:  # an internal comment is not an answer
        await review.comment(session, commented.id, "Hm.", actor=ANALYST, if_match=None)
        await session.commit()

    assert await listed_ids(client, tokens, answered="true") == [str(answered.id)]
    assert sorted(await listed_ids(client, tokens, answered="false")) == ids(commented, waiting)


async def test_free_text_matches_the_order_name_or_the_note_ignoring_case(
    client, tokens, session_factory
):
    by_order = await make_flag(
        session_factory, order=order(display="Vitamin D, 25-hydroxy level"), note="No symptoms."
    )
    by_note = await make_flag(session_factory, note="Asked for VITAMIN d again.")
    await make_flag(session_factory, note="Week-one back pain.")

    assert sorted(await listed_ids(client, tokens, q="vitamin D")) == ids(by_order, by_note)
    assert await listed_ids(client, tokens, q="25-HYDROXY") == [str(by_order.id)]


async def test_combined_filters_match_only_flags_meeting_all_of_them(
    client, tokens, session_factory
):
    def wanted_shape(**changes: Any) -> dict[str, Any]:
        shape = {"reporter": reporter("nurse"), "order": order(display="Lipid panel")}
        return shape | changes

    wanted = await make_flag(session_factory, **wanted_shape())
    other_role = await make_flag(session_factory, **wanted_shape(reporter=reporter("resident")))
    other_text = await make_flag(session_factory, **wanted_shape(order=order(display="CT head")))
    await make_flag(session_factory, **wanted_shape())  # not assigned
    answered = await make_flag(session_factory, **wanted_shape())
    for flag in (wanted, other_role, other_text, answered):
        await assign(session_factory, flag.id, lead=sid("Dr. E. Nwosu"))
    await reply(session_factory, answered.id)
    params = {"reporter_role": "nurse", "q": "LIPID", "assigned": "true", "answered": "false"}

    assert await listed_ids(client, tokens, **params) == [str(wanted.id)]


# --- the triage queue order (sort=new_first) ---------------------------------------------------

# Seven flags: four still new (submitted), three worked on, their creation times interleaved so
# that the time order does not give the queue order by accident; two new ones share a time, so
# only the id can order them.
QUEUE = [
    ("submitted", 0),
    ("triaged", 1),
    ("submitted", 2),
    ("triaged", 3),
    ("submitted", 2),
    ("accepted", 5),
    ("submitted", 6),
]


async def queue_flags(factory: async_sessionmaker[AsyncSession]) -> list[str]:
    """The seven flags, returned in the expected queue order."""
    keyed: list[tuple[int, datetime, uuid.UUID]] = []
    for status, hours in QUEUE:
        flag = await make_flag(factory)
        if status != "submitted":
            await move(factory, flag.id, "triaged")
        if status == "accepted":
            await move(factory, flag.id, "accepted", owner={"lead": sid("Dr. E. Nwosu")})
        created = DAY + timedelta(hours=hours)
        await set_created(factory, flag.id, created)
        keyed.append((1 if status == "submitted" else 0, created, flag.id))
    return [str(flag_id) for *_, flag_id in sorted(keyed, reverse=True)]


async def test_new_first_lists_submitted_flags_first_newest_first_in_each_group(
    client, tokens, session_factory
):
    expected = await queue_flags(session_factory)

    response = await client.get(
        "/api/v1/flags", params={"sort": "new_first"}, headers=tokens.header("lead")
    )

    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [item["id"] for item in items] == expected
    assert [item["status"] for item in items][:4] == ["submitted"] * 4
    assert "submitted" not in [item["status"] for item in items][4:]
    times = [item["created_at"] for item in items]
    assert times[:4] == sorted(times[:4], reverse=True)
    assert times[4:] == sorted(times[4:], reverse=True)


@pytest.mark.parametrize("limit", [1, 2, 3])
async def test_new_first_pages_walk_every_flag_once_across_the_group_boundary(
    client, tokens, session_factory, limit
):
    # limit=2 ends a page exactly on the last new flag; limit=3 crosses the boundary mid-page.
    expected = await queue_flags(session_factory)

    walked: list[str] = []
    cursor = None
    for _ in range(len(QUEUE) + 1):
        params: dict[str, Any] = {"sort": "new_first", "limit": limit}
        if cursor is not None:
            params["cursor"] = cursor
        response = await client.get("/api/v1/flags", params=params, headers=tokens.header("lead"))
        assert response.status_code == 200, response.text
        walked += [item["id"] for item in response.json()["items"]]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break

    assert walked == expected


async def first_page_cursor(client: httpx.AsyncClient, tokens: Tokens, sort: str) -> str:
    response = await client.get(
        "/api/v1/flags", params={"sort": sort, "limit": 1}, headers=tokens.header("lead")
    )
    cursor: str | None = response.json()["next_cursor"]
    assert cursor is not None
    return cursor


@pytest.mark.parametrize(
    ("made_for", "used_for"), [("-created_at", "new_first"), ("new_first", "-created_at")]
)
async def test_a_cursor_made_for_another_sort_is_refused_with_400(
    client, tokens, session_factory, made_for, used_for
):
    for _ in range(2):
        await make_flag(session_factory)
    cursor = await first_page_cursor(client, tokens, made_for)

    response = await client.get(
        "/api/v1/flags",
        params={"sort": used_for, "limit": 1, "cursor": cursor},
        headers=tokens.header("lead"),
    )

    body = assert_problem(response, 400)
    assert body["type"] == "urn:valueloop:problem:invalid-cursor"
    assert "sort" in body["detail"]


MOMENT = "2026-03-02T09:00:00+00:00"
SOME_ID = "6d9c1a7e-2f41-4c7e-9a51-0f6a1f3c2b10"


@pytest.mark.parametrize(
    "values",
    [
        pytest.param([5, MOMENT, SOME_ID], id="rank-5"),
        pytest.param([-1, MOMENT, SOME_ID], id="rank-negative"),
        pytest.param(["1", MOMENT, SOME_ID], id="rank-as-text"),
        pytest.param([0.5, MOMENT, SOME_ID], id="rank-fraction"),
        pytest.param([None, MOMENT, SOME_ID], id="rank-null"),
        pytest.param([True, MOMENT, SOME_ID], id="rank-boolean"),
        pytest.param([MOMENT, SOME_ID], id="without-rank"),
        pytest.param([1, "2026-03-02T09:00:00", SOME_ID], id="time-without-zone"),
        pytest.param([1, MOMENT, "not-an-id"], id="bad-id"),
    ],
)
async def test_a_tampered_new_first_cursor_is_refused_with_400(client, tokens, values):
    response = await client.get(
        "/api/v1/flags",
        params={"sort": "new_first", "cursor": raw_cursor("new_first", values)},
        headers=tokens.header("lead"),
    )

    body = assert_problem(response, 400)
    assert body["type"] == "urn:valueloop:problem:invalid-cursor"


# --- bulk transitions --------------------------------------------------------------------------


def items(*flags: Flag, version: int = 1) -> list[dict[str, Any]]:
    return [{"id": str(flag.id), "version": version} for flag in flags]


async def bulk(
    client: httpx.AsyncClient, tokens: Tokens, kind: str, body: dict[str, Any], role: str
) -> httpx.Response:
    return await client.post(f"/api/v1/flags/bulk/{kind}", json=body, headers=tokens.header(role))


@pytest.mark.parametrize("role", ["lead", "analyst", "admin"])
async def test_bulk_transition_triages_several_flags_with_one_event_and_audit_row_each(
    client, tokens, session_factory, role
):
    flags = [await make_flag(session_factory) for _ in range(3)]
    bystander = await make_flag(session_factory)

    response = await bulk(
        client, tokens, "transitions", {"to": "triaged", "items": items(*flags)}, role
    )

    assert response.status_code == 200, response.text
    returned = response.json()["items"]
    assert [item["id"] for item in returned] == [str(flag.id) for flag in flags]
    assert {(item["status"], item["version"]) for item in returned} == {("triaged", 2)}
    for flag in flags:
        assert await stored(session_factory, flag.id) == (
            2,
            "triaged",
            ["created", "status_change"],
        )
    assert await stored(session_factory, bystander.id) == (1, "submitted", ["created"])
    rows = await audit_rows(session_factory)
    assert sorted((row.action, row.entity_id) for row in rows) == [
        ("update", flag_id) for flag_id in ids(*flags)
    ]
    assert {row.actor_role for row in rows} == {role}
    assert all(row.details == {"transition": "triaged", "bulk": True} for row in rows)


async def test_bulk_transition_carries_the_reply_to_every_flag(client, tokens, session_factory):
    flags = [await make_flag(session_factory) for _ in range(2)]
    for flag in flags:
        await move(session_factory, flag.id, "triaged")
    body = {"to": "not_low_value", "reply": "Indicated here.", "items": items(*flags, version=2)}

    response = await bulk(client, tokens, "transitions", body, "lead")

    assert response.status_code == 200, response.text
    assert all(item["first_reply_at"] is not None for item in response.json()["items"])
    for flag in flags:
        assert await stored(session_factory, flag.id) == (
            3,
            "not_low_value",
            ["created", "status_change", "status_change", "reply"],
        )


async def test_bulk_transition_with_stale_versions_changes_nothing_and_names_them(
    client, tokens, session_factory
):
    fresh = await make_flag(session_factory)
    stale = [await make_flag(session_factory) for _ in range(2)]
    for flag in stale:
        await move(session_factory, flag.id, "triaged")
        await move(session_factory, flag.id, "accepted", owner={"lead": sid("Dr. E. Nwosu")})

    response = await bulk(
        client, tokens, "transitions", {"to": "triaged", "items": items(fresh, *stale)}, "analyst"
    )

    body = assert_problem(response, 412)
    assert body["conflicts"] == [
        {"id": str(flag.id), "expected_version": 1, "current_version": 3} for flag in stale
    ]
    assert await stored(session_factory, fresh.id) == (1, "submitted", ["created"])
    for flag in stale:
        assert (await stored(session_factory, flag.id))[:2] == (3, "accepted")
    assert await audit_rows(session_factory) == []


async def test_bulk_transition_refused_for_one_flag_changes_none_and_lists_the_failure(
    client, tokens, session_factory
):
    # The refused flag is in the middle: the one before it has been moved (and flushed) by then.
    first, refused, last = [await make_flag(session_factory) for _ in range(3)]
    await move(session_factory, refused.id, "triaged")
    body_items = [*items(first), *items(refused, version=2), *items(last)]

    response = await bulk(
        client, tokens, "transitions", {"to": "triaged", "items": body_items}, "analyst"
    )

    body = assert_problem(response, 422)
    assert body["type"] == "urn:valueloop:problem:bulk-change-refused"
    assert [failure["id"] for failure in body["failures"]] == [str(refused.id)]
    assert "'triaged' cannot move to 'triaged'" in body["failures"][0]["detail"]
    for flag in (first, last):
        assert await stored(session_factory, flag.id) == (1, "submitted", ["created"])
    assert (await stored(session_factory, refused.id))[:2] == (2, "triaged")
    assert await audit_rows(session_factory) == []


async def test_bulk_closing_without_a_reply_lists_every_flag_and_changes_none(
    client, tokens, session_factory
):
    flags = [await make_flag(session_factory) for _ in range(2)]
    for flag in flags:
        await move(session_factory, flag.id, "triaged")
        await move(session_factory, flag.id, "accepted", owner={"lead": sid("Dr. E. Nwosu")})
        await move(session_factory, flag.id, "action_taken")

    response = await bulk(
        client, tokens, "transitions", {"to": "closed", "items": items(*flags, version=4)}, "lead"
    )

    body = assert_problem(response, 422)
    assert [failure["id"] for failure in body["failures"]] == [str(flag.id) for flag in flags]
    assert all("needs a 'reply'" in failure["detail"] for failure in body["failures"])
    for flag in flags:
        assert (await stored(session_factory, flag.id))[:2] == (4, "action_taken")


async def test_bulk_transition_with_an_unknown_flag_is_404_and_changes_nothing(
    client, tokens, session_factory
):
    known = await make_flag(session_factory)
    unknown = uuid.uuid4()
    body_items = [*items(known), {"id": str(unknown), "version": 1}]

    response = await bulk(
        client, tokens, "transitions", {"to": "triaged", "items": body_items}, "analyst"
    )

    body = assert_problem(response, 404)
    assert body["missing"] == [str(unknown)]
    assert await stored(session_factory, known.id) == (1, "submitted", ["created"])


@pytest.mark.parametrize("kind", ["transitions", "owner"])
async def test_bulk_change_listing_a_flag_twice_is_422(client, tokens, session_factory, kind):
    flag = await make_flag(session_factory)
    extra = {"to": "triaged"} if kind == "transitions" else {"owner": {"lead": sid("Dr. E. Nwosu")}}

    response = await bulk(
        client, tokens, kind, {**extra, "items": items(flag) + items(flag)}, "analyst"
    )

    body = assert_problem(response, 422)
    assert "listed twice" in body["detail"]
    assert await stored(session_factory, flag.id) == (1, "submitted", ["created"])


@pytest.mark.parametrize("count", [0, 201])
async def test_bulk_change_needs_between_one_and_two_hundred_items(client, tokens, count):
    body_items = [{"id": str(uuid.uuid4()), "version": 1} for _ in range(count)]

    response = await bulk(
        client, tokens, "transitions", {"to": "triaged", "items": body_items}, "analyst"
    )

    body = assert_problem(response, 422)
    assert [error["field"] for error in body["errors"]] == ["items"]


async def test_two_hundred_items_are_accepted_as_a_bulk_size(client, tokens):
    # At the limit the request gets past validation (and fails on the unknown ids instead).
    body_items = [{"id": str(uuid.uuid4()), "version": 1} for _ in range(200)]

    response = await bulk(
        client, tokens, "transitions", {"to": "triaged", "items": body_items}, "analyst"
    )

    assert len(assert_problem(response, 404)["missing"]) == 200


@pytest.mark.parametrize(
    ("owner", "shown"),
    [
        pytest.param(
            {"lead": sid("Dr. E. Nwosu")}, {"kind": "lead", "lead": sid("Dr. E. Nwosu")}, id="lead"
        ),
        pytest.param(
            {"clinical_lead": sid("Dr. H. Tanaka"), "operational_lead": sid("R. Alvarez")},
            {
                "kind": "dyad",
                "clinical_lead": sid("Dr. H. Tanaka"),
                "operational_lead": sid("R. Alvarez"),
            },
            id="dyad",
        ),
    ],
)
async def test_bulk_owner_assigns_a_lead_or_a_dyad_to_every_flag(
    client, tokens, session_factory, owner, shown
):
    flags = [await make_flag(session_factory) for _ in range(2)]

    response = await bulk(
        client, tokens, "owner", {"owner": owner, "items": items(*flags)}, "analyst"
    )

    assert response.status_code == 200, response.text
    for item in response.json()["items"]:
        assert {
            k: v["id"] if isinstance(v, dict) else v for k, v in item["owner"].items() if v
        } == shown
        assert item["version"] == 2
    for flag in flags:
        assert await stored(session_factory, flag.id) == (2, "submitted", ["created", "assignment"])
    rows = await audit_rows(session_factory)
    assert sorted(row.entity_id or "" for row in rows) == ids(*flags)
    assert all(row.details == {"assignment": True, "bulk": True} for row in rows)


async def test_bulk_owner_with_a_stale_version_assigns_nobody(client, tokens, session_factory):
    fresh = await make_flag(session_factory)
    moved = await make_flag(session_factory)
    await move(session_factory, moved.id, "triaged")

    response = await bulk(
        client,
        tokens,
        "owner",
        {"owner": {"lead": sid("Dr. E. Nwosu")}, "items": items(fresh, moved)},
        "admin",
    )

    body = assert_problem(response, 412)
    assert body["conflicts"] == [{"id": str(moved.id), "expected_version": 1, "current_version": 2}]
    assert await stored(session_factory, fresh.id) == (1, "submitted", ["created"])


async def test_a_lead_may_not_assign_in_bulk(client, tokens, session_factory):
    flag = await make_flag(session_factory)

    response = await bulk(
        client,
        tokens,
        "owner",
        {"owner": {"lead": sid("Dr. E. Nwosu")}, "items": items(flag)},
        "lead",
    )

    assert_problem(response, 403)
    assert await stored(session_factory, flag.id) == (1, "submitted", ["created"])


# --- duplicate candidates ----------------------------------------------------------------------


async def candidate_ids(client: httpx.AsyncClient, tokens: Tokens, flag: Flag) -> list[str]:
    response = await client.get(
        f"/api/v1/flags/{flag.id}/duplicate-candidates", headers=tokens.header("lead")
    )
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


async def test_duplicate_candidates_are_the_same_order_or_patient_and_code_oldest_first(
    client, tokens, session_factory
):
    flag = await make_flag(
        session_factory, patient=patient("pt-1"), order=order(fhir_id="sr-9", code="72148")
    )
    same_order = await make_flag(
        session_factory, patient=patient("pt-1"), order=order(fhir_id="sr-9", code="99999")
    )
    same_patient_and_code = await make_flag(
        session_factory, patient=patient("pt-1"), order=order(fhir_id="sr-2", code="72148")
    )
    decoys: dict[str, dict[str, Any]] = {
        "other patient, same code": {
            "patient": patient("pt-2"),
            "order": order(fhir_id="sr-3", code="72148"),
        },
        "same patient, other code": {
            "patient": patient("pt-1"),
            "order": order(fhir_id="sr-4", code="80061"),
        },
        "other issuer, same order": {
            "issuer": "https://other-ehr.example.test/fhir",
            "patient": patient("pt-1"),
            "order": order(fhir_id="sr-9", code="72148"),
        },
    }
    for overrides in decoys.values():
        await make_flag(session_factory, **overrides)
    already_duplicate = await make_flag(
        session_factory, patient=patient("pt-1"), order=order(fhir_id="sr-9", code="72148")
    )
    await move(session_factory, already_duplicate.id, "triaged")
    await move(
        session_factory,
        already_duplicate.id,
        "duplicate",
        reply="Already reported.",
        duplicate_of=str(same_order.id),
    )
    # The newer match is the one with the same order: oldest first puts it second.
    await set_created(session_factory, same_order.id, DAY + timedelta(days=2))
    await set_created(session_factory, same_patient_and_code.id, DAY + timedelta(days=1))

    assert await candidate_ids(client, tokens, flag) == [
        str(same_patient_and_code.id),
        str(same_order.id),
    ]


async def test_a_flag_without_an_order_code_matches_only_by_order(client, tokens, session_factory):
    flag = await make_flag(session_factory, order=order(fhir_id="sr-7", code=None))
    same_order = await make_flag(session_factory, order=order(fhir_id="sr-7", code=None))
    await make_flag(session_factory, order=order(fhir_id="sr-8", code=None))

    assert await candidate_ids(client, tokens, flag) == [str(same_order.id)]


async def test_an_order_of_another_resource_type_with_the_same_id_is_not_a_candidate(
    client, tokens, session_factory
):
    flag = await make_flag(session_factory, order=order(fhir_id="o-5", code="72148"))
    await make_flag(
        session_factory,
        patient=patient("pt-2"),
        order=order(fhir_id="o-5", code="197361", resource_type="MedicationRequest"),
    )

    assert await candidate_ids(client, tokens, flag) == []


async def test_duplicate_candidates_of_an_unknown_flag_is_404(client, tokens):
    response = await client.get(
        f"/api/v1/flags/{uuid.uuid4()}/duplicate-candidates", headers=tokens.header("analyst")
    )

    body = assert_problem(response, 404)
    assert body["type"] == "urn:valueloop:problem:flag-not-found"


# --- the catalog -------------------------------------------------------------------------------


VOCABULARIES: dict[str, type[StrEnum]] = {
    "reasons": Reason,
    "drivers": Driver,
    "statuses": Status,
    "reporter_roles": ReporterRole,
    "priorities": Priority,
}


async def test_catalog_lists_every_value_of_every_vocabulary_with_a_label(client, tokens):
    response = await client.get("/api/v1/catalog", headers=tokens.header("lead"))

    assert response.status_code == 200, response.text
    catalog = response.json()
    assert set(catalog) == set(VOCABULARIES)
    for section, vocabulary in VOCABULARIES.items():
        entries = catalog[section]
        assert [entry["value"] for entry in entries] == [member.value for member in vocabulary]
        for entry in entries:
            assert isinstance(entry["label"], str), (section, entry)
            assert entry["label"].strip(), (section, entry)
            assert entry["label"] != entry["value"], (section, entry)


async def test_catalog_statuses_carry_the_workflow_rules(client, tokens):
    response = await client.get("/api/v1/catalog", headers=tokens.header("analyst"))

    statuses = {entry["value"]: entry for entry in response.json()["statuses"]}
    for status in Status:
        entry = statuses[status.value]
        assert entry["allowed_transitions"] == [s.value for s in allowed_from(status)]
        assert entry["reply_required"] is (status in REPLY_REQUIRED)
        assert entry["owner_required"] is (status in OWNER_REQUIRED)
        assert entry["end_state"] is (status in END_STATES)
    # Spelled out too, so a change to the workflow that is also wrong here is noticed.
    assert statuses["submitted"]["allowed_transitions"] == ["triaged"]
    assert statuses["accepted"]["owner_required"] is True
    assert [value for value, entry in statuses.items() if entry["reply_required"]] == [
        "closed",
        "needs_info",
        "not_low_value",
        "duplicate",
    ]
    assert [value for value, entry in statuses.items() if entry["end_state"]] == [
        "closed",
        "not_low_value",
        "duplicate",
    ]


async def test_catalog_reasons_carry_a_description(client, tokens):
    response = await client.get("/api/v1/catalog", headers=tokens.header("lead"))

    assert all(entry["description"] for entry in response.json()["reasons"])


# --- authentication ----------------------------------------------------------------------------

SOME_FLAG = "6d9c1a7e-2f41-4c7e-9a51-0f6a1f3c2b10"


@pytest.fixture
async def anonymous_client(running_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client without credentials; its requests never reach the data, so no clean tables."""
    transport = httpx.ASGITransport(app=running_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://valueloop.test") as client:
        yield client


BULK_ITEMS = [{"id": SOME_FLAG, "version": 1}]


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("GET", "/api/v1/flags?sort=new_first", None),
        ("POST", "/api/v1/flags/bulk/transitions", {"to": "triaged", "items": BULK_ITEMS}),
        ("POST", "/api/v1/flags/bulk/owner", {"owner": {"lead": "X"}, "items": BULK_ITEMS}),
        ("GET", f"/api/v1/flags/{SOME_FLAG}/duplicate-candidates", None),
        ("GET", "/api/v1/catalog", None),
        ("GET", "/api/v1/stats/outcomes", None),
        ("GET", "/api/v1/stats/outcomes?format=csv", None),
        ("GET", "/api/v1/stats/reply-times", None),
        ("GET", "/api/v1/stats/reply-times?format=svg", None),
        ("GET", "/api/v1/stats/breakdown?by=department&format=csv", None),
        ("GET", "/api/v1/stats/breakdown?by=department&format=svg", None),
        ("GET", "/api/v1/stats/weekly?format=csv", None),
        ("GET", "/api/v1/stats/weekly?format=svg", None),
    ],
)
async def test_new_endpoints_without_a_token_are_401_problems(anonymous_client, method, url, body):
    response = await anonymous_client.request(method, url, json=body)

    assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")
