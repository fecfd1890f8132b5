"""The quality team's flag API over HTTP: listing, detail, writes, input errors and audit.

Every test goes through the real app (auth, middleware, error handlers, the session
dependency) on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col, select

from app.audit.models import AuditEvent
from app.flags import service
from app.flags.models import Flag
from tests.conftest import Tokens
from tests.factories import make_flag, sid

PROBLEM_JSON = "application/problem+json"
CPT = "http://www.ama-assn.org/go/cpt"
LOINC = "http://loinc.org"

pytestmark = pytest.mark.usefixtures("known_staff")


# --- helpers -----------------------------------------------------------------------------------


def encounter(department: str) -> dict[str, Any]:
    return {"fhir_id": "enc-1", "class_code": "AMB", "department": department}


def order(*, system: str | None, code: str) -> dict[str, Any]:
    return {
        "resource_type": "ServiceRequest",
        "fhir_id": "sr-1",
        "code": {"system": system, "code": code, "display": f"Order {code}"},
        "status": "active",
    }


def reporter(
    *, fhir_user: str, display: str, department: str, email: str | None = None
) -> dict[str, Any]:
    return {
        "fhir_user": fhir_user,
        "display": display,
        "email": email,
        "role": "physician",
        "department": department,
    }


async def set_times(
    factory: async_sessionmaker[AsyncSession],
    flag_id: uuid.UUID,
    *,
    created_at: datetime,
    updated_at: datetime | None = None,
) -> None:
    """Backdate a flag without going through the ORM, so its version stays at 1."""
    async with factory() as session:
        await session.execute(
            sa.update(Flag)
            .where(col(Flag.id) == flag_id)
            .values(created_at=created_at, updated_at=updated_at or created_at)
        )
        await session.commit()


async def listed_ids(client: httpx.AsyncClient, tokens: Tokens, **params: Any) -> list[str]:
    response = await client.get("/api/v1/flags", params=params, headers=tokens.header("analyst"))
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


async def write(
    client: httpx.AsyncClient,
    tokens: Tokens,
    method: str,
    url: str,
    body: dict[str, Any],
    *,
    if_match: str | None = '"v1"',
    role: str = "analyst",
) -> httpx.Response:
    headers = tokens.header(role)
    if if_match is not None:
        headers["If-Match"] = if_match
    return await client.request(method, url, json=body, headers=headers)


async def triage(
    client: httpx.AsyncClient,
    tokens: Tokens,
    flag_id: uuid.UUID,
    *,
    if_match: str | None = '"v1"',
) -> httpx.Response:
    return await write(
        client,
        tokens,
        "POST",
        f"/api/v1/flags/{flag_id}/transitions",
        {"to": "triaged"},
        if_match=if_match,
    )


async def stored_state(
    factory: async_sessionmaker[AsyncSession], flag_id: uuid.UUID
) -> tuple[int, list[str]]:
    """The flag's version and the kinds of its timeline events, read from the database."""
    async with factory() as session:
        flag = await service.get_flag(session, flag_id)
        events = await service.timeline(session, flag)
        return flag.version, [event.kind for event in events]


async def audit_rows(factory: async_sessionmaker[AsyncSession]) -> list[AuditEvent]:
    async with factory() as session:
        result = await session.scalars(select(AuditEvent).order_by(col(AuditEvent.id)))
        return list(result.all())


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"]
    assert body["title"]
    assert body["detail"]
    return body


def error_fields(body: dict[str, Any]) -> list[str]:
    return [error["field"] for error in body["errors"]]


def raw_cursor(sort: str, values: list[Any]) -> str:
    raw = json.dumps({"s": sort, "v": values}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# --- listing: filters --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("matching", "other", "params"),
    [
        pytest.param(
            {"reason": "repeat_duplicate"},
            {"reason": "not_indicated"},
            {"reason": "repeat_duplicate"},
            id="reason",
        ),
        pytest.param(
            {"driver": "order_set_default"},
            {"driver": "patient_request"},
            {"driver": "order_set_default"},
            id="driver",
        ),
        pytest.param(
            {"priority": "urgent"}, {"priority": "normal"}, {"priority": "urgent"}, id="priority"
        ),
        pytest.param(
            {"encounter": encounter("Emergency Department")},
            {"encounter": encounter("Cardiology")},
            {"department": "Emergency Department"},
            id="department",
        ),
    ],
)
async def test_each_filter_narrows_the_list_to_matching_flags(
    client, tokens, session_factory, matching, other, params
):
    wanted = await make_flag(session_factory, **matching)
    await make_flag(session_factory, **other)

    assert await listed_ids(client, tokens, **params) == [str(wanted.id)]


