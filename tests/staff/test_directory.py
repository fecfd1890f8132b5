"""The staff directory: its API, assignment by staff id, tokens and sessions that belong to
people, and just-in-time accounts from OpenID Connect sign-in."""

from __future__ import annotations

import uuid

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from app.audit.models import AuditEvent
from app.auth.models import Role
from app.errors import PROBLEM_JSON
from app.flags.models import Flag, FlagEvent
from app.flags.owners import owners_of
from app.staff import service
from app.staff.errors import StaffDeactivated, StaffEmailTaken
from app.staff.models import Staff
from app.staff.repository import staff_by_ids
from app.staff.schemas import StaffUpdate
from tests.conftest import Tokens
from tests.factories import make_flag, make_staff


def problem(response: httpx.Response, status: int, slug: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    body: dict[str, object] = response.json()
    assert body["type"] == f"urn:valueloop:problem:{slug}"
    return body


async def add(client: httpx.AsyncClient, tokens: Tokens, **body: object) -> httpx.Response:
    return await client.post("/api/v1/staff", json=body, headers=tokens.header("admin"))


# --- the directory API -----------------------------------------------------------------------


async def test_admin_adds_a_person_with_the_email_stored_lower_case(client, tokens):
    response = await add(
        client, tokens, email="  Ana.Lee@Example.ORG ", name="Dr. A. Lee", role="lead"
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["email"], body["name"], body["role"], body["active"]) == (
        "ana.lee@example.org",
        "Dr. A. Lee",
        "lead",
        True,
    )
    uuid.UUID(body["id"])


async def test_a_duplicate_email_in_any_case_is_409_and_adds_nobody(client, tokens):
    await add(client, tokens, email="ana.lee@example.org", name="Dr. A. Lee", role="lead")

    response = await add(client, tokens, email="ANA.LEE@example.org", name="Ana", role="analyst")

    body = problem(response, 409, "staff-email-taken")
    assert "ana.lee@example.org" in str(body["detail"])
    listed = await client.get("/api/v1/staff", headers=tokens.header("lead"))
    assert [person["name"] for person in listed.json()["items"]] == ["Dr. A. Lee"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"email": "a@example.org", "name": "A", "role": "owner"}, "role", id="role"),
        pytest.param({"email": "not-an-email", "name": "A", "role": "lead"}, "email", id="email"),
        pytest.param({"email": "a@example.org", "name": "", "role": "lead"}, "name", id="name"),
        pytest.param({"email": "a@example.org", "role": "lead"}, "name", id="missing-name"),
        pytest.param(
            {"email": "a@example.org", "name": "A", "role": "lead", "x": 1}, "x", id="unknown"
        ),
    ],
)
async def test_bad_input_is_422_naming_the_field(client, tokens, body, field):
    response = await client.post("/api/v1/staff", json=body, headers=tokens.header("admin"))

    assert response.status_code == 422, response.text
    assert field in response.text


@pytest.mark.parametrize("role", ["lead", "analyst"])
async def test_only_admins_add_or_change_people(client, tokens, session_factory, role):
    person = await make_staff(session_factory)

    added = await client.post(
        "/api/v1/staff",
        json={"email": "x@example.org", "name": "X", "role": "lead"},
        headers=tokens.header(role),
    )
    changed = await client.patch(
        f"/api/v1/staff/{person.id}", json={"role": "admin"}, headers=tokens.header(role)
    )

    problem(added, 403, "role-not-allowed")
    problem(changed, 403, "role-not-allowed")


async def test_the_directory_needs_a_signed_in_caller(client):
    response = await client.get("/api/v1/staff")

    problem(response, 401, "missing-token")


