"""Every query of improvement work: improvements, their links to flags, their timeline, and the
counts their evidence and effect are made of.

Reads run on the request's session, so an organization's staff reach only their
organization's improvements and flags (app/organizations/scope.py); the counts also name the
improvement's organization themselves, so a system-level reader measures the right one.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import col, select

from app.db import dialect_name
from app.errors import PreconditionFailed
from app.flags.models import Flag
from app.flags.workflow import Status
from app.improvements.catalog import ImprovementStatus
from app.improvements.models import Improvement, ImprovementEvent, ImprovementFlag

Code = tuple[str, str]  # (system, code)


async def get(session: AsyncSession, improvement_id: uuid.UUID) -> Improvement | None:
    return await session.get(Improvement, improvement_id)


async def listing(
    session: AsyncSession,
    *,
    statuses: Sequence[ImprovementStatus] = (),
    flag_id: uuid.UUID | None = None,
    organization_id: uuid.UUID | None = None,
) -> Sequence[Improvement]:
    """Improvements, newest first: those in ``statuses``, or the one ``flag_id`` is linked to."""
    statement = select(Improvement).order_by(
        col(Improvement.created_at).desc(), col(Improvement.id)
    )
    if statuses:
        statement = statement.where(col(Improvement.status).in_([s.value for s in statuses]))
    if organization_id is not None:
        statement = statement.where(col(Improvement.organization_id) == organization_id)
    if flag_id is not None:
        statement = statement.join(
            ImprovementFlag, col(ImprovementFlag.improvement_id) == col(Improvement.id)
        ).where(col(ImprovementFlag.flag_id) == flag_id)
    return (await session.scalars(statement)).all()


@dataclass(frozen=True)
class AtStake:
    """How many flags an improvement answers and the estimated cost of their orders."""

    flags: int = 0
    cost_cents: int = 0


async def at_stake(
    session: AsyncSession, improvement_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, AtStake]:
    """The linked flags' count and cost for each improvement, in one query."""
    if not improvement_ids:
        return {}
    statement = (
        select(
            col(ImprovementFlag.improvement_id),
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(col(Flag.estimated_cost_cents)), 0),
        )
        .select_from(ImprovementFlag)
        .join(Flag, col(Flag.id) == col(ImprovementFlag.flag_id))
        .where(col(ImprovementFlag.improvement_id).in_(list(improvement_ids)))
        .group_by(col(ImprovementFlag.improvement_id))
    )
    rows = (await session.execute(statement)).all()
    return {row[0]: AtStake(int(row[1]), int(row[2] or 0)) for row in rows}


async def links(session: AsyncSession, improvement_id: uuid.UUID) -> Sequence[ImprovementFlag]:
    statement = (
        select(ImprovementFlag)
        .where(col(ImprovementFlag.improvement_id) == improvement_id)
        .order_by(col(ImprovementFlag.linked_at), col(ImprovementFlag.flag_id))
    )
    return (await session.scalars(statement)).all()


async def linked_flags(session: AsyncSession, improvement_id: uuid.UUID) -> Sequence[Flag]:
    """The flags an improvement answers, newest first."""
    statement = (
        select(Flag)
        .join(ImprovementFlag, col(ImprovementFlag.flag_id) == col(Flag.id))
        .where(col(ImprovementFlag.improvement_id) == improvement_id)
        .order_by(col(Flag.created_at).desc(), col(Flag.id))
    )
    return (await session.scalars(statement)).all()


async def links_of_flags(
    session: AsyncSession, flag_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, uuid.UUID]:
    """flag id -> the improvement it is linked to, for those of ``flag_ids`` already linked."""
    if not flag_ids:
        return {}
    statement = select(ImprovementFlag).where(col(ImprovementFlag.flag_id).in_(list(flag_ids)))
    return {link.flag_id: link.improvement_id for link in (await session.scalars(statement))}


async def flags_by_id(
    session: AsyncSession, flag_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Flag]:
    if not flag_ids:
        return {}
    result = await session.scalars(select(Flag).where(col(Flag.id).in_(list(flag_ids))))
    return {flag.id: flag for flag in result.all()}


async def timeline(session: AsyncSession, improvement_id: uuid.UUID) -> Sequence[ImprovementEvent]:
    statement = (
        select(ImprovementEvent)
        .where(col(ImprovementEvent.improvement_id) == improvement_id)
        .order_by(col(ImprovementEvent.id))
    )
    return (await session.scalars(statement)).all()


def add(session: AsyncSession, *rows: Improvement | ImprovementFlag | ImprovementEvent) -> None:
    session.add_all(rows)


async def save(session: AsyncSession, improvement: Improvement) -> None:
    """Write the improvement's changes now; a concurrent change since it was read is refused."""
    session.add(improvement)
    try:
        await session.flush()
    except StaleDataError as exc:
        raise PreconditionFailed(
            "Someone else changed this improvement while you were working on it. Reload it, "
            "check their change, and try again."
        ) from exc