async def test_repeating_a_filter_matches_any_of_its_values(client, tokens, session_factory):
    low = await make_flag(session_factory, priority="low")
    high = await make_flag(session_factory, priority="high")
    await make_flag(session_factory, priority="normal")

    ids = await listed_ids(client, tokens, priority=["low", "high"])

    assert sorted(ids) == sorted([str(low.id), str(high.id)])


async def test_status_filter_narrows_to_flags_in_that_status(client, tokens, session_factory):
    waiting = await make_flag(session_factory)
    triaged = await make_flag(session_factory)
    response = await triage(client, tokens, triaged.id)
    assert response.status_code == 200

    assert await listed_ids(client, tokens, status="triaged") == [str(triaged.id)]
    assert await listed_ids(client, tokens, status="submitted") == [str(waiting.id)]


async def test_order_code_filter_takes_a_code_or_a_system_and_code(client, tokens, session_factory):
    cpt_mri = await make_flag(session_factory, order=order(system=CPT, code="72148"))
    loinc_same_code = await make_flag(session_factory, order=order(system=LOINC, code="72148"))
    await make_flag(session_factory, order=order(system=CPT, code="80061"))

    any_system = await listed_ids(client, tokens, order_code="72148")
    one_system = await listed_ids(client, tokens, order_code=f"{CPT}|72148")

    assert sorted(any_system) == sorted([str(cpt_mri.id), str(loinc_same_code.id)])
    assert one_system == [str(cpt_mri.id)]


async def test_reporter_filter_finds_identified_reporters_only(client, tokens, session_factory):
    who = reporter(fhir_user="Practitioner/pr-7", display="Dr. Seven", department="Cardiology")
    identified = await make_flag(session_factory, reporter=who)
    await make_flag(session_factory, reporter=who, anonymity="confidential")
    await make_flag(session_factory, reporter=who, anonymity="anonymous")
    await make_flag(
        session_factory,
        reporter=reporter(fhir_user="Practitioner/pr-8", display="Dr. Eight", department="ED"),
    )

    assert await listed_ids(client, tokens, reporter="Practitioner/pr-7") == [str(identified.id)]


async def test_owner_filter_matches_a_lead_or_either_half_of_a_dyad(
    client, tokens, session_factory
):
    as_lead = await make_flag(session_factory)
    as_operational = await make_flag(session_factory)
    as_clinical = await make_flag(session_factory)
    someone_else = await make_flag(session_factory)
    await make_flag(session_factory)  # unassigned
    owners = {
        as_lead.id: {"lead": sid("K. Osei")},
        as_operational.id: {
            "clinical_lead": sid("Dr. H. Tanaka"),
            "operational_lead": sid("K. Osei"),
        },
        as_clinical.id: {"clinical_lead": sid("K. Osei"), "operational_lead": sid("R. Alvarez")},
        someone_else.id: {"lead": sid("Dr. L. Fischer")},
    }
    for flag_id, owner in owners.items():
        response = await write(client, tokens, "PUT", f"/api/v1/flags/{flag_id}/owner", owner)
        assert response.status_code == 200, response.text

    ids = await listed_ids(client, tokens, owner=sid("K. Osei"))

    assert sorted(ids) == sorted([str(as_lead.id), str(as_operational.id), str(as_clinical.id)])


async def test_created_date_range_includes_both_whole_days(client, tokens, session_factory):
    moments = [
        datetime(2026, 2, 28, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2026, 3, 1, 0, 0, tzinfo=UTC),
        datetime(2026, 3, 2, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2026, 3, 3, 0, 0, tzinfo=UTC),
    ]
    flags = [await make_flag(session_factory) for _ in moments]
    for flag, moment in zip(flags, moments, strict=True):
        await set_times(session_factory, flag.id, created_at=moment)

    ids = await listed_ids(
        client, tokens, created_from="2026-03-01", created_to="2026-03-02", sort="created_at"
    )
    single_day = await listed_ids(
        client, tokens, created_from="2026-03-02", created_to="2026-03-02"
    )

    assert ids == [str(flags[1].id), str(flags[2].id)]
    assert single_day == [str(flags[2].id)]


async def test_free_text_search_ignores_case(client, tokens, session_factory):
    wanted = await make_flag(session_factory, note="Repeat lipid PANEL within three months.")
    await make_flag(session_factory, note="Week-one back pain, no red flags.")

    assert await listed_ids(client, tokens, q="Lipid Panel") == [str(wanted.id)]


