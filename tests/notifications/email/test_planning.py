"""Who gets which email: planned in the event's transaction, honouring opt-outs."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.flags.models import Flag
from app.notifications.channels import PlannedDelivery
from app.notifications.email import repository
from app.notifications.email.models import EmailKind
from app.notifications.email.planning import (
    digest_job,
    plan_due_digests,
    plan_email,
)
from app.notifications.email.recipients import StaffRecipient
from tests.factories import make_flag, sid
from tests.notifications.email.conftest import ListedDirectory, settings_with_smtp

pytestmark = pytest.mark.usefixtures("clean_tables")

REPORTER = "avery.sample@hospital.test"
# Staff ids of the directory's known people (tests/factories.py), so flags can name them.
LEAD = StaffRecipient(staff_id=sid("Dr. E. Nwosu"), email="lead.one@hospital.test")
OTHER_LEAD = StaffRecipient(staff_id=sid("Dr. H. Tanaka"), email="lead.two@hospital.test")


def now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def mail_settings(settings):
    return settings_with_smtp(settings, "smtp://127.0.0.1:2525")


async def reporter_plan(
    session_factory, mail_settings, *, anonymity, event="flag.replied"
) -> list[PlannedDelivery]:
    flag = await make_flag(session_factory, anonymity=anonymity)
    directory = ListedDirectory(reporters={flag.id: REPORTER})
    async with session_factory() as session:
        return await plan_email(
            session, flag, event, {}, settings=mail_settings, directory=directory
        )


@pytest.mark.parametrize("anonymity", ["identified", "confidential"])
async def test_a_reply_emails_a_reporter_who_is_known(session_factory, mail_settings, anonymity):
    [planned] = await reporter_plan(session_factory, mail_settings, anonymity=anonymity)

    assert planned.channel == "email"
    assert planned.recipient == REPORTER
    assert planned.event == "flag.replied"
    assert planned.payload == {"template": "replied", "flag_id": str(planned.flag_id)}


async def test_an_anonymous_reporter_gets_no_email(session_factory, mail_settings):
    assert await reporter_plan(session_factory, mail_settings, anonymity="anonymous") == []


async def test_a_reporter_without_an_email_gets_none(session_factory, mail_settings):
    flag = await make_flag(session_factory)
    async with session_factory() as session:
        planned = await plan_email(
            session, flag, "flag.replied", {}, settings=mail_settings, directory=ListedDirectory()
        )
    assert planned == []


async def test_a_question_to_the_reporter_is_its_own_email(session_factory, mail_settings):
    flag = await make_flag(session_factory)
    flag.status = "needs_info"
    directory = ListedDirectory(reporters={flag.id: REPORTER})
    async with session_factory() as session:
        [planned] = await plan_email(
            session, flag, "flag.replied", {}, settings=mail_settings, directory=directory
        )
    assert planned.payload["template"] == "needs_info"


async def test_other_events_send_no_email(session_factory, mail_settings):
    planned = await reporter_plan(
        session_factory, mail_settings, anonymity="identified", event="flag.created"
    )
    assert planned == []


async def test_without_smtp_no_email_is_planned(session_factory, settings):
    planned = await reporter_plan(
        session_factory, settings_with_smtp(settings, None), anonymity="identified"
    )
    assert planned == []


async def test_an_assignment_emails_each_owner_of_a_dyad(session_factory, mail_settings):
    flag = await make_flag(session_factory)
    directory = ListedDirectory(flag_owners={flag.id: [LEAD, OTHER_LEAD]})
    async with session_factory() as session:
        planned = await plan_email(
            session, flag, "flag.assigned", {}, settings=mail_settings, directory=directory
        )
    assert [(p.recipient, p.payload["template"]) for p in planned] == [
        (LEAD.email, "assigned"),
        (OTHER_LEAD.email, "assigned"),
    ]


async def test_planning_leaves_out_who_opted_out_of_that_kind(session_factory, mail_settings):
    flag = await make_flag(session_factory)
    directory = ListedDirectory(flag_owners={flag.id: [LEAD, OTHER_LEAD]})
    async with session_factory() as session:
        await repository.add_opt_out(session, "Lead.One@hospital.test", EmailKind.ASSIGNMENT, now())
        await repository.add_opt_out(session, OTHER_LEAD.email, EmailKind.DIGEST, now())
        await session.commit()
        planned = await plan_email(
            session, flag, "flag.assigned", {}, settings=mail_settings, directory=directory
        )
    assert [p.recipient for p in planned] == [OTHER_LEAD.email]


# --- the daily digest -----------------------------------------------------------------------


# When the digests are planned in these tests: after the digest hour (07:00 UTC by default).
AT = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


async def waiting_flag(session_factory, *, age: timedelta) -> Flag:
    """A flag created ``age`` before AT, with no reply yet."""
    flag = await make_flag(session_factory)
    async with session_factory() as session:
        created = AT - age
        await session.execute(
            sa.update(Flag).where(Flag.id == flag.id).values(created_at=created)  # type: ignore[arg-type]
        )
        await session.commit()
    return flag


async def test_the_digest_goes_to_each_active_lead_once_a_day(session_factory, mail_settings):
    await waiting_flag(session_factory, age=timedelta(hours=80))
    await waiting_flag(session_factory, age=timedelta(hours=73))
    await waiting_flag(session_factory, age=timedelta(hours=2))  # within the SLA
    directory = ListedDirectory(leads=[LEAD, OTHER_LEAD])
    async with session_factory() as session:
        planned = await plan_due_digests(session, AT, settings=mail_settings, directory=directory)
    assert [(p.recipient, p.idempotency_key) for p in planned] == [
        (LEAD.email, f"digest:2026-12-06:{LEAD.staff_id}"),
        (OTHER_LEAD.email, f"digest:2026-12-06:{OTHER_LEAD.staff_id}"),
    ]
    assert planned[0].payload == {
        "template": "digest",
        "yours": 0,
        "unassigned": 2,  # nobody owns them yet: every lead hears of them
        "owner": LEAD.staff_id,
        "sla_hours": mail_settings.reply_sla_hours,
        "day": "2026-12-06",
    }


async def owned_by(session_factory, flag: Flag, lead: str, operational: str | None = None) -> None:
    async with session_factory() as session:
        await session.execute(
            sa.update(Flag)
            .where(Flag.id == flag.id)  # type: ignore[arg-type]
            .values(
                owner_lead_id=uuid.UUID(lead),
                owner_operational_lead_id=uuid.UUID(operational) if operational else None,
            )
        )
        await session.commit()


async def digests_of_both_leads(session_factory, settings) -> list[PlannedDelivery]:
    directory = ListedDirectory(leads=[LEAD, OTHER_LEAD])
    async with session_factory() as session:
        return await plan_due_digests(session, AT, settings=settings, directory=directory)


async def test_a_leads_digest_counts_the_flags_they_own_and_no_one_elses(
    session_factory, mail_settings, known_staff
):
    mine = await waiting_flag(session_factory, age=timedelta(hours=80))
    await owned_by(session_factory, mine, LEAD.staff_id)
    dyad = await waiting_flag(session_factory, age=timedelta(hours=90))
    await owned_by(session_factory, dyad, OTHER_LEAD.staff_id, LEAD.staff_id)  # LEAD: operational
    theirs = await waiting_flag(session_factory, age=timedelta(hours=100))
    await owned_by(session_factory, theirs, sid("R. Alvarez"))

    planned = await digests_of_both_leads(session_factory, mail_settings)

    assert {p.recipient: (p.payload["yours"], p.payload["unassigned"]) for p in planned} == {
        LEAD.email: (2, 0),
        OTHER_LEAD.email: (1, 0),
    }


async def test_a_lead_with_nothing_of_theirs_and_nothing_unassigned_gets_no_digest(
    session_factory, mail_settings, known_staff
):
    flag = await waiting_flag(session_factory, age=timedelta(hours=80))
    await owned_by(session_factory, flag, LEAD.staff_id)

    planned = await digests_of_both_leads(session_factory, mail_settings)

    assert [p.recipient for p in planned] == [LEAD.email]


async def test_no_digest_before_the_digest_hour(session_factory, settings):
    early = settings_with_smtp(settings, "smtp://127.0.0.1:2525", digest_hour_utc=7)
    await waiting_flag(session_factory, age=timedelta(hours=100))
    directory = ListedDirectory(leads=[LEAD])
    async with session_factory() as session:
        before = await plan_due_digests(
            session, AT.replace(hour=6, minute=59), settings=early, directory=directory
        )
        after = await plan_due_digests(
            session, AT.replace(hour=7, minute=0), settings=early, directory=directory
        )
    assert before == []
    assert [p.idempotency_key for p in after] == [f"digest:2026-12-06:{LEAD.staff_id}"]


async def test_no_digest_when_nothing_waits_past_the_sla(session_factory, mail_settings):
    await waiting_flag(session_factory, age=timedelta(hours=1))
    async with session_factory() as session:
        planned = await plan_due_digests(
            session,
            AT,
            settings=mail_settings,
            directory=ListedDirectory(leads=[LEAD]),
        )
    assert planned == []


async def test_a_lead_who_opted_out_gets_no_digest(session_factory, mail_settings):
    await waiting_flag(session_factory, age=timedelta(days=5))
    async with session_factory() as session:
        await repository.add_opt_out(session, LEAD.email, EmailKind.DIGEST, now())
        await session.commit()
    planned = await digests_of_both_leads(session_factory, mail_settings)
    assert [p.recipient for p in planned] == [OTHER_LEAD.email]


async def test_the_workers_digest_job_hands_the_plan_to_the_outbox(session_factory, mail_settings):
    await waiting_flag(session_factory, age=timedelta(days=5))
    stored: list[PlannedDelivery] = []

    async def enqueue(session, planned):
        stored.extend(planned)

    job = digest_job(mail_settings, enqueue=enqueue, directory=ListedDirectory(leads=[LEAD]))
    async with session_factory() as session:
        await job(session, AT)
    assert [(p.recipient, p.idempotency_key) for p in stored] == [
        (LEAD.email, f"digest:2026-12-06:{LEAD.staff_id}")
    ]
