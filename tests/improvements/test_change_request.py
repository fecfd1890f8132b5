"""Routing an EHR build to informatics: approving it sends the change request through the
outbox to a webhook receiver on loopback, signed (Standard Webhooks), with the evidence and
no patient data; other kinds, and endpoints not subscribed, get nothing."""

from __future__ import annotations

import json
import uuid

import sqlalchemy as sa
from sqlmodel import col

from app.flags.review import Actor
from app.improvements import workflow
from app.improvements.catalog import ImprovementStatus
from app.improvements.schemas import ImprovementTransitionIn
from app.notifications.models import OutboxDelivery
from tests.factories import make_flag
from tests.improvements.conftest import move, propose
from tests.notifications.conftest import add_endpoint
from tests.notifications.receiver import event_types, running_receiver

# What the factory's flags hold that must never leave in a change request (tests/factories.py).
PATIENT_DATA = (
    "pt-1",
    "enc-1",
    "sr-1",
    "Avery",
    "avery.sample@example.org",
    "Practitioner/pr-1",
    "Week-one back pain, no red flags.",  # a note nobody marked shareable
)
SHARED_NOTE = "Ordered by default from the back-pain order set."


async def improvement_deliveries(session_factory) -> list[OutboxDelivery]:
    async with session_factory() as session:
        rows = await session.scalars(
            sa.select(OutboxDelivery).where(col(OutboxDelivery.event) == "improvement.requested")
        )
        return list(rows.all())


async def test_approving_an_ehr_build_sends_a_signed_change_request_without_patient_data(
    client,
    tokens,
    session_factory,
    settings,
    make_worker,
    dyad,
):
    with running_receiver("whsec_unused") as receiver:
        added = await add_endpoint(
            session_factory, settings, receiver.url, events=("improvement.requested",)
        )
        receiver.secret = added.secret
        with running_receiver("whsec_unused") as flags_only:
            flags_added = await add_endpoint(
                session_factory, settings, flags_only.url, events=("flag.created",)
            )
            flags_only.secret = flags_added.secret
            private = await make_flag(session_factory)
            shared = await make_flag(session_factory, note=SHARED_NOTE)
            created = await propose(
                client, tokens, owners=dyad, flag_ids=[str(private.id), str(shared.id)]
            )
            improvement = created.json()
            await client.post(
                f"/api/v1/improvements/{improvement['id']}/flags",
                json={"flag_ids": [str(shared.id)], "shareable_notes": [str(shared.id)]},
                headers=tokens.header("analyst"),
            )
            await move(client, tokens, improvement["id"], to="approved")

            worker = make_worker()
            await worker.drain()
            receiver.wait_until(lambda r: len(r.received) == 1, "the change request")

    assert receiver.bad_signatures == 0
    assert event_types(flags_only) == ["flag.created", "flag.created"]  # no change request
    body = receiver.bodies()[0].decode()
    for value in PATIENT_DATA:
        assert value not in body, value
    request = json.loads(body)
    assert request["type"] == "improvement.requested"
    data = request["data"]
    assert data["improvement_id"] == improvement["id"]
    assert data["url"].endswith(f"/dashboard/improvements/{improvement['id']}")
    assert data["kind"] == "ehr_build"
    assert data["organization"] == "main"
    assert data["targets"] == [{"system": "http://www.ama-assn.org/go/cpt", "code": "72148"}]
    assert data["evidence"]["flag_count"] == 2
    assert data["evidence"]["cost_at_stake"] == "415.28"
    assert data["evidence"]["reasons"] == [{"value": "not_indicated", "count": 2}]
    assert data["evidence"]["example_notes"] == [SHARED_NOTE]

    detail = await client.get(
        f"/api/v1/improvements/{improvement['id']}", headers=tokens.header("analyst")
    )
    assert detail.json()["requested_at"] is not None
    requested = detail.json()["timeline"][-1]
    assert requested["kind"] == "change_requested"
    assert requested["details"] == {"endpoints": 1}
    assert requested["label"] == "Change request sent to informatics"


async def test_other_kinds_are_not_routed_to_informatics(
    client, tokens, session_factory, settings, dyad
):
    with running_receiver("whsec_unused") as receiver:
        await add_endpoint(session_factory, settings, receiver.url)
    created = (await propose(client, tokens, owners=dyad, kind="education")).json()
    approved = await move(client, tokens, created["id"], to="approved")
    assert approved.json()["requested_at"] is None
    assert await improvement_deliveries(session_factory) == []


async def test_with_no_endpoint_subscribed_the_timeline_says_nothing_was_sent(
    client, tokens, session_factory, dyad
):
    created = (await propose(client, tokens, owners=dyad)).json()
    approved = (await move(client, tokens, created["id"], to="approved")).json()
    assert approved["requested_at"] is None
    assert approved["timeline"][-1]["details"] == {"endpoints": 0}
    assert approved["timeline"][-1]["label"].startswith("Change request not sent")
    assert await improvement_deliveries(session_factory) == []


async def test_a_rolled_back_approval_requests_nothing(
    client, tokens, session_factory, settings, dyad
):
    with running_receiver("whsec_unused") as receiver:
        await add_endpoint(session_factory, settings, receiver.url)
    created = (await propose(client, tokens, owners=dyad)).json()
    async with session_factory() as session:
        await workflow.transition(
            session,
            uuid.UUID(created["id"]),
            ImprovementTransitionIn(to=ImprovementStatus.APPROVED),
            actor=Actor(name="A. Rivera", role="analyst"),
            dashboard_url="https://valueloop.test",
        )
        planned = await session.scalars(sa.select(OutboxDelivery))
        assert [row.event for row in planned.all()] == ["improvement.requested"]
        await session.rollback()
    assert await improvement_deliveries(session_factory) == []