@pytest.mark.parametrize(
    ("query", "literal_note", "wildcard_note"),
    [
        pytest.param("50%", "Costs rose 50% last year.", "Costs rose 50 dollars.", id="percent"),
        pytest.param("order_set", "The order_set default.", "The orderXset default.", id="under"),
    ],
)
async def test_free_text_search_treats_like_wildcards_literally(
    client, tokens, session_factory, query, literal_note, wildcard_note
):
    wanted = await make_flag(session_factory, note=literal_note)
    await make_flag(session_factory, note=wildcard_note)

    assert await listed_ids(client, tokens, q=query) == [str(wanted.id)]


# --- listing: order and pages ------------------------------------------------------------------

DAY = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        pytest.param("-created_at", ["c", "b", "a"], id="newest"),
        pytest.param("created_at", ["a", "b", "c"], id="oldest"),
        pytest.param("-updated_at", ["a", "c", "b"], id="recently-updated"),
        pytest.param("updated_at", ["b", "c", "a"], id="least-recently-updated"),
    ],
)
async def test_list_sorts_by_creation_or_update_time(
    client, tokens, session_factory, sort, expected
):
    times = {
        "a": (DAY, DAY + timedelta(days=5)),
        "b": (DAY + timedelta(days=1), DAY + timedelta(days=2)),
        "c": (DAY + timedelta(days=2), DAY + timedelta(days=3)),
    }
    ids = {}
    for name, (created, updated) in times.items():
        flag = await make_flag(session_factory)
        await set_times(session_factory, flag.id, created_at=created, updated_at=updated)
        ids[str(flag.id)] = name

    listed = await listed_ids(client, tokens, sort=sort)

    assert [ids[flag_id] for flag_id in listed] == expected


async def test_list_defaults_to_newest_first(client, tokens, session_factory):
    older = await make_flag(session_factory)
    newer = await make_flag(session_factory)
    await set_times(session_factory, older.id, created_at=DAY)
    await set_times(session_factory, newer.id, created_at=DAY + timedelta(hours=1))

    assert await listed_ids(client, tokens) == [str(newer.id), str(older.id)]


@pytest.mark.parametrize("sort", ["-created_at", "created_at", "-updated_at", "updated_at"])
async def test_cursor_pages_walk_every_flag_once_in_a_stable_order_despite_equal_times(
    client, tokens, session_factory, sort
):
    # Seven flags, three of them sharing one timestamp: only the id can order those.
    offsets = [0, 1, 1, 1, 2, 3, 3]
    flags = [await make_flag(session_factory) for _ in offsets]
    for flag, offset in zip(flags, offsets, strict=True):
        moment = DAY + timedelta(hours=offset)
        await set_times(session_factory, flag.id, created_at=moment, updated_at=moment)

    walked: list[str] = []
    cursor = None
    for _ in range(10):
        params: dict[str, Any] = {"sort": sort, "limit": 2}
        if cursor is not None:
            params["cursor"] = cursor
        response = await client.get(
            "/api/v1/flags", params=params, headers=tokens.header("analyst")
        )
        assert response.status_code == 200, response.text
        page = response.json()
        walked += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    one_page = await listed_ids(client, tokens, sort=sort, limit=200)

    assert len(walked) == len(set(walked)) == len(flags)
    assert walked == one_page
    assert set(walked) == {str(flag.id) for flag in flags}
    offset_of = {str(flag.id): offset for flag, offset in zip(flags, offsets, strict=True)}
    walked_offsets = [offset_of[flag_id] for flag_id in walked]
    assert walked_offsets == sorted(walked_offsets, reverse=sort.startswith("-"))


async def test_next_cursor_is_null_on_a_short_last_page(client, tokens, session_factory):
    for _ in range(3):
        await make_flag(session_factory)

    first = (
        await client.get("/api/v1/flags", params={"limit": 2}, headers=tokens.header("analyst"))
    ).json()
    last = (
        await client.get(
            "/api/v1/flags",
            params={"limit": 2, "cursor": first["next_cursor"]},
            headers=tokens.header("analyst"),
        )
    ).json()

    assert len(first["items"]) == 2
    assert first["next_cursor"] is not None
    assert len(last["items"]) == 1
    assert last["next_cursor"] is None


async def test_next_cursor_is_null_when_the_last_page_is_exactly_full(
    client, tokens, session_factory
):
    for _ in range(2):
        await make_flag(session_factory)

    response = await client.get(
        "/api/v1/flags", params={"limit": 2}, headers=tokens.header("analyst")
    )

    page = response.json()
    assert len(page["items"]) == 2
    assert page["next_cursor"] is None, "a 'next' that leads to an empty page"


