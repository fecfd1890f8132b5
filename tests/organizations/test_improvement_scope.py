"""Improvement work belongs to one organization: its staff see and change only their own, link
only their own flags, and another organization's improvement answers exactly as a missing
one; system-level staff see every organization's and choose whose work a new one is."""

from __future__ import annotations

import uuid
from datetime import timedelta

from app.kit.time import utcnow
from app.organizations.models import DEFAULT_ORGANIZATION_ID
from tests.factories import make_staff

BODY = {
    "title": "Stop routine vitamin D screening",
    "kind": "protocol",
    "targets": [{"system": "http://loinc.org", "code": "62292-8"}],
}


async def test_another_organizations_improvement_answers_as_a_missing_one(
    client, two_organizations
):
    orgs = two_organizations
    created = await client.post(
        "/api/v1/improvements",
        json={**BODY, "flag_ids": [str(orgs.flag_b.id)]},
        headers=orgs.header("b_analyst"),
    )
    assert created.status_code == 201, created.text
    improvement_id = created.json()["id"]
    assert created.json()["organization_id"] == str(orgs.practice_id)

    other = await client.get(
        f"/api/v1/improvements/{improvement_id}", headers=orgs.header("a_analyst")
    )
    missing = await client.get(
        f"/api/v1/improvements/{uuid.uuid4()}", headers=orgs.header("a_analyst")
    )
    assert other.status_code == missing.status_code == 404
    assert other.json()["title"] == missing.json()["title"]
    listed = await client.get("/api/v1/improvements", headers=orgs.header("a_analyst"))
    assert listed.json()["items"] == []
    moved = await client.post(
        f"/api/v1/improvements/{improvement_id}/transitions",
        json={"to": "declined", "reason": "Not ours."},
        headers=orgs.header("a_analyst"),
    )
    assert moved.status_code == 404
    everyone = await client.get("/api/v1/improvements", headers=orgs.header("system_analyst"))
    assert [item["id"] for item in everyone.json()["items"]] == [improvement_id]
    hospital = await client.get(
        "/api/v1/improvements",
        params={"organization": "main"},
        headers=orgs.header("system_analyst"),
    )
    assert hospital.json()["items"] == []


async def test_another_organizations_flag_cannot_be_linked(client, two_organizations):
    orgs = two_organizations
    refused = await client.post(
        "/api/v1/improvements",
        json={**BODY, "flag_ids": [str(orgs.flag_a.id)]},
        headers=orgs.header("b_analyst"),
    )
    assert refused.status_code == 422
    assert f"No flag with id {orgs.flag_a.id}" in refused.json()["detail"]
    # Nor by system-level staff into another organization's improvement.
    created = await client.post(
        "/api/v1/improvements",
        json={**BODY, "organization": "practice"},
        headers=orgs.header("system_analyst"),
    )
    assert created.json()["organization_id"] == str(orgs.practice_id)
    linked = await client.post(
        f"/api/v1/improvements/{created.json()['id']}/flags",
        json={"flag_ids": [str(orgs.flag_a.id)]},
        headers=orgs.header("system_analyst"),
    )
    assert linked.status_code == 422


async def test_system_level_work_belongs_to_its_first_flags_organization(client, two_organizations):
    orgs = two_organizations
    created = await client.post(
        "/api/v1/improvements",
        json={**BODY, "flag_ids": [str(orgs.flag_b.id)]},
        headers=orgs.header("system_analyst"),
    )
    assert created.json()["organization_id"] == str(orgs.practice_id)
    plain = await client.post(
        "/api/v1/improvements", json=BODY, headers=orgs.header("system_analyst")
    )
    assert plain.json()["organization_id"] == str(DEFAULT_ORGANIZATION_ID)


async def test_an_organizations_people_cannot_own_another_organizations_work(
    client, session_factory, two_organizations
):
    orgs = two_organizations
    hospital = [
        str((await make_staff(session_factory, name=f"Hospital {n}", organization="main")).id)
        for n in (1, 2)
    ]
    practice = [
        str((await make_staff(session_factory, name=f"Practice {n}", organization="practice")).id)
        for n in (1, 2)
    ]
    body = {**BODY, "organization": "practice"}
    refused = await client.post(
        "/api/v1/improvements",
        json={**body, "owners": hospital},
        headers=orgs.header("system_analyst"),
    )
    assert refused.status_code == 422
    assert "another organization" in refused.json()["detail"]
    accepted = await client.post(
        "/api/v1/improvements",
        json={**body, "owners": practice},
        headers=orgs.header("system_analyst"),
    )
    assert accepted.status_code == 201, accepted.text


async def test_insights_count_only_the_readers_organizations_improvements(
    client, session_factory, two_organizations
):
    orgs = two_organizations
    owners = [
        str((await make_staff(session_factory, name=f"Practice {n}", organization="practice")).id)
        for n in (1, 2)
    ]
    created = await client.post(
        "/api/v1/improvements", json={**BODY, "owners": owners}, headers=orgs.header("b_analyst")
    )
    url = f"/api/v1/improvements/{created.json()['id']}/transitions"
    await client.post(url, json={"to": "approved"}, headers=orgs.header("b_analyst"))
    went_live = await client.post(
        url,
        json={"to": "live", "go_live": "2026-01-05", "reply": "Screening stopped."},
        headers=orgs.header("b_analyst"),
    )
    assert went_live.status_code == 200, went_live.text

    def live_for(who: str):
        return client.get("/api/v1/stats/improvements", headers=orgs.header(who))

    assert (await live_for("b_analyst")).json()["live"] == 1
    assert (await live_for("a_analyst")).json()["live"] == 0
    assert (await live_for("system_analyst")).json()["live"] == 1


async def test_an_organizations_staff_measure_a_rule_target_on_their_own_flags_only(
    client, session_factory, two_organizations
):
    orgs = two_organizations  # flag_b: the practice's vitamin D flag; flag_a: the hospital's
    owners = [
        str((await make_staff(session_factory, name=f"Practice {n}", organization="practice")).id)
        for n in (1, 2)
    ]
    created = await client.post(
        "/api/v1/improvements",
        json={**BODY, "targets": [], "rules": ["vitamin-d-testing"], "owners": owners},
        headers=orgs.header("b_analyst"),
    )
    url = f"/api/v1/improvements/{created.json()['id']}"
    await client.post(
        f"{url}/transitions", json={"to": "approved"}, headers=orgs.header("b_analyst")
    )
    tomorrow = (utcnow().date() + timedelta(days=1)).isoformat()
    live = await client.post(
        f"{url}/transitions",
        json={"to": "live", "go_live": tomorrow, "reply": "Screening stopped."},
        headers=orgs.header("b_analyst"),
    )
    assert live.status_code == 200, live.text
    effect = await client.get(f"{url}/effect", headers=orgs.header("b_analyst"))
    assert effect.status_code == 200, effect.text
    # The practice's vitamin D flag is the rule's; the hospital's flags are not counted.
    assert effect.json()["before"]["flags"] == 1
