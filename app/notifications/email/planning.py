"""Who gets which email because of an event, decided in the event's own transaction.

The outbox stores what this returns beside the event (app/notifications/channels.py), so an
email is planned exactly when the change that causes it commits. Opt-outs are honoured here and
again when sending (an opt-out in between still stops the email). Without an SMTP server
configured nothing is planned: mail that can never be sent would only fill the dead letters.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.flags.models import Flag
from app.flags.workflow import Status
from app.notifications.channels import PlannedDelivery
from app.notifications.email import repository
from app.notifications.email.messages import TEMPLATE_KINDS, Template
from app.notifications.email.models import normalize_email
from app.notifications.email.recipients import STAFF_DIRECTORY, Directory, reporter_address

CHANNEL = "email"

# The events that can cause an email.
FLAG_REPLIED = "flag.replied"
FLAG_NEEDS_INFO = "flag.needs_info"
FLAG_ASSIGNED = "flag.assigned"
DIGEST_EVENT = "digest.overdue"

# The outbox's digest key: one per lead per day, so two workers (or two ticks) store it once.
DIGEST_KEY = "digest:{day}:{staff_id}"

Enqueue = Callable[[AsyncSession, Sequence[PlannedDelivery]], Awaitable[object]]


def _template(flag: Flag, event: str, details: Mapping[str, Any]) -> Template | None:
    if event == FLAG_ASSIGNED:
        return Template.ASSIGNED
    if event == FLAG_NEEDS_INFO:
        return Template.NEEDS_INFO
    if event == FLAG_REPLIED:
        # A move to needs_info always carries its question as a reply: one email says both.
        asks = details.get("to_status") == Status.NEEDS_INFO or flag.status == Status.NEEDS_INFO
        return Template.NEEDS_INFO if asks else Template.REPLIED
    return None


async def plan_email(
    session: AsyncSession,
    flag: Flag,
    event: str,
    details: Mapping[str, Any],
    *,
    settings: Settings,
    directory: Directory = STAFF_DIRECTORY,
) -> list[PlannedDelivery]:
    """The emails ``event`` on ``flag`` causes: the reporter hears of replies and questions,
    owners of an assignment. Other events send no email (webhooks may carry them)."""
    template = _template(flag, event, details)
    if settings.smtp is None or template is None:
        return []
    if template is Template.ASSIGNED:
        addresses = [owner.email for owner in await directory.owners(session, flag)]
    else:
        address = reporter_address(flag, directory)
        addresses = [address] if address else []
    payload = {"template": template.value, "flag_id": str(flag.id)}
    return [
        PlannedDelivery(
            channel=CHANNEL, recipient=address, event=event, payload=payload, flag_id=flag.id
        )
        for address in await _without_opt_outs(session, addresses, template)
    ]


async def _without_opt_outs(
    session: AsyncSession, addresses: Sequence[str], template: Template
) -> list[str]:
    unique = list(dict.fromkeys(addresses))
    refused = await repository.opted_out(session, unique, TEMPLATE_KINDS[template])
    return [address for address in unique if normalize_email(address) not in refused]


async def plan_due_digests(
    session: AsyncSession,
    now: datetime,
    *,
    settings: Settings,
    directory: Directory = STAFF_DIRECTORY,
) -> list[PlannedDelivery]:
    """Today's digest for each active lead who has flags waiting past the reply SLA: those
    they own, and those nobody owns yet (any lead may take one). Each carries the key of its
    lead and day (``digest:DATE:STAFF_ID``)."""
    now = now.astimezone(UTC)
    if settings.smtp is None or now.hour < settings.digest_hour_utc:
        return []
    cutoff = now - timedelta(hours=settings.reply_sla_hours)
    waiting = await repository.waiting_for_reply(session, cutoff)
    if not waiting.any:
        return []
    leads = await directory.active_leads(session)
    allowed = set(await _without_opt_outs(session, [lead.email for lead in leads], Template.DIGEST))
    day = now.date().isoformat()
    planned: list[PlannedDelivery] = []
    for lead in leads:
        yours = waiting.by_owner.get(lead.staff_id, 0)
        if lead.email not in allowed or yours + waiting.unassigned == 0:
            continue
        payload = {
            "template": Template.DIGEST.value,
            "yours": yours,
            "unassigned": waiting.unassigned,
            "owner": lead.staff_id,
            "sla_hours": settings.reply_sla_hours,
            "day": day,
        }
        planned.append(
            PlannedDelivery(
                channel=CHANNEL,
                recipient=lead.email,
                event=DIGEST_EVENT,
                payload=payload,
                idempotency_key=DIGEST_KEY.format(day=day, staff_id=lead.staff_id),
            )
        )
    return planned


async def enqueue_due_digests(
    session: AsyncSession,
    now: datetime,
    *,
    settings: Settings,
    enqueue: Enqueue,
    directory: Directory = STAFF_DIRECTORY,
) -> int:
    """The worker's periodic step: store today's due digests in the outbox (whose key makes a
    second enqueue of the same lead and day a no-op). Returns how many were planned."""
    planned = await plan_due_digests(session, now, settings=settings, directory=directory)
    if planned:
        await enqueue(session, planned)
    return len(planned)


async def plan(
    session: AsyncSession, flag: Flag, event: str, details: Mapping[str, Any], settings: Settings
) -> list[PlannedDelivery]:
    """:func:`plan_email` in the outbox's planner shape ``(session, flag, event, details,
    settings)`` (app/notifications/events.py)."""
    return await plan_email(session, flag, event, details, settings=settings)


def digest_job(
    settings: Settings, *, enqueue: Enqueue, directory: Directory = STAFF_DIRECTORY
) -> Callable[[AsyncSession, datetime], Awaitable[None]]:
    """The worker's periodic job ``(session, now)``: today's digests, enqueued once each."""

    async def job(session: AsyncSession, now: datetime) -> None:
        await enqueue_due_digests(
            session, now, settings=settings, enqueue=enqueue, directory=directory
        )

    return job