async def test_cursor_made_for_another_sort_is_refused_with_400(client, tokens, session_factory):
    for _ in range(2):
        await make_flag(session_factory)
    first = await client.get(
        "/api/v1/flags", params={"limit": 1, "sort": "-created_at"}, headers=tokens.header("lead")
    )
    cursor = first.json()["next_cursor"]
    assert cursor is not None

    response = await client.get(
        "/api/v1/flags",
        params={"limit": 1, "sort": "created_at", "cursor": cursor},
        headers=tokens.header("lead"),
    )

    body = assert_problem(response, 400)
    assert body["type"] == "urn:valueloop:problem:invalid-cursor"
    assert "sort" in body["detail"]


@pytest.mark.parametrize(
    "cursor",
    [
        pytest.param("not-a-cursor!!", id="not-base64"),
        pytest.param(base64.urlsafe_b64encode(b"[1, 2]").decode(), id="not-an-object"),
        pytest.param(raw_cursor("-created_at", [str(uuid.uuid4())]), id="wrong-arity"),
        pytest.param(raw_cursor("-created_at", ["yesterday", "nope"]), id="not-a-time"),
        pytest.param(
            raw_cursor("-created_at", ["2026-03-01T12:00:00+00:00", "nope"]), id="not-an-id"
        ),
        pytest.param(
            raw_cursor("-created_at", ["2026-03-01T12:00:00", str(uuid.uuid4())]),
            id="time-without-zone",
        ),
    ],
)
async def test_garbage_cursor_is_refused_with_400(client, tokens, cursor):
    response = await client.get(
        "/api/v1/flags", params={"cursor": cursor}, headers=tokens.header("analyst")
    )

    body = assert_problem(response, 400)
    assert body["type"] == "urn:valueloop:problem:invalid-cursor"


@pytest.mark.parametrize("limit", [0, 201, -1])
async def test_page_size_out_of_range_is_refused_with_422_naming_limit(client, tokens, limit):
    response = await client.get(
        "/api/v1/flags", params={"limit": limit}, headers=tokens.header("analyst")
    )

    body = assert_problem(response, 422)
    assert error_fields(body) == ["limit"]


# --- detail ------------------------------------------------------------------------------------


async def test_detail_returns_the_timeline_and_the_version_as_etag(client, tokens, session_factory):
    flag = await make_flag(session_factory)

    response = await client.get(f"/api/v1/flags/{flag.id}", headers=tokens.header("analyst"))

    assert response.status_code == 200
    assert response.headers["etag"] == '"v1"'
    body = response.json()
    assert body["id"] == str(flag.id)
    assert body["version"] == 1
    assert body["allowed_transitions"] == ["triaged"]
    assert [(event["kind"], event["to_status"]) for event in body["timeline"]] == [
        ("created", "submitted")
    ]


async def test_unknown_flag_is_404_problem(client, tokens):
    response = await client.get(f"/api/v1/flags/{uuid.uuid4()}", headers=tokens.header("analyst"))

    body = assert_problem(response, 404)
    assert body["type"] == "urn:valueloop:problem:flag-not-found"


async def test_malformed_flag_id_is_422_naming_the_id(client, tokens):
    response = await client.get("/api/v1/flags/not-a-uuid", headers=tokens.header("analyst"))

    body = assert_problem(response, 422)
    assert error_fields(body) == ["flag_id"]


HIDDEN_REPORTER = reporter(
    fhir_user="Practitioner/whistle-9",
    display="Dr. Quinn Hidden",
    email="quinn.hidden@example.org",
    department="Reporter Unit Nine",
)


@pytest.mark.parametrize("role", ["lead", "analyst", "admin"])
@pytest.mark.parametrize("anonymity", ["confidential", "anonymous"])
async def test_hidden_reporter_identity_never_appears_in_list_or_detail(
    client, tokens, session_factory, role, anonymity
):
    flag = await make_flag(session_factory, reporter=HIDDEN_REPORTER, anonymity=anonymity)
    shown = {
        "anonymity": anonymity,
        "role": "physician",
        "identity_hidden": True,
        "fhir_user": None,
        "display": None,
        "email": None,
        "department": None,
    }

    listing = await client.get("/api/v1/flags", headers=tokens.header(role))
    detail = await client.get(f"/api/v1/flags/{flag.id}", headers=tokens.header(role))

    assert listing.status_code == detail.status_code == 200
    assert [item["reporter"] for item in listing.json()["items"]] == [shown]
    assert detail.json()["reporter"] == shown
    for response in (listing, detail):
        for secret in ("whistle-9", "Quinn Hidden", "quinn.hidden", "Reporter Unit Nine"):
            assert secret not in response.text, f"{secret!r} leaked to {role} ({anonymity})"


