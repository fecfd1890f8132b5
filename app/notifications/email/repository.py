"""Every query of email notifications: opt-outs, and the flags a digest counts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.db import dialect_name, upsert_insert
from app.flags.models import Flag
from app.flags.workflow import END_STATES
from app.notifications.email.models import EmailKind, NotificationOptOut, normalize_email
from app.staff.models import Staff


async def opted_out(session: AsyncSession, emails: Collection[str], kind: EmailKind) -> set[str]:
    """Which of ``emails`` (normalized) asked not to get ``kind``."""
    wanted = {normalize_email(email) for email in emails}
    if not wanted:
        return set()
    rows = await session.execute(
        sa.select(col(NotificationOptOut.email)).where(
            col(NotificationOptOut.kind) == kind.value,
            col(NotificationOptOut.email).in_(sorted(wanted)),
        )
    )
    return set(rows.scalars())


async def add_opt_out(session: AsyncSession, email: str, kind: EmailKind, now: datetime) -> None:
    """Record the opt-out; a second one (a double click, two mail clients) changes nothing."""
    values = {"email": normalize_email(email), "kind": kind.value, "created_at": now}
    insert = upsert_insert(dialect_name(session))
    table = NotificationOptOut.__table__  # type: ignore[attr-defined]
    statement = insert(table).values(**values).on_conflict_do_nothing()
    await session.execute(statement)


async def remove_opt_out(session: AsyncSession, email: str, kind: EmailKind) -> None:
    await session.execute(
        sa.delete(NotificationOptOut).where(
            col(NotificationOptOut.email) == normalize_email(email),
            col(NotificationOptOut.kind) == kind.value,
        )
    )


@dataclass(frozen=True)
class Waiting:
    """Open flags past the reply time: those not yet assigned, and those each person owns (as
    the lead or either half of a dyad)."""

    unassigned: int
    by_owner: Mapping[str, int]

    @property
    def any(self) -> bool:
        return self.unassigned > 0 or any(self.by_owner.values())


async def waiting_for_reply(session: AsyncSession, created_before: datetime) -> Waiting:
    """Open flags created before ``created_before`` whose reporter has had no reply yet (the
    dashboard's "overdue", frontend/static/dashboard/flag-format.js), by owner, in one query."""
    rows = await session.execute(
        sa.select(col(Flag.owner_lead_id), col(Flag.owner_operational_lead_id), sa.func.count())
        .where(
            col(Flag.first_reply_at).is_(None),
            col(Flag.status).not_in([status.value for status in END_STATES]),
            col(Flag.created_at) < created_before,
        )
        .group_by(col(Flag.owner_lead_id), col(Flag.owner_operational_lead_id))
    )
    unassigned = 0
    by_owner: Counter[str] = Counter()
    for lead, operational, count in rows:
        if lead is None:
            unassigned += count
            continue
        by_owner[str(lead)] += count
        if operational is not None and operational != lead:
            by_owner[str(operational)] += count
    return Waiting(unassigned=unassigned, by_owner=dict(by_owner))


async def staff_with_role(session: AsyncSession, role: str) -> list[Staff]:
    """Active staff of one role who have an email, e.g. the leads a digest goes to."""
    query = (
        sa.select(Staff)
        .where(col(Staff.role) == role, col(Staff.active), col(Staff.email).is_not(None))
        .order_by(col(Staff.name))
    )
    return list((await session.execute(query)).scalars())
