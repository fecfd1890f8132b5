"""Staff of one organization see, work and export only its flags; another organization's flag
is indistinguishable from one that does not exist. Walks every flag-reading and flag-writing
endpoint as staff of the hospital (``main``) aiming at the practice's flag (SQLite and
PostgreSQL, like every API test)."""

from __future__ import annotations

import csv
import io
import json
import uuid
from typing import Any

import httpx
import pytest

from tests.factories import sid
from tests.organizations.conftest import TwoOrganizations

pytestmark = pytest.mark.usefixtures("known_staff")

# (method, path under /api/v1/flags/{id}, body, If-Match): every endpoint that names one flag.
ONE_FLAG_ENDPOINTS = [
    pytest.param("GET", "", None, None, id="read"),
    pytest.param("GET", "/duplicate-candidates", None, None, id="duplicate-candidates"),
    pytest.param("GET", "/fhir", None, None, id="fhir-bundle"),
    pytest.param("PATCH", "", {"priority": "high"}, '"v1"', id="update"),
    pytest.param("POST", "/transitions", {"to": "triaged"}, '"v1"', id="transition"),
    pytest.param("POST", "/comments", {"body": "Looked at it."}, '"v1"', id="comment"),
    pytest.param("POST", "/replies", {"body": "Thanks, we are on it."}, '"v1"', id="reply"),
    pytest.param("PUT", "/owner", {"lead": sid("Dr. E. Nwosu")}, '"v1"', id="assign"),
    pytest.param(
        "POST",
        "/classification",
        {"reason": "low_benefit", "comment": "Order-set default."},
        '"v1"',
        id="reclassify",
    ),
]


def _without(body: dict[str, Any], *ids: uuid.UUID) -> str:
    """The problem body with the flag's id and the per-request parts taken out."""
    text = json.dumps({k: v for k, v in body.items() if k not in {"instance", "request_id"}})
    for flag_id in ids:
        text = text.replace(str(flag_id), "ID")
    return text


async def _call(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    headers: dict[str, str],
    body: Any,
    if_match: str | None,
) -> httpx.Response:
    if if_match:
        headers = {**headers, "If-Match": if_match}
    return await client.request(method, url, json=body, headers=headers)


@pytest.mark.parametrize(("method", "path", "body", "if_match"), ONE_FLAG_ENDPOINTS)
async def test_another_organizations_flag_answers_exactly_as_a_missing_one(
    client, two_organizations: TwoOrganizations, session_factory, method, path, body, if_match
):
    orgs = two_organizations
    headers = orgs.header("a_analyst")
    missing = uuid.uuid4()

    theirs = await _call(
        client, method, f"/api/v1/flags/{orgs.flag_b.id}{path}", headers, body, if_match
    )
    nobody = await _call(client, method, f"/api/v1/flags/{missing}{path}", headers, body, if_match)

    assert theirs.status_code == nobody.status_code == 404
    assert _without(theirs.json(), orgs.flag_b.id) == _without(nobody.json(), missing)
    assert set(theirs.headers) - {"x-request-id"} == set(nobody.headers) - {"x-request-id"}
    # Nothing was written to the practice's flag.
    own = await client.get(f"/api/v1/flags/{orgs.flag_b.id}", headers=orgs.header("b_analyst"))
    assert own.status_code == 200
    assert own.json()["version"] == 1
    assert [event["kind"] for event in own.json()["timeline"]] == ["created"]


@pytest.mark.parametrize("kind", ["transitions", "owner"])
async def test_bulk_changes_treat_another_organizations_flag_as_missing(
    client, two_organizations: TwoOrganizations, kind
):
    orgs = two_organizations
    extra = {"to": "triaged"} if kind == "transitions" else {"owner": {"lead": sid("Dr. E. Nwosu")}}
    missing = uuid.uuid4()

    def body(flag_id: uuid.UUID) -> dict[str, Any]:
        return {**extra, "items": [{"id": str(flag_id), "version": 1}]}

    theirs = await client.post(
        f"/api/v1/flags/bulk/{kind}", json=body(orgs.flag_b.id), headers=orgs.header("a_analyst")
    )
    nobody = await client.post(
        f"/api/v1/flags/bulk/{kind}", json=body(missing), headers=orgs.header("a_analyst")
    )

    assert theirs.status_code == nobody.status_code == 404
    assert _without(theirs.json(), orgs.flag_b.id) == _without(nobody.json(), missing)