async def test_identified_reporter_is_shown(client, tokens, session_factory):
    flag = await make_flag(session_factory, reporter=HIDDEN_REPORTER)

    detail = await client.get(f"/api/v1/flags/{flag.id}", headers=tokens.header("lead"))

    assert detail.json()["reporter"] == {
        "anonymity": "identified",
        "role": "physician",
        "identity_hidden": False,
        "fhir_user": "Practitioner/whistle-9",
        "display": "Dr. Quinn Hidden",
        "email": "quinn.hidden@example.org",
        "department": "Reporter Unit Nine",
    }


# --- writes: preconditions ---------------------------------------------------------------------


async def test_transition_without_if_match_is_refused_with_428(client, tokens, session_factory):
    flag = await make_flag(session_factory)

    response = await triage(client, tokens, flag.id, if_match=None)

    assert_problem(response, 428)
    assert await stored_state(session_factory, flag.id) == (1, ["created"])


async def test_stale_if_match_is_refused_with_412(client, tokens, session_factory):
    flag = await make_flag(session_factory)

    response = await triage(client, tokens, flag.id, if_match='"v7"')

    body = assert_problem(response, 412)
    assert "version 7" in body["detail"]
    assert "version 1" in body["detail"]


@pytest.mark.parametrize("if_match", ["v1", "1", 'W/"v1"', '"1"', "garbage", '""'])
async def test_malformed_if_match_is_refused_with_412(client, tokens, session_factory, if_match):
    flag = await make_flag(session_factory)

    response = await triage(client, tokens, flag.id, if_match=if_match)

    assert_problem(response, 412)
    assert await stored_state(session_factory, flag.id) == (1, ["created"])


async def test_if_match_star_is_accepted(client, tokens, session_factory):
    flag = await make_flag(session_factory)

    response = await triage(client, tokens, flag.id, if_match="*")

    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"v2"'


async def test_matching_if_match_writes_and_returns_the_next_etag(client, tokens, session_factory):
    flag = await make_flag(session_factory)
    etag = (await client.get(f"/api/v1/flags/{flag.id}", headers=tokens.header("lead"))).headers[
        "etag"
    ]

    response = await triage(client, tokens, flag.id, if_match=etag)

    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"v2"'
    body = response.json()
    assert body["status"] == "triaged"
    assert body["version"] == 2
    assert [event["kind"] for event in body["timeline"]] == ["created", "status_change"]


async def test_if_match_list_is_accepted_when_any_listed_etag_is_current(
    client, tokens, session_factory
):
    # RFC 9110 section 13.1.1: the condition holds if any listed entity tag matches.
    flag = await make_flag(session_factory)

    response = await triage(client, tokens, flag.id, if_match='"v9", "v1"')

    assert response.status_code == 200, response.text


async def test_second_write_based_on_the_same_etag_is_refused_with_412(
    client, tokens, session_factory
):
    flag = await make_flag(session_factory)
    url = f"/api/v1/flags/{flag.id}"

    first = await write(client, tokens, "PATCH", url, {"priority": "high"})
    second = await write(client, tokens, "PATCH", url, {"priority": "low"}, role="lead")

    assert first.status_code == 200
    assert_problem(second, 412)
    assert (await client.get(url, headers=tokens.header("lead"))).json()["priority"] == "high"


async def test_concurrent_writes_based_on_the_same_etag_let_exactly_one_win(
    client, tokens, session_factory
):
    flag = await make_flag(session_factory)
    url = f"/api/v1/flags/{flag.id}/transitions"

    responses = await asyncio.gather(
        write(client, tokens, "POST", url, {"to": "triaged", "comment": "Mine."}),
        write(client, tokens, "POST", url, {"to": "triaged", "comment": "Theirs."}, role="lead"),
    )

    assert sorted(response.status_code for response in responses) == [200, 412]
    winner = next(response for response in responses if response.status_code == 200)
    assert winner.headers["etag"] == '"v2"'
    assert await stored_state(session_factory, flag.id) == (
        2,
        ["created", "status_change", "comment"],
    )
    assert [row.action for row in await audit_rows(session_factory)] == ["update"]


