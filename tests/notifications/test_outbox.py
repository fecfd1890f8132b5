"""The outbox on SQLite and PostgreSQL: written with the event or not at all, delivered once
known delivered, retried with backoff, dead after the limit, in order per flag and endpoint."""

from __future__ import annotations

import json
from collections import defaultdict

import pytest
import sqlalchemy as sa
from sqlmodel import col

from app.flags import review
from app.flags.schemas import TransitionIn
from app.notifications import outbox, repository
from app.notifications.channels import PlannedDelivery
from app.notifications.models import DeliveryStatus, OutboxDelivery
from tests.factories import make_flag, make_staff
from tests.notifications.conftest import FAST, add_endpoint, eventually
from tests.notifications.receiver import running_receiver

ANALYST = review.Actor(name="Quality analyst", role="analyst")
# What the test flags hold that a webhook must not carry unless allowed (tests/factories.py).
PATIENT_ID = "pt-1"
ORDER_TEXT = "MRI lumbar spine without contrast"
NOTE = "Week-one back pain, no red flags."


async def deliveries(session_factory) -> list[OutboxDelivery]:
    async with session_factory() as session:
        result = await session.scalars(sa.select(OutboxDelivery).order_by(col(OutboxDelivery.id)))
        return list(result.all())


async def test_a_rolled_back_flag_change_enqueues_nothing(session_factory, settings):
    with running_receiver("whsec_unused") as receiver:
        await add_endpoint(session_factory, settings, receiver.url)
    flag = await make_flag(session_factory)
    before = await deliveries(session_factory)

    async with session_factory() as session:
        await review.reply(session, flag.id, "Thanks, we are on it.", actor=ANALYST, if_match=None)
        await session.rollback()

    assert [d.event for d in before] == ["flag.created"]
    assert await deliveries(session_factory) == before


async def test_a_committed_flag_change_enqueues_its_deliveries_with_it(session_factory, settings):
    with running_receiver("whsec_unused") as receiver:
        await add_endpoint(session_factory, settings, receiver.url)
    flag = await make_flag(session_factory)

    async with session_factory() as session:
        change = TransitionIn.model_validate({"to": "triaged"})
        await review.transition(session, flag.id, change, actor=ANALYST, if_match=None)
        await review.reply(session, flag.id, "Thanks.", actor=ANALYST, if_match=None)
        await review.comment(session, flag.id, "internal only", actor=ANALYST, if_match=None)
        await session.commit()

    stored = await deliveries(session_factory)
    assert [d.event for d in stored] == ["flag.created", "flag.status_changed", "flag.replied"]
    assert {d.status for d in stored} == {"pending"}
    assert len({d.idempotency_key for d in stored}) == 3


async def test_a_planned_idempotency_key_is_stored_once(session_factory):
    planned = PlannedDelivery(
        channel="email", recipient="lead@example.org", event="digest.overdue", idempotency_key="d1"
    )
    for _ in range(2):
        async with session_factory() as session:
            await outbox.enqueue(session, [planned, planned])
            await session.commit()

    assert [d.idempotency_key for d in await deliveries(session_factory)] == ["d1"]


async def test_every_event_arrives_signed_and_a_delivered_one_is_never_sent_again(
    session_factory, settings, make_worker
):
    flag = await make_flag(session_factory)  # before the endpoint: not announced to it
    with running_receiver("") as receiver:
        added = await add_endpoint(session_factory, settings, receiver.url)
        receiver.secret = added.secret
        await make_flag(session_factory)
        async with session_factory() as session:
            await review.reply(session, flag.id, "Thanks.", actor=ANALYST, if_match=None)
            await session.commit()
        worker = make_worker()

        assert await worker.drain() == 2
        assert await worker.drain() == 0

    assert receiver.bad_signatures == 0
    assert sorted(json.loads(body)["type"] for body in receiver.bodies()) == [
        "flag.created",
        "flag.replied",
    ]
    stored = await deliveries(session_factory)
    assert {d.status for d in stored if d.recipient == str(added.endpoint.id)} == {"delivered"}
    assert sorted(receiver.delivered_ids()) == sorted(
        d.idempotency_key for d in stored if d.recipient == str(added.endpoint.id)
    )