async def test_the_flag_list_holds_only_the_callers_organization(
    client, two_organizations: TwoOrganizations
):
    orgs = two_organizations

    hospital = await client.get("/api/v1/flags", headers=orgs.header("a_analyst"))
    practice = await client.get("/api/v1/flags", headers=orgs.header("b_analyst"))
    system = await client.get("/api/v1/flags", headers=orgs.header("system_analyst"))
    # A filter that only the practice's flag matches finds nothing, not an error.
    aimed = await client.get(
        "/api/v1/flags",
        params={"department": "Practice Pediatrics", "q": "vitamin", "organization": "practice"},
        headers=orgs.header("a_analyst"),
    )

    assert [item["id"] for item in hospital.json()["items"]] == [str(orgs.flag_a.id)]
    assert [item["id"] for item in practice.json()["items"]] == [str(orgs.flag_b.id)]
    assert {item["id"] for item in system.json()["items"]} == {
        str(orgs.flag_a.id),
        str(orgs.flag_b.id),
    }
    assert aimed.status_code == 200
    assert aimed.json()["items"] == []
    assert aimed.json()["next_cursor"] is None


async def test_system_level_staff_filter_by_organization(
    client, two_organizations: TwoOrganizations
):
    orgs = two_organizations

    practice = await client.get(
        "/api/v1/flags", params={"organization": "practice"}, headers=orgs.header("system_analyst")
    )
    unknown = await client.get(
        "/api/v1/flags", params={"organization": "nowhere"}, headers=orgs.header("system_analyst")
    )

    assert [item["id"] for item in practice.json()["items"]] == [str(orgs.flag_b.id)]
    assert unknown.status_code == 422
    assert "nowhere" in unknown.json()["detail"]


async def test_a_cursor_from_another_organization_reveals_nothing(
    client, two_organizations: TwoOrganizations, session_factory
):
    from tests.factories import make_flag

    orgs = two_organizations
    for _ in range(3):
        await make_flag(session_factory, organization_id=orgs.practice_id)
    first = await client.get("/api/v1/flags", params={"limit": 1}, headers=orgs.header("b_analyst"))
    cursor = first.json()["next_cursor"]

    borrowed = await client.get(
        "/api/v1/flags", params={"limit": 10, "cursor": cursor}, headers=orgs.header("a_analyst")
    )

    ids = {item["id"] for item in borrowed.json()["items"]}
    assert ids <= {str(orgs.flag_a.id)}


STATISTICS = [
    "/api/v1/stats/breakdown?by=department",
    "/api/v1/stats/breakdown?by=service",
    "/api/v1/stats/breakdown?by=reason",
    "/api/v1/stats/weekly",
    "/api/v1/stats/loop",
    "/api/v1/stats/reply-times",
    "/api/v1/stats/outcomes",
    "/api/v1/stats/close-times",
    "/api/v1/stats/cycle-time",
    "/api/v1/stats/cds",
]


@pytest.mark.parametrize("url", STATISTICS)
async def test_statistics_count_only_the_callers_organization(
    client, two_organizations: TwoOrganizations, url
):
    orgs = two_organizations

    hospital = await client.get(url, headers=orgs.header("a_analyst"))
    narrowed = url if "cds" in url else url + ("&" if "?" in url else "?") + "organization=main"
    filtered = await client.get(narrowed, headers=orgs.header("system_analyst"))

    assert hospital.status_code == 200, hospital.text
    text = hospital.text
    assert "Practice Pediatrics" not in text
    assert "62292-8" not in text
    if "cds" not in url:
        # Exactly what a system-level analyst sees of the hospital alone.
        assert hospital.json() == filtered.json()


async def test_filter_options_list_only_the_callers_departments_and_services(
    client, two_organizations: TwoOrganizations
):
    orgs = two_organizations

    options = (await client.get("/api/v1/filter-options", headers=orgs.header("a_analyst"))).text

    assert "Hospital Medicine" in options
    assert "Practice Pediatrics" not in options
    assert "62292-8" not in options