async def test_type_ahead_matches_the_start_of_a_name_or_email_in_any_case(
    client, tokens, session_factory
):
    await make_staff(session_factory, name="Dr. Hana Tanaka", email="h.tanaka@example.org")
    await make_staff(session_factory, name="Ravi Alvarez", email="ravi@example.org")
    await make_staff(session_factory, name="Tom Hanover", email="hanover_t@example.org")

    async def names(q: str) -> list[str]:
        response = await client.get("/api/v1/staff", params={"q": q}, headers=tokens.header("lead"))
        assert response.status_code == 200, response.text
        return [person["name"] for person in response.json()["items"]]

    assert await names("dr. h") == ["Dr. Hana Tanaka"]
    assert await names("RAV") == ["Ravi Alvarez"]
    assert await names("h.") == ["Dr. Hana Tanaka"]
    assert await names("hanover_") == ["Tom Hanover"]
    assert await names("ana") == []  # a prefix, not a substring
    assert await names("%") == []  # LIKE wildcards are matched literally


async def test_active_and_role_filters_and_pages_walk_everyone_once(
    client, tokens, session_factory
):
    for number in range(5):
        await make_staff(session_factory, name=f"Lead {number}", role=Role.LEAD)
    await make_staff(session_factory, name="Analyst", role=Role.ANALYST)
    await make_staff(session_factory, name="Gone", active=False)
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, object] = {"active": "true", "role": "lead", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (
            await client.get("/api/v1/staff", params=params, headers=tokens.header("lead"))
        ).json()
        seen += [person["name"] for person in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == [f"Lead {number}" for number in range(5)]
    inactive = await client.get(
        "/api/v1/staff", params={"active": "false"}, headers=tokens.header("lead")
    )
    assert [(p["name"], p["active"]) for p in inactive.json()["items"]] == [("Gone", False)]


async def test_a_damaged_cursor_is_400(client, tokens):
    response = await client.get(
        "/api/v1/staff", params={"cursor": "not-a-cursor"}, headers=tokens.header("lead")
    )

    problem(response, 400, "invalid-cursor")


async def test_admin_changes_a_role_and_deactivates_and_reactivates_keeping_the_record(
    client, tokens, session_factory
):
    person = await make_staff(session_factory, name="Dr. K. Osei")
    url = f"/api/v1/staff/{person.id}"
    admin = tokens.header("admin")

    promoted = await client.patch(url, json={"role": "analyst"}, headers=admin)
    deactivated = await client.patch(url, json={"active": False}, headers=admin)
    async with session_factory() as session:
        stored = await session.get(Staff, person.id)
    reactivated = await client.patch(url, json={"active": True}, headers=admin)

    assert promoted.json()["role"] == "analyst"
    assert deactivated.json()["active"] is False
    assert stored is not None
    assert stored.deactivated_at is not None
    assert reactivated.json()["active"] is True
    async with session_factory() as session:
        audit = (
            await session.scalars(
                sa.select(AuditEvent).where(col(AuditEvent.entity_type) == "staff")
            )
        ).all()
    assert [event.action for event in audit] == ["update", "update", "update"]


@pytest.mark.parametrize(
    ("change", "status", "slug"),
    [
        pytest.param({}, 422, "validation-error", id="nothing"),
        pytest.param({"role": "owner"}, 422, "validation-error", id="bad-role"),
        pytest.param({"email": "taken@example.org"}, 409, "staff-email-taken", id="taken-email"),
    ],
)
async def test_bad_changes_are_refused_and_change_nothing(
    client, tokens, session_factory, change, status, slug
):
    await make_staff(session_factory, email="taken@example.org")
    person = await make_staff(session_factory, name="Dr. K. Osei", email="osei@example.org")

    response = await client.patch(
        f"/api/v1/staff/{person.id}", json=change, headers=tokens.header("admin")
    )

    assert response.status_code == status, response.text
    if status == 409:
        problem(response, status, slug)
    async with session_factory() as session:
        stored = await session.get(Staff, person.id)
    assert stored is not None
    assert (stored.email, stored.role) == ("osei@example.org", "lead")


async def test_changing_an_unknown_person_is_404(client, tokens):
    response = await client.patch(
        f"/api/v1/staff/{uuid.uuid4()}", json={"role": "lead"}, headers=tokens.header("admin")
    )

    problem(response, 404, "staff-not-found")


# --- assignment by staff id ------------------------------------------------------------------


async def assign(client, tokens, flag_id, owner) -> httpx.Response:
    response: httpx.Response = await client.put(
        f"/api/v1/flags/{flag_id}/owner",
        json=owner,
        headers={**tokens.header("analyst"), "If-Match": '"v1"'},
    )
    return response


async def test_a_dyad_is_assigned_by_staff_id_and_shown_as_people(client, tokens, session_factory):
    flag = await make_flag(session_factory)
    clinical = await make_staff(session_factory, name="Dr. H. Tanaka", email="tanaka@example.org")
    operational = await make_staff(session_factory, name="R. Alvarez", email="alvarez@example.org")

    response = await assign(
        client,
        tokens,
        flag.id,
        {"clinical_lead": str(clinical.id), "operational_lead": str(operational.id)},
    )

    assert response.status_code == 200, response.text
    owner = response.json()["owner"]
    assert owner["kind"] == "dyad"
    assert owner["clinical_lead"] == {
        "id": str(clinical.id),
        "name": "Dr. H. Tanaka",
        "email": "tanaka@example.org",
        "active": True,
    }
    assert owner["operational_lead"]["name"] == "R. Alvarez"
    event = response.json()["timeline"][-1]
    assert event["details"]["clinical_lead_id"] == str(clinical.id)
    assert event["details"]["operational_lead"] == "R. Alvarez"
    async with session_factory() as session:
        stored = await session.get(Flag, flag.id)
        assert stored is not None
        assert [p.email for p in await owners_of(session, stored)] == [
            "tanaka@example.org",
            "alvarez@example.org",
        ]


async def test_owner_filter_takes_a_staff_id(client, tokens, session_factory):
    mine, other = await make_flag(session_factory), await make_flag(session_factory)
    person = await make_staff(session_factory)
    await assign(client, tokens, mine.id, {"lead": str(person.id)})

    listed = await client.get(
        "/api/v1/flags", params={"owner": str(person.id)}, headers=tokens.header("lead")
    )
    bad = await client.get(
        "/api/v1/flags", params={"owner": "K. Osei"}, headers=tokens.header("lead")
    )

    assert [item["id"] for item in listed.json()["items"]] == [str(mine.id)]
    assert str(other.id) not in listed.text
    assert bad.status_code == 422


async def test_assigning_a_deactivated_person_is_422_naming_them_and_changes_nothing(
    client, tokens, session_factory
):
    flag = await make_flag(session_factory)
    active = await make_staff(session_factory, name="Dr. H. Tanaka")
    gone = await make_staff(session_factory, name="Dr. G. Halvorsen", active=False)

    response = await assign(
        client,
        tokens,
        flag.id,
        {"clinical_lead": str(active.id), "operational_lead": str(gone.id)},
    )

    body = problem(response, 422, "owner-not-assignable")
    assert "'operational_lead': Dr. G. Halvorsen is deactivated" in str(body["detail"])
    assert body["refusals"] == [
        {
            "field": "operational_lead",
            "id": str(gone.id),
            "detail": "'operational_lead': Dr. G. Halvorsen is deactivated and cannot own "
            "flags; choose someone active, or ask an admin to reactivate them.",
        }
    ]
    detail = await client.get(f"/api/v1/flags/{flag.id}", headers=tokens.header("lead"))
    assert (detail.json()["owner"], detail.json()["version"]) == (None, 1)


async def test_assigning_an_unknown_id_is_422_naming_the_field(client, tokens, session_factory):
    flag = await make_flag(session_factory)
    nobody = uuid.uuid4()

    response = await assign(client, tokens, flag.id, {"lead": str(nobody)})

    body = problem(response, 422, "owner-not-assignable")
    assert f"'lead' names nobody in the staff directory ({nobody})" in str(body["detail"])


async def test_accepting_with_a_deactivated_owner_is_refused(client, tokens, session_factory):
    flag = await make_flag(session_factory)
    gone = await make_staff(session_factory, active=False)
    headers = {**tokens.header("analyst"), "If-Match": '"v1"'}
    await client.post(
        f"/api/v1/flags/{flag.id}/transitions", json={"to": "triaged"}, headers=headers
    )

    response = await client.post(
        f"/api/v1/flags/{flag.id}/transitions",
        json={"to": "accepted", "owner": {"lead": str(gone.id)}},
        headers={**tokens.header("analyst"), "If-Match": '"v2"'},
    )

    problem(response, 422, "owner-not-assignable")


async def test_bulk_assignment_to_a_deactivated_person_assigns_nobody(
    client, tokens, session_factory
):
    flags = [await make_flag(session_factory) for _ in range(2)]
    gone = await make_staff(session_factory, active=False)

    response = await client.post(
        "/api/v1/flags/bulk/owner",
        json={
            "owner": {"lead": str(gone.id)},
            "items": [{"id": str(flag.id), "version": 1} for flag in flags],
        },
        headers=tokens.header("analyst"),
    )

    problem(response, 422, "owner-not-assignable")
    async with session_factory() as session:
        owners = (await session.scalars(sa.select(col(Flag.owner_lead_id)))).all()
    assert owners == [None, None]


# --- tokens and sessions that belong to people -----------------------------------------------


async def person_token(client, tokens, staff_id) -> str:
    response = await client.post(
        "/api/v1/tokens", json={"staff_id": str(staff_id)}, headers=tokens.header("admin")
    )
    assert response.status_code == 201, response.text
    assert response.json()["staff_id"] == str(staff_id)
    return str(response.json()["token"])


async def test_a_persons_token_acts_as_them_on_the_timeline_and_audit(
    client, tokens, session_factory
):
    person = await make_staff(session_factory, name="A. Rivera", role=Role.ANALYST)
    flag = await make_flag(session_factory)
    secret = await person_token(client, tokens, person.id)

    moved = await client.post(
        f"/api/v1/flags/{flag.id}/transitions",
        json={"to": "triaged"},
        headers={"Authorization": f"Bearer {secret}", "If-Match": '"v1"'},
    )

    assert moved.status_code == 200, moved.text
    assert moved.json()["timeline"][-1]["actor"] == {
        "name": "A. Rivera",
        "role": "analyst",
        "staff_id": str(person.id),
    }
    async with session_factory() as session:
        event = (
            await session.scalars(
                sa.select(FlagEvent).where(col(FlagEvent.kind) == "status_change")
            )
        ).one()
        audit = (await session.scalars(sa.select(AuditEvent))).all()
    assert event.actor_staff_id == person.id
    assert any(row.actor_id.startswith("A. Rivera (") for row in audit)


async def test_a_persons_token_carries_their_current_role(client, tokens, session_factory):
    person = await make_staff(session_factory, role=Role.ANALYST)
    secret = await person_token(client, tokens, person.id)
    await client.patch(
        f"/api/v1/staff/{person.id}", json={"role": "lead"}, headers=tokens.header("admin")
    )

    response = await client.get(
        "/api/v1/exports/flags", headers={"Authorization": f"Bearer {secret}"}
    )

    problem(response, 403, "role-not-allowed")


async def test_a_deactivated_persons_token_is_403_saying_so(client, tokens, session_factory):
    person = await make_staff(session_factory)
    secret = await person_token(client, tokens, person.id)
    await client.patch(
        f"/api/v1/staff/{person.id}", json={"active": False}, headers=tokens.header("admin")
    )

    response = await client.get("/api/v1/flags", headers={"Authorization": f"Bearer {secret}"})

    body = problem(response, 403, "staff-deactivated")
    assert "deactivated" in str(body["detail"])


async def test_a_deactivated_persons_dashboard_session_ends_with_401(
    client, tokens, session_factory
):
    person = await make_staff(session_factory)
    secret = await person_token(client, tokens, person.id)
    signed_in = await client.post("/api/v1/session", json={"token": secret})
    assert signed_in.status_code == 201, signed_in.text
    assert signed_in.json()["staff_id"] == str(person.id)
    cookie = (
        signed_in.cookies.get("__Host-valueloop-staff")
        or signed_in.headers["set-cookie"].split(";")[0].split("=", 1)[1]
    )
    await client.patch(
        f"/api/v1/staff/{person.id}", json={"active": False}, headers=tokens.header("admin")
    )

    response = await client.get(
        "/api/v1/session", headers={"Cookie": f"__Host-valueloop-staff={cookie}"}
    )

    body = problem(response, 401, "session-ended")
    assert "deactivated" in str(body["detail"])


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"name": "Bridge"}, id="service-without-role"),
        pytest.param({"staff_id": str(uuid.uuid4()), "role": "admin"}, id="person-with-role"),
        pytest.param({}, id="nothing"),
    ],
)
async def test_a_token_is_a_persons_or_a_named_services(client, tokens, body):
    response = await client.post("/api/v1/tokens", json=body, headers=tokens.header("admin"))

    assert response.status_code == 422, response.text


