"""Synthetic data is reproducible and obeys the same rules the service enforces."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import Session, col, select

from app.db import create_sync_engine_for
from app.demo import synthetic
from app.demo.synthetic import SyntheticRegistry
from app.flags import review, views
from app.flags.catalog import Anonymity
from app.flags.models import Flag, FlagEvent
from app.flags.schemas import TransitionIn
from app.flags.workflow import (
    ALLOWED_TRANSITIONS,
    END_STATES,
    OWNER_REQUIRED,
    REPLY_REQUIRED,
    Status,
)
from app.kit.time import week_start
from app.staff.models import Staff

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
SEEDED = 300


def generate(seed: int, count: int = 80) -> list[tuple[list[dict[str, object]], ...]]:
    return list(SyntheticRegistry(seed=seed, now=NOW).batches(count, size=30))


def test_the_same_seed_and_time_give_identical_rows():
    assert generate(seed=11) == generate(seed=11)


def test_a_different_seed_gives_different_rows():
    first, second = generate(seed=11), generate(seed=12)

    first_ids = {row["id"] for flags, _ in first for row in flags}
    second_ids = {row["id"] for flags, _ in second for row in flags}
    assert first_ids.isdisjoint(second_ids)
    assert first != second


def test_batches_hold_each_flag_before_its_events_and_add_up_to_the_total():
    batches = generate(seed=3, count=80)

    assert [len(flags) for flags, _ in batches] == [30, 30, 20]
    for flags, events in batches:
        assert {event["flag_id"] for event in events} == {flag["id"] for flag in flags}


# --- seeded into a real database ----------------------------------------------------------------


def directory(database_url: str) -> dict[uuid.UUID, Staff]:
    engine = create_sync_engine_for(database_url)
    try:
        with Session(engine) as session:
            return {person.id: person for person in session.exec(select(Staff)).all()}
    finally:
        engine.dispose()


@pytest.fixture
def seeded(
    database_url: str, clean_tables: None
) -> Iterator[tuple[list[Flag], dict[uuid.UUID, list[FlagEvent]]]]:
    """300 synthetic flags in the test database, read back with their timelines in order."""
    engine = create_sync_engine_for(database_url)
    try:
        assert synthetic.seed(engine, SEEDED, seed=2026, now=NOW) == SEEDED
        with Session(engine) as session:
            flags = list(session.exec(select(Flag).order_by(col(Flag.created_at))).all())
            timelines: dict[uuid.UUID, list[FlagEvent]] = defaultdict(list)
            for event in session.exec(select(FlagEvent).order_by(col(FlagEvent.id))).all():
                timelines[event.flag_id].append(event)
        yield flags, timelines
    finally:
        engine.dispose()


def test_seeding_writes_every_flag_with_a_timeline_covering_every_status(seeded):
    flags, timelines = seeded

    assert len(flags) == SEEDED
    assert set(timelines) == {flag.id for flag in flags}
    # The checks below are only worth something if the data exercises every path.
    assert {flag.status for flag in flags} == set(Status)
    assert {flag.anonymity for flag in flags} == set(Anonymity)


def test_every_timeline_starts_with_the_creation_of_a_submitted_flag(seeded):
    flags, timelines = seeded

    for flag in flags:
        first = timelines[flag.id][0]
        assert (first.kind, first.from_status, first.to_status) == ("created", None, "submitted")
        assert first.at == flag.created_at
        assert flag.created_week == week_start(flag.created_at)


def test_every_status_change_is_a_move_the_workflow_allows(seeded):
    flags, timelines = seeded

    for flag in flags:
        current = Status.SUBMITTED
        for event in timelines[flag.id]:
            if event.kind != "status_change":
                continue
            assert event.from_status == current, flag.id
            assert Status(event.to_status) in ALLOWED_TRANSITIONS[current], flag.id
            current = Status(event.to_status)
        assert flag.status == current, flag.id


def test_moves_that_need_a_reply_have_one_at_the_same_moment(seeded):
    flags, timelines = seeded

    for flag in flags:
        events = timelines[flag.id]
        replies = {event.at for event in events if event.kind == "reply"}
        for event in events:
            if event.kind == "status_change" and event.to_status in REPLY_REQUIRED:
                assert event.at in replies, flag.id
        for event in events:
            if event.kind == "reply":
                assert event.visible_to_reporter is True
                assert event.body


def test_accepted_and_later_flags_have_an_owner_assigned_before_acceptance(seeded):
    flags, timelines = seeded
    accepted_or_later = {Status.ACCEPTED, Status.ACTION_TAKEN, Status.CLOSED}

    for flag in flags:
        events = timelines[flag.id]
        if flag.status in accepted_or_later:
            assert flag.owner_lead_id is not None, flag.id
        for position, event in enumerate(events):
            if event.kind == "status_change" and event.to_status in OWNER_REQUIRED:
                assert any(e.kind == "assignment" for e in events[:position]), flag.id


def test_seeded_owners_are_active_people_of_the_seeded_directory(seeded, database_url):
    flags, timelines = seeded
    people = directory(database_url)

    assert {person.role for person in people.values()} == {"lead", "analyst", "admin"}
    assert all(person.email and person.email.endswith("@example.org") for person in people.values())
    owned = [flag for flag in flags if flag.owner_lead_id is not None]
    assert any(flag.owner_operational_lead_id for flag in owned), "needs dyads"
    assert any(flag.owner_operational_lead_id is None for flag in owned), "needs single leads"
    for flag in owned:
        for staff_id in (flag.owner_lead_id, flag.owner_operational_lead_id):
            if staff_id is not None:
                assert people[staff_id].active, flag.id
                assert people[staff_id].role == "lead", flag.id
        assignment = next(e for e in timelines[flag.id] if e.kind == "assignment")
        assert assignment.details is not None
        assert (
            uuid.UUID(
                str(assignment.details.get("lead_id") or assignment.details["clinical_lead_id"])
            )
            == flag.owner_lead_id
        )
        assert people[assignment.actor_staff_id].role == "analyst"


def test_seeding_the_directory_again_adds_nobody(database_url, clean_tables):
    engine = create_sync_engine_for(database_url)
    try:
        first = synthetic.seed_directory(engine, now=NOW)
        again = synthetic.seed_directory(engine, now=NOW)
    finally:
        engine.dispose()

    assert (first, again) == (len(directory(database_url)), 0)
    assert any(not person.active for person in directory(database_url).values())


def test_duplicates_point_to_an_existing_flag_that_is_not_a_duplicate(seeded):
    flags, _ = seeded
    by_id = {flag.id: flag for flag in flags}

    duplicates = [flag for flag in flags if flag.status == Status.DUPLICATE]
    assert duplicates
    for flag in duplicates:
        assert flag.duplicate_of_id in by_id
        assert by_id[flag.duplicate_of_id].status != Status.DUPLICATE
        assert flag.duplicate_of_id != flag.id
    assert all(flag.duplicate_of_id is None for flag in flags if flag.status != Status.DUPLICATE)


def test_first_reply_at_is_the_time_of_the_first_reply_event(seeded):
    flags, timelines = seeded

    for flag in flags:
        replies = [event.at for event in timelines[flag.id] if event.kind == "reply"]
        assert flag.first_reply_at == (min(replies) if replies else None), flag.id


def test_ended_flags_store_when_and_how_long_after_creation_their_review_ended(seeded):
    flags, timelines = seeded

    assert any(flag.status in END_STATES for flag in flags)
    for flag in flags:
        if flag.status not in END_STATES:
            assert (flag.closed_at, flag.close_wait_seconds) == (None, None), flag.id
            continue
        ended = [e.at for e in timelines[flag.id] if e.to_status == flag.status]
        assert flag.closed_at == max(ended), flag.id
        expected = (flag.closed_at - flag.created_at).total_seconds()
        assert flag.close_wait_seconds == pytest.approx(expected, abs=0.01), flag.id


def test_every_status_change_stores_the_stay_in_the_status_it_left(seeded):
    flags, timelines = seeded

    for flag in flags:
        entered = flag.created_at
        for event in timelines[flag.id]:
            if event.kind != "status_change":
                assert event.status_seconds is None
                continue
            expected = (event.at - entered).total_seconds()
            assert event.status_seconds == pytest.approx(expected, abs=0.01), flag.id
            entered = event.at


def test_nothing_happens_in_the_future_and_updated_at_is_the_last_event(seeded):
    flags, timelines = seeded

    for flag in flags:
        moments = [event.at for event in timelines[flag.id]]
        assert moments == sorted(moments), flag.id
        assert max(moments) <= NOW
        assert flag.updated_at == max(moments), flag.id


def test_each_transition_bumped_the_version_once(seeded):
    flags, timelines = seeded

    for flag in flags:
        changes = [event for event in timelines[flag.id] if event.kind == "status_change"]
        assert flag.version == 1 + len(changes), flag.id


def test_anonymous_flags_have_no_reporter_identity(seeded):
    flags, timelines = seeded

    for flag in flags:
        created = timelines[flag.id][0]
        if flag.anonymity == Anonymity.ANONYMOUS:
            assert (flag.reporter_fhir_user, flag.reporter_display) == (None, None)
            assert (flag.reporter_department, flag.idempotency_scope) == (None, "")
            assert flag.receipt_token_hash is not None
            assert created.actor_name == "Anonymous reporter"
        else:
            assert flag.reporter_fhir_user is not None
            assert flag.idempotency_scope == flag.reporter_fhir_user
            assert flag.receipt_token_hash is None
        if flag.anonymity == Anonymity.CONFIDENTIAL:
            assert created.actor_name == "Confidential reporter"
        if flag.anonymity == Anonymity.IDENTIFIED:
            assert created.actor_name == flag.reporter_display


def test_every_seeded_flag_renders_as_the_api_shows_it(seeded, database_url):
    flags, timelines = seeded
    people = directory(database_url)

    for flag in flags:
        shown = views.detail(flag, timelines[flag.id], people)
        assert shown.reporter.identity_hidden is (flag.anonymity != Anonymity.IDENTIFIED)


async def test_a_seeded_flag_carries_on_through_the_service_at_its_version(
    database_url, session_factory: async_sessionmaker[AsyncSession]
):
    engine = create_sync_engine_for(database_url)
    try:
        synthetic.seed(engine, 60, seed=4, now=NOW)
        with engine.connect() as connection:
            flag_id, version = connection.execute(
                sa.select(col(Flag.id), col(Flag.version))
                .where(col(Flag.status) == Status.TRIAGED)
                .limit(1)
            ).one()
    finally:
        engine.dispose()

    async with session_factory() as session:
        moved = await review.transition(
            session,
            flag_id,
            TransitionIn(to=Status.NOT_LOW_VALUE, reply="Appropriate for this patient."),
            actor=review.Actor(name="A. Rivera", role="analyst"),
            if_match=frozenset({version}),
        )
        await session.commit()
    assert (moved.status, moved.version) == (Status.NOT_LOW_VALUE, version + 1)


def test_synthetic_costs_are_the_reference_prices_of_their_codes():
    from datetime import UTC, datetime

    from app.demo.synthetic import SyntheticRegistry
    from app.flags.costs import REFERENCE_PRICES

    flags, _ = next(SyntheticRegistry(seed=3, now=datetime(2026, 6, 1, tzinfo=UTC)).batches(500))

    for flag in flags:
        price = REFERENCE_PRICES.get((flag["order_code_system"], flag["order_code"]))
        expected = (price.cents, price.source, price.year) if price else (None, None, None)
        assert (flag["estimated_cost_cents"], flag["cost_source"], flag["cost_year"]) == expected
    assert any(flag["estimated_cost_cents"] for flag in flags)
    assert any(flag["estimated_cost_cents"] is None for flag in flags)