async def test_a_receiver_down_then_up_gets_every_event_in_order_per_flag(
    session_factory, settings, make_worker
):
    with running_receiver("", status=503) as receiver:
        receiver.secret = (await add_endpoint(session_factory, settings, receiver.url)).secret
        flags = [await make_flag(session_factory) for _ in range(2)]
        lead = str((await make_staff(session_factory)).id)
        for flag in flags:
            async with session_factory() as session:
                for move in ({"to": "triaged"}, {"to": "accepted", "owner": {"lead": lead}}):
                    change = TransitionIn.model_validate(move)
                    await review.transition(session, flag.id, change, actor=ANALYST, if_match=None)
                await review.reply(session, flag.id, "Done.", actor=ANALYST, if_match=None)
                await session.commit()
        worker = make_worker(FAST.__class__(**{**FAST.__dict__, "max_attempts": 1000}))
        await eventually(lambda: len(receiver.received) >= 6, "failed tries", step=worker.drain)
        # Down: each flag's first event was tried, nothing after it was.
        assert {json.loads(body)["type"] for body in receiver.bodies()} == {"flag.created"}

        receiver.status = 200
        await eventually(
            lambda: len(receiver.delivered_ids()) == 10, "every event", step=worker.drain
        )

    stored = await deliveries(session_factory)
    assert {d.status for d in stored} == {"delivered"}
    got: dict[str, list[str]] = defaultdict(list)
    for item in receiver.received:
        if item.answered == 200:
            got[item.payload["data"]["flag_id"]].append(item.message_id)
    expected: dict[str, list[str]] = defaultdict(list)
    for delivery in stored:
        expected[str(delivery.flag_id)].append(delivery.idempotency_key)
    assert got == expected


async def test_retries_end_in_the_dead_letters_and_a_retry_delivers(
    session_factory, settings, make_worker, client, tokens
):
    with running_receiver("", status=500) as receiver:
        receiver.secret = (await add_endpoint(session_factory, settings, receiver.url)).secret
        await make_flag(session_factory)
        worker = make_worker()
        await eventually(
            lambda: len(receiver.received) == FAST.max_attempts, "3 tries", step=worker.drain
        )
        await eventually(lambda: True, "settle", step=worker.drain)
        listed = await client.get("/api/v1/deliveries?state=dead", headers=tokens.header("admin"))
        assert listed.status_code == 200
        [dead] = listed.json()["items"]
        assert dead["attempts"] == FAST.max_attempts
        assert dead["last_error"] == "the endpoint answered HTTP 500"
        assert dead["recipient_label"] == receiver.url  # what the Admin page shows
        assert "payload" not in dead

        receiver.status = 200
        retried = await client.post(
            f"/api/v1/deliveries/{dead['id']}/retry", headers=tokens.header("admin")
        )
        assert retried.status_code == 200
        assert retried.json()["status"] == "pending"
        await eventually(lambda: len(receiver.delivered_ids()) == 1, "the retry", step=worker.drain)

    [stored] = await deliveries(session_factory)
    assert stored.status == DeliveryStatus.DELIVERED
    again = await client.post(
        f"/api/v1/deliveries/{dead['id']}/retry", headers=tokens.header("admin")
    )
    assert again.status_code == 409
    document = (await client.get("/openapi.json")).json()
    assert "409" in document["paths"]["/api/v1/deliveries/{delivery_id}/retry"]["post"]["responses"]
    left = await client.get("/api/v1/deliveries?state=dead", headers=tokens.header("admin"))
    assert left.json()["items"] == []


@pytest.mark.parametrize(("status", "dead_after"), [(410, 1), (400, 1), (429, None), (408, None)])
async def test_a_client_error_is_dead_at_once_except_timeout_and_slow_down(
    session_factory, settings, make_worker, status, dead_after
):
    with running_receiver("", status=status) as receiver:
        receiver.secret = (await add_endpoint(session_factory, settings, receiver.url)).secret
        await make_flag(session_factory)
        # One round only: with the fast test backoff a retry would be due again at once.
        assert await make_worker().drain_once() == 1

    [stored] = await deliveries(session_factory)
    if dead_after:
        assert (stored.status, stored.attempts) == ("dead", 1)
    else:
        assert (stored.status, stored.attempts) == ("pending", 1)
        assert stored.last_error == f"the endpoint answered HTTP {status}"