@pytest.mark.parametrize("kind", ["comments", "replies"])
async def test_comment_and_reply_need_no_if_match(client, tokens, session_factory, kind):
    flag = await make_flag(session_factory)

    response = await write(
        client,
        tokens,
        "POST",
        f"/api/v1/flags/{flag.id}/{kind}",
        {"body": "Looking into it."},
        if_match=None,
        role="lead",
    )

    assert response.status_code == 201, response.text
    assert response.headers["etag"] == '"v2"'
    timeline = response.json()["timeline"]
    assert timeline[-1]["body"] == "Looking into it."
    assert timeline[-1]["visible_to_reporter"] is (kind == "replies")


@pytest.mark.parametrize("kind", ["comments", "replies"])
async def test_comment_and_reply_honour_if_match_when_given(client, tokens, session_factory, kind):
    flag = await make_flag(session_factory)
    url = f"/api/v1/flags/{flag.id}/{kind}"

    stale = await write(client, tokens, "POST", url, {"body": "Late."}, if_match='"v0"')
    current = await write(client, tokens, "POST", url, {"body": "On time."}, if_match='"v1"')

    assert_problem(stale, 412)
    assert current.status_code == 201
    assert current.headers["etag"] == '"v2"'
    event_kind = {"comments": "comment", "replies": "reply"}[kind]
    assert await stored_state(session_factory, flag.id) == (2, ["created", event_kind])


# --- writes: workflow, owner, patch ------------------------------------------------------------


async def test_illegal_transition_is_409_listing_the_allowed_ones(client, tokens, session_factory):
    flag = await make_flag(session_factory)

    response = await write(
        client,
        tokens,
        "POST",
        f"/api/v1/flags/{flag.id}/transitions",
        {"to": "closed", "reply": "Done."},
    )

    body = assert_problem(response, 409)
    assert body["type"] == "urn:valueloop:problem:invalid-transition"
    assert body["allowed_transitions"] == ["triaged"]


async def test_closing_without_a_reply_is_422(client, tokens, session_factory):
    flag = await make_flag(session_factory)
    url = f"/api/v1/flags/{flag.id}/transitions"
    steps: list[dict[str, Any]] = [
        {"to": "triaged"},
        {"to": "accepted", "owner": {"lead": sid("Dr. E. Nwosu")}},
        {"to": "action_taken"},
    ]
    for version, step in enumerate(steps, start=1):
        response = await write(client, tokens, "POST", url, step, if_match=f'"v{version}"')
        assert response.status_code == 200, response.text

    response = await write(client, tokens, "POST", url, {"to": "closed"}, if_match='"v4"')

    body = assert_problem(response, 422)
    assert "reply" in body["detail"]
    version, kinds = await stored_state(session_factory, flag.id)
    assert version == 4
    assert kinds[-1] == "status_change"


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
async def test_owner_is_a_lead_or_a_dyad(client, tokens, session_factory, owner, shown):
    flag = await make_flag(session_factory)

    response = await write(client, tokens, "PUT", f"/api/v1/flags/{flag.id}/owner", owner)

    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"v2"'
    body = response.json()
    assert {
        k: v["id"] if isinstance(v, dict) else v for k, v in body["owner"].items() if v
    } == shown
    assert body["timeline"][-1]["kind"] == "assignment"


@pytest.mark.parametrize(
    ("owner", "problem"),
    [
        pytest.param({}, "a dyad needs both", id="nobody"),
        pytest.param({"clinical_lead": sid("Dr. H. Tanaka")}, "a dyad needs both", id="half-dyad"),
        pytest.param({"operational_lead": sid("R. Alvarez")}, "a dyad needs both", id="other-half"),
        pytest.param(
            {"lead": sid("Dr. E. Nwosu"), "clinical_lead": sid("Dr. H. Tanaka")},
            "either 'lead', or",
            id="lead-and-dyad",
        ),
        pytest.param({"lead": ""}, "lead: input should be a valid UUID", id="empty-id"),
        pytest.param({"lead": "Dr. E. Nwosu"}, "valid UUID", id="a-name-not-an-id"),
        pytest.param(
            {"clinical_lead": sid("K. Osei"), "operational_lead": sid("K. Osei")},
            "a dyad is two people",
            id="one-person-twice",
        ),
    ],
)
async def test_invalid_owner_is_422_naming_the_problem(
    client, tokens, session_factory, owner, problem
):
    flag = await make_flag(session_factory)

    response = await write(client, tokens, "PUT", f"/api/v1/flags/{flag.id}/owner", owner)

    body = assert_problem(response, 422)
    assert problem in body["detail"]
    assert await stored_state(session_factory, flag.id) == (1, ["created"])


