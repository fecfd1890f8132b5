"""Webhook endpoints of one organization get only that organization's flag events and change
requests; an endpoint without one gets every organization's (as before organizations)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import col

from app.notifications.models import OutboxDelivery
from tests.factories import make_flag, make_staff

HOOK = {"events": ["flag.created", "improvement.requested"]}


async def deliveries_by_endpoint(session_factory) -> dict[str, list[str]]:
    async with session_factory() as session:
        rows = await session.scalars(sa.select(OutboxDelivery).order_by(col(OutboxDelivery.id)))
        found: dict[str, list[str]] = {}
        for row in rows.all():
            found.setdefault(row.recipient, []).append(
                f"{row.event}:{row.flag_id or row.payload['data']['organization']}"
            )
        return found


async def add_endpoint(client, orgs, **body) -> str:
    response = await client.post(
        "/api/v1/webhooks",
        json={"url": "https://tickets.example.org/hooks", **HOOK, **body},
        headers=orgs.header("system_admin"),
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_an_organizations_endpoint_hears_only_its_organizations_events(
    client, session_factory, two_organizations
):
    orgs = two_organizations
    practice_hook = await add_endpoint(client, orgs, organization="practice")
    every_hook = await add_endpoint(client, orgs)
    listed = await client.get("/api/v1/webhooks", headers=orgs.header("system_admin"))
    assert {item["id"]: item["organization_id"] for item in listed.json()} == {
        practice_hook: str(orgs.practice_id),
        every_hook: None,
    }
    hospital_flag = await make_flag(session_factory)
    practice_flag = await make_flag(session_factory, organization_id=orgs.practice_id)
    owners = [
        str((await make_staff(session_factory, name=f"Practice {n}", organization="practice")).id)
        for n in (1, 2)
    ]
    created = await client.post(
        "/api/v1/improvements",
        json={
            "title": "Vitamin D out of the panel",
            "kind": "ehr_build",
            "targets": [{"system": "http://loinc.org", "code": "62292-8"}],
            "owners": owners,
        },
        headers=orgs.header("b_analyst"),
    )
    approved = await client.post(
        f"/api/v1/improvements/{created.json()['id']}/transitions",
        json={"to": "approved"},
        headers=orgs.header("b_analyst"),
    )
    assert approved.json()["timeline"][-1]["details"] == {"endpoints": 2}

    found = await deliveries_by_endpoint(session_factory)
    assert found[practice_hook] == [
        f"flag.created:{practice_flag.id}",
        "improvement.requested:practice",
    ]
    assert found[every_hook] == [
        f"flag.created:{hospital_flag.id}",
        f"flag.created:{practice_flag.id}",
        "improvement.requested:practice",
    ]


async def test_an_unknown_organization_is_refused_and_no_endpoint_is_added(
    client, two_organizations
):
    orgs = two_organizations
    response = await client.post(
        "/api/v1/webhooks",
        json={"url": "https://tickets.example.org/hooks", **HOOK, "organization": "nowhere"},
        headers=orgs.header("system_admin"),
    )
    assert response.status_code == 422
    assert "nowhere" in response.json()["detail"]
    listed = await client.get("/api/v1/webhooks", headers=orgs.header("system_admin"))
    assert listed.json() == []