@pytest.mark.parametrize("fmt", ["csv", "ndjson", "fhir-ndjson"])
async def test_the_export_holds_only_the_callers_organization(
    client, two_organizations: TwoOrganizations, fmt
):
    orgs = two_organizations

    response = await client.get(
        "/api/v1/exports/flags", params={"format": fmt}, headers=orgs.header("a_analyst")
    )

    assert response.status_code == 200
    if fmt == "csv":
        ids = [row["id"] for row in csv.DictReader(io.StringIO(response.text))]
    elif fmt == "ndjson":
        ids = [json.loads(line)["id"] for line in response.text.splitlines()]
    else:  # the DetectedIssue names the flag in its identifier
        issues = [json.loads(line) for line in response.text.splitlines()]
        ids = [
            identifier["value"]
            for issue in issues
            if issue["resourceType"] == "DetectedIssue"
            for identifier in issue["identifier"]
        ]
        assert "practice" not in response.text.lower()
        assert "62292-8" not in response.text
    assert ids == [str(orgs.flag_a.id)]


async def test_staff_see_and_assign_only_their_organizations_people_and_the_systems(
    client, two_organizations: TwoOrganizations, session_factory
):
    from tests.factories import make_staff

    orgs = two_organizations
    theirs = await make_staff(session_factory, name="Dr. Practice Only", organization="practice")

    listed = await client.get(
        "/api/v1/staff", params={"limit": 200}, headers=orgs.header("a_analyst")
    )
    assigned = await client.put(
        f"/api/v1/flags/{orgs.flag_a.id}/owner",
        json={"lead": str(theirs.id)},
        headers={**orgs.header("a_analyst"), "If-Match": '"v1"'},
    )
    missing = uuid.uuid4()
    nobody = await client.put(
        f"/api/v1/flags/{orgs.flag_a.id}/owner",
        json={"lead": str(missing)},
        headers={**orgs.header("a_analyst"), "If-Match": '"v1"'},
    )

    names = [person["name"] for person in listed.json()["items"]]
    assert "Dr. Practice Only" not in names
    assert sid("Dr. E. Nwosu") in {person["id"] for person in listed.json()["items"]}
    assert assigned.status_code == nobody.status_code == 422
    assert _without(assigned.json(), theirs.id) == _without(nobody.json(), missing)


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/audit-events",
        "/api/v1/ehrs",
        "/api/v1/tokens",
        "/api/v1/webhooks",
        "/api/v1/deliveries",
        "/api/v1/prices",
    ],
)
async def test_registry_wide_administration_needs_a_system_level_admin(
    client, two_organizations: TwoOrganizations, url
):
    orgs = two_organizations

    organization_admin = await client.get(url, headers=orgs.header("a_admin"))
    system_admin = await client.get(url, headers=orgs.header("system_admin"))

    assert organization_admin.status_code == 403
    assert "system-level" in organization_admin.json()["detail"]
    assert system_admin.status_code == 200


async def test_a_dashboard_session_follows_its_persons_organization_at_once(
    client, two_organizations: TwoOrganizations, session_factory, tokens
):
    import sqlalchemy as sa
    from sqlmodel import col

    from app.staff.models import Staff
    from tests.factories import make_staff
    from tests.staff.test_directory import person_token

    orgs = two_organizations
    person = await make_staff(session_factory, role="analyst", organization="practice")
    secret = await person_token(client, tokens, person.id)
    signed_in = await client.post("/api/v1/session", json={"token": secret})
    cookie = {"Cookie": signed_in.headers["set-cookie"].split(";")[0]}
    before = await client.get("/api/v1/flags", headers=cookie)
    async with session_factory() as session:
        await session.execute(
            sa.update(Staff).where(col(Staff.id) == person.id).values(organization_id=None)
        )
        await session.commit()

    after = await client.get("/api/v1/flags", headers=cookie)

    assert signed_in.json()["organization_id"] == str(orgs.practice_id)
    assert [item["id"] for item in before.json()["items"]] == [str(orgs.flag_b.id)]
    assert {item["id"] for item in after.json()["items"]} == {
        str(orgs.flag_a.id),
        str(orgs.flag_b.id),
    }