async def test_patch_changes_priority_and_tags_and_logs_both(client, tokens, session_factory):
    flag = await make_flag(session_factory)

    response = await write(
        client,
        tokens,
        "PATCH",
        f"/api/v1/flags/{flag.id}",
        {"priority": "high", "tags": ["imaging", "choosing-wisely"]},
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["priority"], body["tags"]) == ("high", ["imaging", "choosing-wisely"])
    assert body["timeline"][-1]["details"] == {
        "priority": {"from": "normal", "to": "high"},
        "tags": {"from": [], "to": ["imaging", "choosing-wisely"]},
    }


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        pytest.param({"status": "closed"}, "status", id="unknown-field"),
        pytest.param({}, "body", id="empty"),
        pytest.param({"priority": None, "tags": None}, "body", id="only-nulls"),
        pytest.param({"tags": ["Bad Tag"]}, "tags.0", id="bad-tag"),
        pytest.param({"tags": ["-leading-dash"]}, "tags.0", id="tag-leading-dash"),
        pytest.param({"priority": "whenever"}, "priority", id="bad-priority"),
    ],
)
async def test_invalid_patch_is_422_naming_the_field(client, tokens, session_factory, patch, field):
    flag = await make_flag(session_factory)

    response = await write(client, tokens, "PATCH", f"/api/v1/flags/{flag.id}", patch)

    body = assert_problem(response, 422)
    assert field in error_fields(body)


# --- input errors ------------------------------------------------------------------------------


async def test_malformed_json_is_400_problem(client, tokens, session_factory):
    flag = await make_flag(session_factory)

    response = await client.post(
        f"/api/v1/flags/{flag.id}/transitions",
        content=b'{"to": "triaged",',
        headers={
            **tokens.header("analyst"),
            "If-Match": '"v1"',
            "Content-Type": "application/json",
        },
    )

    body = assert_problem(response, 400)
    assert body["type"] == "urn:valueloop:problem:malformed-json"
    assert await stored_state(session_factory, flag.id) == (1, ["created"])
    assert await audit_rows(session_factory) == []


async def test_unknown_body_field_is_422_naming_it(client, tokens, session_factory):
    flag = await make_flag(session_factory)

    response = await write(
        client,
        tokens,
        "POST",
        f"/api/v1/flags/{flag.id}/transitions",
        {"to": "triaged", "colour": "red"},
    )

    body = assert_problem(response, 422)
    assert error_fields(body) == ["colour"]
    assert "unknown field" in body["errors"][0]["message"]


async def test_unknown_status_is_422_naming_the_field(client, tokens, session_factory):
    flag = await make_flag(session_factory)

    response = await write(
        client, tokens, "POST", f"/api/v1/flags/{flag.id}/transitions", {"to": "archived"}
    )

    body = assert_problem(response, 422)
    assert error_fields(body) == ["to"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        pytest.param({"created_from": "2026-13-01"}, "created_from", id="bad-month"),
        pytest.param({"created_to": "yesterday"}, "created_to", id="word"),
        pytest.param({"status": "archived"}, "status.0", id="bad-status"),
        pytest.param({"sort": "priority"}, "sort", id="bad-sort"),
        pytest.param({"q": "x"}, "q", id="q-too-short"),
    ],
)
async def test_bad_query_value_is_422_naming_the_field(client, tokens, params, field):
    response = await client.get("/api/v1/flags", params=params, headers=tokens.header("analyst"))

    body = assert_problem(response, 422)
    assert error_fields(body) == [field]


async def test_date_range_backwards_is_422(client, tokens):
    response = await client.get(
        "/api/v1/flags",
        params={"created_from": "2026-03-05", "created_to": "2026-03-01"},
        headers=tokens.header("analyst"),
    )

    body = assert_problem(response, 422)
    assert "created_from" in body["detail"]


async def test_order_code_with_a_system_but_no_code_is_422(client, tokens):
    response = await client.get(
        "/api/v1/flags", params={"order_code": f"{CPT}|"}, headers=tokens.header("analyst")
    )

    assert_problem(response, 422)


OVERSIZED = json.dumps({"body": "x" * (65 * 1024)}).encode()


async def test_body_over_the_limit_is_refused_with_413(client, tokens, session_factory):
    flag = await make_flag(session_factory)

    response = await client.post(
        f"/api/v1/flags/{flag.id}/comments",
        content=OVERSIZED,
        headers={**tokens.header("analyst"), "Content-Type": "application/json"},
    )

    body = assert_problem(response, 413)
    assert body["type"] == "urn:valueloop:problem:payload-too-large"
    assert await stored_state(session_factory, flag.id) == (1, ["created"])
    assert await audit_rows(session_factory) == []


