"""Going live closes every linked loop: each reporter gets the reply through the flag's usual
reply path (their email planned in the same transaction), and each flag still under review
moves on to action taken, owned by the improvement's dyad when it had no owner."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col, select

from app.flags import service as flag_service
from app.flags.hooks import listening
from app.flags.models import EventKind, Flag, FlagEvent
from app.flags.review import Actor
from app.flags.workflow import Status
from app.improvements import workflow
from app.improvements.schemas import ImprovementTransitionIn
from app.kit.time import utcnow
from app.notifications.events import FlagNotifier
from app.notifications.models import OutboxDelivery
from tests.factories import make_flag, make_staff
from tests.flags.test_workflow import move as move_flag
from tests.improvements.conftest import flags, move, propose
from tests.notifications.email.conftest import settings_with_smtp

REPLY = "Your flag contributed to this change: the back-pain order set no longer offers MRI."
ANALYST = Actor(name="A. Rivera", role="analyst")


async def live_improvement(client, tokens, flag_ids, dyad) -> dict[str, Any]:
    created = await propose(client, tokens, owners=dyad, flag_ids=[str(f) for f in flag_ids])
    improvement = created.json()
    await move(client, tokens, improvement["id"], to="approved")
    await move(client, tokens, improvement["id"], to="in_progress")
    today = utcnow().date()
    response = await move(
        client, tokens, improvement["id"], to="live", go_live=today.isoformat(), reply=REPLY
    )
    assert response.status_code == 200, response.text
    live: dict[str, Any] = response.json()
    return live


async def flag_state(
    session_factory: async_sessionmaker[AsyncSession], flag_id: uuid.UUID
) -> tuple[Flag, list[FlagEvent]]:
    async with session_factory() as session:
        flag = await flag_service.get_flag(session, flag_id)
        return flag, list(await flag_service.timeline(session, flag))


async def test_every_linked_reporter_hears_back_and_open_flags_move_on(
    client, tokens, session_factory, dyad
):
    new = (await flags(session_factory, 1))[0]
    owned_by = await make_staff(session_factory, name="Dr. Already Owner")
    accepted = (await flags(session_factory, 1))[0]
    await move_flag(session_factory, accepted, Status.TRIAGED)
    await move_flag(session_factory, accepted, Status.ACCEPTED, owner={"lead": str(owned_by.id)})
    closed = (await flags(session_factory, 1))[0]
    await move_flag(session_factory, closed, Status.TRIAGED)
    await move_flag(session_factory, closed, Status.NOT_LOW_VALUE, reply="Indicated after all.")
    await move_flag(session_factory, closed, Status.TRIAGED)
    await move_flag(session_factory, closed, Status.ACCEPTED, owner={"lead": str(owned_by.id)})
    await move_flag(session_factory, closed, Status.ACTION_TAKEN)
    await move_flag(session_factory, closed, Status.CLOSED, reply="Handled.")
    anonymous = (await flags(session_factory, 1, anonymity="anonymous"))[0]

    live = await live_improvement(client, tokens, [new, accepted, closed, anonymous], dyad)

    assert live["status"] == "live"
    change = live["timeline"][-1]
    assert change["to_status"] == "live"
    assert change["body"] == REPLY
    assert change["details"]["flags_replied"] == 4
    assert change["details"]["flags_moved"] == 3
    # Three flags of one identified reporter (the factory's); the anonymous one is nobody's.
    assert change["details"]["reporters"] == 1
    for flag_id in (new, accepted, anonymous):
        flag, events = await flag_state(session_factory, flag_id)
        assert flag.status == "action_taken"
        assert events[-1].kind == EventKind.REPLY
        assert events[-1].body == REPLY
        assert events[-1].visible_to_reporter
    new_flag, _ = await flag_state(session_factory, new)
    assert str(new_flag.owner_lead_id) == dyad[0]
    assert str(new_flag.owner_operational_lead_id) == dyad[1]
    accepted_flag, _ = await flag_state(session_factory, accepted)
    assert accepted_flag.owner_lead_id == owned_by.id  # its owner is kept
    closed_flag, closed_events = await flag_state(session_factory, closed)
    assert closed_flag.status == "closed"  # an ended review only hears back
    assert closed_events[-1].body == REPLY


async def test_a_flag_linked_after_go_live_gets_the_reply_at_once(
    client, tokens, session_factory, dyad
):
    first = (await flags(session_factory, 1))[0]
    live = await live_improvement(client, tokens, [first], dyad)
    late = (await flags(session_factory, 1))[0]
    response = await client.post(
        f"/api/v1/improvements/{live['id']}/flags",
        json={"flag_ids": [str(late)]},
        headers=tokens.header("analyst"),
    )
    assert response.status_code == 200, response.text
    flag, events = await flag_state(session_factory, late)
    assert flag.status == "action_taken"
    assert events[-1].body == REPLY


async def test_going_live_twice_is_refused(client, tokens, session_factory, dyad):
    live = await live_improvement(client, tokens, await flags(session_factory, 1), dyad)
    again = await move(
        client, tokens, live["id"], to="live", go_live=utcnow().date().isoformat(), reply="Again."
    )
    assert again.status_code == 409


async def test_each_identifiable_reporter_is_emailed_in_the_go_lives_transaction(
    client, tokens, session_factory, settings, dyad
):
    emailed = await make_flag(
        session_factory,
        reporter={
            "fhir_user": "Practitioner/pr-7",
            "display": "Dr. Jo Example",
            "email": "jo.example@example.org",
            "role": "physician",
        },
    )
    confidential = await make_flag(
        session_factory,
        anonymity="confidential",
        reporter={
            "fhir_user": "Practitioner/pr-8",
            "email": "kim.confidential@example.org",
            "role": "nurse",
        },
    )
    anonymous = await make_flag(session_factory, anonymity="anonymous")
    created = (
        await propose(
            client,
            tokens,
            owners=dyad,
            flag_ids=[str(f.id) for f in (emailed, confidential, anonymous)],
        )
    ).json()
    await move(client, tokens, created["id"], to="approved")

    mailing = settings_with_smtp(settings, "smtp://127.0.0.1:2525")
    engine = session_factory.kw["bind"]
    factory = async_sessionmaker(
        engine, expire_on_commit=False, info=listening(FlagNotifier(mailing))
    )
    async with factory() as session:
        await workflow.transition(
            session,
            uuid.UUID(created["id"]),
            ImprovementTransitionIn(
                to="live", go_live=utcnow().date() - timedelta(days=1), reply=REPLY
            ),
            actor=ANALYST,
            dashboard_url=mailing.base_url,
        )
        await session.commit()

    async with session_factory() as session:
        emails = (
            await session.scalars(
                select(OutboxDelivery).where(
                    col(OutboxDelivery.channel) == "email",
                    col(OutboxDelivery.event) == "flag.replied",
                )
            )
        ).all()
    assert sorted(email.recipient for email in emails) == [
        "jo.example@example.org",
        "kim.confidential@example.org",
    ]
    assert {email.payload["template"] for email in emails} == {"replied"}


async def test_two_go_lives_at_once_reply_to_each_reporter_once(
    client, tokens, session_factory, dyad
):
    linked = await flags(session_factory, 3)
    created = (await propose(client, tokens, owners=dyad, flag_ids=[str(f) for f in linked])).json()
    await move(client, tokens, created["id"], to="approved")
    body = {"to": "live", "go_live": utcnow().date().isoformat(), "reply": REPLY}

    first, second = await asyncio.gather(
        move(client, tokens, created["id"], **body), move(client, tokens, created["id"], **body)
    )

    assert sorted([first.status_code, second.status_code]) in ([200, 409], [200, 412])
    for flag_id in linked:
        _, events = await flag_state(session_factory, flag_id)
        assert [e.body for e in events if e.kind == EventKind.REPLY] == [REPLY]
