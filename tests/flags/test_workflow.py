"""The status workflow, enforced in the domain whatever the caller."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.flags import review, service
from app.flags.errors import (
    InvalidDuplicate,
    InvalidTransition,
    TransitionRequirementMissing,
)
from app.flags.schemas import OwnerIn, TransitionIn
from app.flags.workflow import ALLOWED_TRANSITIONS, Status, allowed_from
from tests.factories import make_flag, make_staff

ANALYST = review.Actor(name="A. Rivera", role="analyst")


async def move(
    factory: async_sessionmaker[AsyncSession], flag_id: uuid.UUID, to: Status, **fields: object
) -> None:
    async with factory() as session:
        await review.transition(
            session,
            flag_id,
            TransitionIn.model_validate({"to": to, **fields}),
            actor=ANALYST,
            if_match=None,
        )
        await session.commit()


def test_every_status_has_a_way_out_and_closed_can_be_reopened():
    for status in Status:
        assert allowed_from(status), f"{status} is a dead end"
    assert Status.TRIAGED in ALLOWED_TRANSITIONS[Status.CLOSED]


async def test_flag_walks_the_main_line_to_closed_with_a_reply(session_factory):
    flag = await make_flag(session_factory)
    nwosu = await make_staff(session_factory, name="Dr. E. Nwosu")
    await move(session_factory, flag.id, Status.TRIAGED)
    await move(session_factory, flag.id, Status.ACCEPTED, owner={"lead": str(nwosu.id)})
    await move(session_factory, flag.id, Status.ACTION_TAKEN, comment="Order set changed.")
    await move(session_factory, flag.id, Status.CLOSED, reply="We removed it from the order set.")

    async with session_factory() as session:
        stored = await service.get_flag(session, flag.id)
        events = await service.timeline(session, stored)
    assert stored.status == Status.CLOSED
    assert stored.owner_lead_id == nwosu.id
    assert stored.first_reply_at is not None
    assert [e.kind for e in events] == [
        "created",
        "status_change",
        "assignment",
        "status_change",
        "status_change",
        "comment",
        "status_change",
        "reply",
    ]
    assert events[-1].visible_to_reporter is True
    assert events[-1].body == "We removed it from the order set."


async def test_illegal_transition_is_refused_naming_the_allowed_ones(session_factory):
    flag = await make_flag(session_factory)
    with pytest.raises(InvalidTransition) as raised:
        await move(session_factory, flag.id, Status.CLOSED, reply="Done.")
    assert "'submitted' cannot move to 'closed'" in raised.value.detail
    assert "triaged" in raised.value.detail
    assert raised.value.extensions["allowed_transitions"] == ["triaged"]


@pytest.mark.parametrize("target", [Status.NOT_LOW_VALUE, Status.NEEDS_INFO, Status.DUPLICATE])
async def test_closing_or_asking_moves_need_a_reply_to_the_reporter(session_factory, target):
    flag = await make_flag(session_factory)
    original = await make_flag(session_factory)
    await move(session_factory, flag.id, Status.TRIAGED)
    with pytest.raises(TransitionRequirementMissing, match="needs a 'reply'"):
        await move(
            session_factory,
            flag.id,
            target,
            duplicate_of=str(original.id) if target is Status.DUPLICATE else None,
        )


async def test_closing_needs_a_reply(session_factory):
    flag = await make_flag(session_factory)
    fischer = await make_staff(session_factory, name="Dr. L. Fischer")
    await move(session_factory, flag.id, Status.TRIAGED)
    await move(session_factory, flag.id, Status.ACCEPTED, owner={"lead": str(fischer.id)})
    await move(session_factory, flag.id, Status.ACTION_TAKEN)
    with pytest.raises(TransitionRequirementMissing, match="needs a 'reply'"):
        await move(session_factory, flag.id, Status.CLOSED)


async def test_accepting_needs_an_owner(session_factory):
    flag = await make_flag(session_factory)
    await move(session_factory, flag.id, Status.TRIAGED)
    with pytest.raises(TransitionRequirementMissing, match="needs an owner"):
        await move(session_factory, flag.id, Status.ACCEPTED)


async def test_accepting_uses_an_owner_assigned_earlier(session_factory):
    flag = await make_flag(session_factory)
    tanaka = await make_staff(session_factory, name="Dr. H. Tanaka")
    alvarez = await make_staff(session_factory, name="R. Alvarez")
    await move(session_factory, flag.id, Status.TRIAGED)
    async with session_factory() as session:
        await review.assign(
            session,
            flag.id,
            OwnerIn(clinical_lead=tanaka.id, operational_lead=alvarez.id),
            actor=ANALYST,
            if_match=None,
        )
        await session.commit()
    await move(session_factory, flag.id, Status.ACCEPTED)
    async with session_factory() as session:
        stored = await service.get_flag(session, flag.id)
    assert (stored.owner_lead_id, stored.owner_operational_lead_id) == (tanaka.id, alvarez.id)


async def test_duplicate_needs_an_existing_original_that_is_not_itself_a_duplicate(session_factory):
    original = await make_flag(session_factory)
    first_copy = await make_flag(session_factory)
    second_copy = await make_flag(session_factory)
    for flag in (first_copy, second_copy):
        await move(session_factory, flag.id, Status.TRIAGED)

    with pytest.raises(TransitionRequirementMissing, match="duplicate_of"):
        await move(session_factory, first_copy.id, Status.DUPLICATE, reply="Duplicate.")
    with pytest.raises(InvalidDuplicate, match="itself"):
        await move(
            session_factory,
            first_copy.id,
            Status.DUPLICATE,
            reply="Dup.",
            duplicate_of=str(first_copy.id),
        )
    with pytest.raises(InvalidDuplicate, match="no existing flag"):
        await move(
            session_factory,
            first_copy.id,
            Status.DUPLICATE,
            reply="Dup.",
            duplicate_of=str(uuid.uuid4()),
        )

    await move(
        session_factory,
        first_copy.id,
        Status.DUPLICATE,
        reply="Dup.",
        duplicate_of=str(original.id),
    )
    with pytest.raises(InvalidDuplicate, match=f"duplicate of {original.id} instead"):
        await move(
            session_factory,
            second_copy.id,
            Status.DUPLICATE,
            reply="Dup.",
            duplicate_of=str(first_copy.id),
        )


async def test_reopening_a_duplicate_clears_the_link_but_keeps_the_history(session_factory):
    original = await make_flag(session_factory)
    copy = await make_flag(session_factory)
    await move(session_factory, copy.id, Status.TRIAGED)
    await move(
        session_factory, copy.id, Status.DUPLICATE, reply="Dup.", duplicate_of=str(original.id)
    )
    await move(session_factory, copy.id, Status.TRIAGED, comment="Not the same order after all.")
    async with session_factory() as session:
        stored = await service.get_flag(session, copy.id)
        events = await service.timeline(session, stored)
    assert stored.status == Status.TRIAGED
    assert stored.duplicate_of_id is None
    assert [e.details for e in events if e.to_status == "duplicate"] == [
        {"duplicate_of": str(original.id)}
    ]


async def test_duplicate_of_only_goes_with_a_move_to_duplicate(session_factory):
    original = await make_flag(session_factory)
    flag = await make_flag(session_factory)
    with pytest.raises(TransitionRequirementMissing, match="only goes with"):
        await move(session_factory, flag.id, Status.TRIAGED, duplicate_of=str(original.id))


async def test_a_refused_transition_writes_nothing(session_factory):
    flag = await make_flag(session_factory)
    await move(session_factory, flag.id, Status.TRIAGED)
    with pytest.raises(TransitionRequirementMissing):
        await move(session_factory, flag.id, Status.NOT_LOW_VALUE, comment="Looks fine to me.")
    async with session_factory() as session:
        stored = await service.get_flag(session, flag.id)
        events = await service.timeline(session, stored)
    assert stored.status == Status.TRIAGED
    assert stored.version == 2
    assert [e.kind for e in events] == ["created", "status_change"]


async def test_the_first_reply_stores_how_long_the_reporter_waited(session_factory):
    flag = await make_flag(session_factory)
    await move(session_factory, flag.id, Status.TRIAGED)
    await move(session_factory, flag.id, Status.NEEDS_INFO, reply="Which prior result?")
    async with session_factory() as session:
        first = await service.get_flag(session, flag.id)
        assert first.first_reply_at is not None
        expected = (first.first_reply_at - first.created_at).total_seconds()
        assert first.reply_wait_seconds == pytest.approx(expected)
        await review.reply(
            session, flag.id, "Still there?", actor=review.Actor("A", "analyst"), if_match=None
        )
        await session.commit()
    async with session_factory() as session:
        again = await service.get_flag(session, flag.id)
    assert again.reply_wait_seconds == pytest.approx(expected)  # the first reply counts