async def test_streamed_body_over_the_limit_is_refused_with_413(client, tokens, session_factory):
    # No Content-Length: the limit has to be enforced while the body arrives.
    flag = await make_flag(session_factory)

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(OVERSIZED), 8192):
            yield OVERSIZED[start : start + 8192]

    response = await client.post(
        f"/api/v1/flags/{flag.id}/comments",
        content=chunks(),
        headers={**tokens.header("analyst"), "Content-Type": "application/json"},
    )

    assert "content-length" not in response.request.headers
    assert_problem(response, 413)
    assert await stored_state(session_factory, flag.id) == (1, ["created"])


REFUSED_WRITES = [
    pytest.param("POST", "transitions", {"to": "triaged"}, None, 428, id="no-if-match"),
    pytest.param("POST", "transitions", {"to": "triaged"}, '"v2"', 412, id="stale"),
    pytest.param("POST", "transitions", {"to": "closed", "reply": "x"}, '"v1"', 409, id="illegal"),
    pytest.param("POST", "transitions", {"to": "triaged", "x": 1}, '"v1"', 422, id="unknown-field"),
    pytest.param("POST", "comments", {"body": "Hm."}, '"v3"', 412, id="stale-comment"),
    pytest.param("POST", "replies", {"body": ""}, None, 422, id="empty-reply"),
    pytest.param("PUT", "owner", {"clinical_lead": "Dr. H"}, '"v1"', 422, id="half-dyad"),
    pytest.param("PATCH", "", {}, '"v1"', 422, id="empty-patch"),
]


@pytest.mark.parametrize(("method", "path", "body", "if_match", "status"), REFUSED_WRITES)
async def test_refused_write_leaves_version_and_timeline_unchanged(
    client, tokens, session_factory, method, path, body, if_match, status
):
    flag = await make_flag(session_factory)
    url = f"/api/v1/flags/{flag.id}" + (f"/{path}" if path else "")

    response = await write(client, tokens, method, url, body, if_match=if_match)

    assert_problem(response, status)
    assert await stored_state(session_factory, flag.id) == (1, ["created"])


# --- audit -------------------------------------------------------------------------------------


async def test_reading_a_flag_writes_one_read_audit_event(client, tokens, session_factory):
    flag = await make_flag(session_factory)

    response = await client.get(
        f"/api/v1/flags/{flag.id}",
        headers={**tokens.header("analyst"), "X-Request-ID": "req-read-0001"},
    )

    assert response.status_code == 200
    assert response.headers["x-request-id"] == "req-read-0001"
    [row] = await audit_rows(session_factory)
    assert (row.action, row.entity_type, row.entity_id) == ("read", "flag", str(flag.id))
    assert "Test analyst" in row.actor_id
    assert row.actor_role == "analyst"
    assert row.request_id == "req-read-0001"
    assert row.issuer == flag.issuer


async def test_listing_writes_one_search_event_with_the_returned_ids(
    client, tokens, session_factory
):
    flags = [await make_flag(session_factory, priority="high") for _ in range(3)]
    await make_flag(session_factory, priority="low")

    response = await client.get(
        "/api/v1/flags", params={"priority": "high"}, headers=tokens.header("lead")
    )

    returned = [item["id"] for item in response.json()["items"]]
    assert sorted(returned) == sorted(str(flag.id) for flag in flags)
    [row] = await audit_rows(session_factory)
    assert row.action == "search"
    assert row.request_id == response.headers["x-request-id"]
    assert "Test lead" in row.actor_id
    assert row.details == {"filters": {"priority": ["high"]}, "flag_ids": returned}


async def test_a_write_records_an_update_event(client, tokens, session_factory):
    flag = await make_flag(session_factory)

    response = await triage(client, tokens, flag.id)

    assert response.status_code == 200
    [row] = await audit_rows(session_factory)
    assert (row.action, row.entity_id) == ("update", str(flag.id))
    assert row.details == {"transition": "triaged"}
    assert "Test analyst" in row.actor_id
    assert row.request_id == response.headers["x-request-id"]


@pytest.mark.parametrize(("method", "path", "body", "if_match", "status"), REFUSED_WRITES)
async def test_refused_write_records_no_audit_event(
    client, tokens, session_factory, method, path, body, if_match, status
):
    flag = await make_flag(session_factory)
    url = f"/api/v1/flags/{flag.id}" + (f"/{path}" if path else "")

    response = await write(client, tokens, method, url, body, if_match=if_match)

    assert response.status_code == status
    assert await audit_rows(session_factory) == []