async def test_an_unreachable_endpoint_is_retried_without_its_url_in_the_error(
    session_factory, settings, make_worker
):
    url = "http://127.0.0.1:9/hooks?token=secret-in-url"  # discard port: nothing listens
    await add_endpoint(session_factory, settings, url)
    await make_flag(session_factory)

    assert await make_worker().drain_once() == 1

    [stored] = await deliveries(session_factory)
    assert stored.status == "pending"
    assert stored.last_error is not None
    assert stored.last_error.startswith("could not reach the endpoint")
    assert "secret-in-url" not in stored.last_error


async def test_a_removed_or_switched_off_endpoint_sends_its_waiting_deliveries_to_the_dead_letters(
    session_factory, settings, make_worker, client, tokens
):
    first = await add_endpoint(session_factory, settings, "http://127.0.0.1:9/a")
    second = await add_endpoint(session_factory, settings, "http://127.0.0.1:9/b")
    await make_flag(session_factory)
    await client.delete(f"/api/v1/webhooks/{first.endpoint.id}", headers=tokens.header("admin"))
    await client.patch(
        f"/api/v1/webhooks/{second.endpoint.id}",
        json={"active": False},
        headers=tokens.header("admin"),
    )

    await make_worker().drain()

    errors = sorted(d.last_error or "" for d in await deliveries(session_factory))
    assert errors == ["the webhook endpoint is switched off", "the webhook endpoint was removed"]
    assert {d.status for d in await deliveries(session_factory)} == {"dead"}


async def test_webhook_bodies_carry_no_patient_data_unless_the_endpoint_is_allowed_it(
    session_factory, settings, make_worker
):
    with (
        running_receiver("") as plain,
        running_receiver("") as allowed,
    ):
        plain.secret = (await add_endpoint(session_factory, settings, plain.url)).secret
        allowed.secret = (
            await add_endpoint(session_factory, settings, allowed.url, allow_patient_data=True)
        ).secret
        flag = await make_flag(session_factory)
        lead = await make_staff(session_factory, name="Dr. Lead")
        async with session_factory() as session:
            change = TransitionIn.model_validate({"to": "triaged", "owner": {"lead": lead.id}})
            await review.transition(session, flag.id, change, actor=ANALYST, if_match=None)
            await review.reply(session, flag.id, f"About {NOTE}", actor=ANALYST, if_match=None)
            await session.commit()
        await make_worker().drain()

    assert len(plain.bodies()) == len(allowed.bodies()) == 4
    for body in plain.bodies():
        for phi in (PATIENT_ID, ORDER_TEXT, NOTE):
            assert phi.encode() not in body
    assert all(NOTE.encode() in body and ORDER_TEXT.encode() in body for body in allowed.bodies())
    [assigned] = [
        item.payload for item in plain.received if item.payload["type"] == "flag.assigned"
    ]
    # Owners are staff (names and ids), never patient data.
    assert assigned["data"]["owner"] == {"lead": "Dr. Lead", "lead_id": str(lead.id)}
    assert assigned["data"]["url"] == f"{settings.base_url}/dashboard/flags/{flag.id}"


async def test_a_lease_that_ran_out_lets_another_worker_claim_the_delivery(session_factory):
    planned = PlannedDelivery(channel="email", recipient="a@example.org", event="flag.replied")
    async with session_factory() as session:
        await outbox.enqueue(session, [planned])
        await session.commit()
    short = FAST.__class__(**{**FAST.__dict__, "lease": FAST.lease * 0})

    async with session_factory() as session:
        [first] = await outbox.claim(session, FAST, limit=10)
        assert await outbox.claim(session, FAST, limit=10) == []  # leased
        await session.commit()
    async with session_factory() as session:
        await repository.mark_failed(session, first.id, attempt=1, error="x", retry_at=None)
        await session.rollback()  # the first worker died before saying anything

    async with session_factory() as session:
        await session.execute(
            sa.update(OutboxDelivery).values(claimed_until=sa.null())  # as if the lease ran out
        )
        [second] = await outbox.claim(session, short, limit=10)
        await session.commit()

    assert second.idempotency_key == first.idempotency_key
    assert (first.attempt, second.attempt) == (1, 2)