async def lock(session: AsyncSession, improvement_id: uuid.UUID) -> Improvement | None:
    """The improvement, locked for update on PostgreSQL (a go-live reads and changes it and
    its flags: nobody may move it in between)."""
    statement = select(Improvement).where(col(Improvement.id) == improvement_id)
    if dialect_name(session) == "postgresql":
        statement = statement.with_for_update()
    return (await session.scalars(statement)).first()


async def live_reply(session: AsyncSession, improvement_id: uuid.UUID) -> str | None:
    """The reply sent to linked reporters when the improvement went live."""
    statement = (
        select(col(ImprovementEvent.body))
        .where(
            col(ImprovementEvent.improvement_id) == improvement_id,
            col(ImprovementEvent.to_status) == ImprovementStatus.LIVE.value,
        )
        .order_by(col(ImprovementEvent.id).desc())
        .limit(1)
    )
    return await session.scalar(statement)


# --- evidence ---------------------------------------------------------------------------------


CountedColumn = Literal["reason", "driver", "department"]


async def linked_counts(
    session: AsyncSession, improvement_id: uuid.UUID, name: CountedColumn
) -> list[tuple[str, int]]:
    """How many linked flags have each value of the flag's ``name`` column, most first; flags
    without a value are left out."""
    column = col(getattr(Flag, name))
    statement = (
        select(column, sa.func.count())
        .select_from(ImprovementFlag)
        .join(Flag, col(Flag.id) == col(ImprovementFlag.flag_id))
        .where(col(ImprovementFlag.improvement_id) == improvement_id, column.is_not(None))
        .group_by(column)
        .order_by(sa.func.count().desc(), column)
    )
    return [(str(value), int(count)) for value, count in (await session.execute(statement)).all()]


async def shareable_notes(session: AsyncSession, improvement_id: uuid.UUID) -> list[str]:
    statement = (
        select(col(Flag.note))
        .select_from(ImprovementFlag)
        .join(Flag, col(Flag.id) == col(ImprovementFlag.flag_id))
        .where(
            col(ImprovementFlag.improvement_id) == improvement_id,
            col(ImprovementFlag.note_shareable).is_(True),
            col(Flag.note).is_not(None),
        )
        .order_by(col(ImprovementFlag.linked_at), col(Flag.id))
    )
    return [note for note in (await session.scalars(statement)).all() if note]


# --- siblings ---------------------------------------------------------------------------------


def _rule_named(rule_id: str) -> sa.ColumnElement[bool]:
    """The flag's rule agreement names ``rule_id``. The JSON list is written by one serializer
    on both databases (SQLAlchemy's ``json.dumps``), so its text holds ``"rule_id": "<id>"``."""
    needle = json.dumps({"rule_id": rule_id})[1:-1]
    pattern = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return sa.cast(col(Flag.rule_agreement), sa.Text).like(pattern, escape="\\")


async def siblings(
    session: AsyncSession,
    flag: Flag,
    *,
    since: datetime,
    rule_ids: Sequence[str],
    limit: int,
) -> Sequence[Flag]:
    """Unlinked flags like ``flag``: the same organization and department, created since
    ``since``, on the same order code or judged by one of the same rules. Not-low-value ones
    are left out (the team said they are not the problem)."""
    alike: list[sa.ColumnElement[bool]] = []
    if flag.order_code is not None:
        alike.append(
            sa.and_(
                col(Flag.order_code) == flag.order_code,
                col(Flag.order_code_system).is_not_distinct_from(flag.order_code_system),
            )
        )
    alike.extend(_rule_named(rule_id) for rule_id in rule_ids)
    if not alike:
        return []
    linked = select(col(ImprovementFlag.flag_id)).where(
        col(ImprovementFlag.flag_id) == col(Flag.id)
    )
    statement = (
        select(Flag)
        .where(
            col(Flag.organization_id) == flag.organization_id,
            col(Flag.department).is_not_distinct_from(flag.department),
            col(Flag.created_at) >= since,
            col(Flag.id) != flag.id,
            col(Flag.status) != Status.NOT_LOW_VALUE.value,
            sa.or_(*alike),
            ~linked.exists(),
        )
        .order_by(col(Flag.created_at).desc(), col(Flag.id))
        .limit(limit)
    )
    return (await session.scalars(statement)).all()


async def live_between(session: AsyncSession, *, first: date, last: date) -> Sequence[Improvement]:
    """Improvements that went live between ``first`` and ``last`` (Insights), of the reader's
    organization for its staff (the session is scoped)."""
    statement = select(Improvement).where(
        col(Improvement.status).in_(
            [ImprovementStatus.LIVE.value, ImprovementStatus.MEASURED.value]
        ),
        col(Improvement.go_live) >= first,
        col(Improvement.go_live) <= last,
    )
    return (await session.scalars(statement.order_by(col(Improvement.go_live)))).all()