async def test_a_token_for_an_unknown_or_deactivated_person_is_refused(
    client, tokens, session_factory
):
    gone = await make_staff(session_factory, active=False)

    unknown = await client.post(
        "/api/v1/tokens", json={"staff_id": str(uuid.uuid4())}, headers=tokens.header("admin")
    )
    deactivated = await client.post(
        "/api/v1/tokens", json={"staff_id": str(gone.id)}, headers=tokens.header("admin")
    )

    problem(unknown, 404, "staff-not-found")
    problem(deactivated, 403, "staff-deactivated")


# --- just-in-time accounts -------------------------------------------------------------------

ISSUER = "https://idp.example.test"


def identity(**overrides: object) -> service.Identity:
    data: dict[str, object] = {
        "issuer": ISSUER,
        "subject": "sub-1",
        "name": "Dr. P. Lindqvist",
        "email": "P.Lindqvist@Example.org",
        "email_verified": True,
    }
    data.update(overrides)
    return service.Identity(**data)  # type: ignore[arg-type]


async def sign_in(factory: async_sessionmaker[AsyncSession], role=Role.LEAD, **overrides) -> Staff:
    async with factory() as session:
        person = await service.just_in_time(session, identity(**overrides), role)
        await session.commit()
        return person


async def test_first_sign_in_creates_the_person_and_later_ones_update_them(session_factory):
    first = await sign_in(session_factory)
    again = await sign_in(session_factory, role=Role.ANALYST, name="Dr. Petra Lindqvist")

    assert again.id == first.id
    async with session_factory() as session:
        [stored] = (await session.scalars(sa.select(Staff))).all()
    assert (stored.name, stored.email, stored.role) == (
        "Dr. Petra Lindqvist",
        "p.lindqvist@example.org",
        "analyst",
    )
    assert (stored.oidc_issuer, stored.oidc_subject) == (ISSUER, "sub-1")


async def test_sign_in_links_a_person_an_admin_added_by_email(session_factory):
    added = await make_staff(session_factory, email="p.lindqvist@example.org", name="P. L.")

    person = await sign_in(session_factory)

    assert person.id == added.id
    assert person.oidc_subject == "sub-1"


async def test_an_unverified_email_does_not_take_over_a_directory_entry(session_factory):
    await make_staff(session_factory, email="p.lindqvist@example.org")

    with pytest.raises(StaffEmailTaken):
        await sign_in(session_factory, email_verified=False)


async def test_a_deactivated_person_cannot_sign_in(session_factory):
    person = await sign_in(session_factory)
    async with session_factory() as session:
        await service.update(session, person.id, StaffUpdate(active=False))
        await session.commit()

    with pytest.raises(StaffDeactivated, match="deactivated"):
        await sign_in(session_factory)


async def test_staff_by_ids_skips_none_and_unknown_ids(session_factory):
    person = await make_staff(session_factory)

    async with session_factory() as session:
        found = await staff_by_ids(session, [person.id, None, uuid.uuid4()])

    assert list(found) == [person.id]
