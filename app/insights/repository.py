"""Every query behind the statistics and the export, over the same filters as the flag list.

Where SQLite and PostgreSQL differ (medians, time arithmetic) the difference is kept here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, select

from app.cds.models import CardFeedback
from app.db import dialect_name
from app.flags.anonymity import identity_kept_condition
from app.flags.filters import FlagFilters, conditions
from app.flags.models import Flag, FlagEvent
from app.organizations.scope import scope_of


async def stream(
    session: AsyncSession, filters: FlagFilters, *, batch_size: int = 1000
) -> AsyncIterator[Flag]:
    """Every matching flag, oldest first, read in batches on a server-side cursor."""
    statement = (
        select(Flag)
        .where(*conditions(filters))
        .order_by(col(Flag.created_at), col(Flag.id))
        .execution_options(yield_per=batch_size)
    )
    result = await session.stream_scalars(statement)
    async for partition in result.partitions():
        for flag in partition:
            yield flag
            # Keep memory flat: nothing streamed stays in the identity map. (expunge_all would
            # also drop the map the still-open result is loading into.)
            session.expunge(flag)


class Dimension(StrEnum):
    SERVICE = "service"
    REASON = "reason"
    DRIVER = "driver"
    DEPARTMENT = "department"


@dataclass(frozen=True)
class GroupCount:
    key: tuple[str | None, ...]
    label: str | None
    count: int
    cost_cents: int


def _group_columns(dimension: Dimension) -> list[Mapped[Any]]:
    if dimension is Dimension.SERVICE:
        return [col(Flag.order_code_system), col(Flag.order_code)]
    if dimension is Dimension.REASON:
        return [col(Flag.reason)]
    if dimension is Dimension.DRIVER:
        return [col(Flag.driver)]
    return [col(Flag.department)]


_COST = sa.func.coalesce(sa.func.sum(col(Flag.estimated_cost_cents)), 0)


async def counts_by(
    session: AsyncSession, dimension: Dimension, filters: FlagFilters
) -> list[GroupCount]:
    groups = _group_columns(dimension)
    label = sa.func.max(col(Flag.order_display)) if dimension is Dimension.SERVICE else sa.null()
    statement = (
        sa.select(*groups, label, sa.func.count(), _COST)
        .where(*conditions(filters))
        .group_by(*groups)
    )
    rows = (await session.execute(statement)).all()
    width = len(groups)
    return [
        GroupCount(
            key=tuple(row[:width]),
            label=row[width],
            count=row[width + 1],
            cost_cents=row[width + 2],
        )
        for row in rows
    ]


async def counts_by_week(
    session: AsyncSession, filters: FlagFilters
) -> list[tuple[date, int, int]]:
    week = col(Flag.created_week)
    statement = (
        sa.select(week, sa.func.count(), _COST)
        .where(*conditions(filters))
        .group_by(week)
        .order_by(week)
    )
    return [(row[0], row[1], row[2] or 0) for row in (await session.execute(statement)).all()]


async def clinician_flags_by_order_code(
    session: AsyncSession, filters: FlagFilters
) -> list[tuple[str, str | None, str, int]]:
    """(order resource type, code system, code, flags) of the coded flags clinicians raised:
    catches (flags an accepted CDS card made) are left out, being the rules' own."""
    kind, system, code = (
        col(Flag.order_resource_type),
        col(Flag.order_code_system),
        col(Flag.order_code),
    )
    caught = sa.exists().where(col(CardFeedback.flag_id) == col(Flag.id))
    statement = (
        sa.select(kind, system, code, sa.func.count())
        .where(*conditions(filters), code.is_not(None), ~caught)
        .group_by(kind, system, code)
    )
    rows = (await session.execute(statement)).all()
    # The code is never NULL here (filtered above); the column's type cannot say so.
    return [(r[0], r[1], r[2] or "", r[3]) for r in rows]


@dataclass(frozen=True)
class LoopCounts:
    flags: int
    replied: int
    identifiable: int
    identifiable_replied: int
    median_seconds_to_first_reply: float | None


def _seconds_between(start: Any, end: Any, dialect: str) -> ColumnElement[Any]:
    if dialect == "postgresql":
        return sa.extract("epoch", end - start)
    return (sa.func.julianday(end) - sa.func.julianday(start)) * 86400.0


async def loop_counts(session: AsyncSession, filters: FlagFilters) -> LoopCounts:
    where = conditions(filters)
    replied = col(Flag.first_reply_at).is_not(None)
    identifiable = identity_kept_condition()
    counts = (
        await session.execute(
            sa.select(
                sa.func.count(),
                sa.func.count(col(Flag.first_reply_at)),
                sa.func.count().filter(identifiable),
                sa.func.count().filter(sa.and_(identifiable, replied)),
            ).where(*where)
        )
    ).one()
    median = await _median_seconds_to_first_reply(session, where, replied_count=counts[1])
    return LoopCounts(
        flags=counts[0],
        replied=counts[1],
        identifiable=counts[2],
        identifiable_replied=counts[3],
        median_seconds_to_first_reply=median,
    )


async def _median_seconds_to_first_reply(
    session: AsyncSession, where: list[ColumnElement[bool]], *, replied_count: int
) -> float | None:
    """The middle one or two stored waits, read in order (on PostgreSQL from the partial
    index ix_flag_reply_wait, skipping half of it, instead of sorting every wait)."""
    if replied_count == 0:
        return None
    wait = col(Flag.reply_wait_seconds)
    middle = (
        (
            await session.execute(
                sa.select(wait)
                .where(*where, wait.is_not(None))
                .order_by(wait)
                .offset((replied_count - 1) // 2)
                .limit(2 - replied_count % 2)
            )
        )
        .scalars()
        .all()
    )
    values = [value for value in middle if value is not None]
    return sum(values) / len(values) if values else None


async def counts_by_status(session: AsyncSession, filters: FlagFilters) -> dict[str, int]:
    statement = (
        sa.select(col(Flag.status), sa.func.count())
        .where(*conditions(filters))
        .group_by(col(Flag.status))
    )
    return {row[0]: row[1] for row in (await session.execute(statement)).all()}


# Upper bounds (seconds) of the time-to-first-reply buckets; the last bucket is open-ended.
REPLY_TIME_BOUNDS: tuple[tuple[str, float], ...] = (
    ("within_1d", 86400.0),
    ("1d_to_3d", 3 * 86400.0),
    ("3d_to_7d", 7 * 86400.0),
    ("7d_to_14d", 14 * 86400.0),
)
REPLY_TIME_OVER = "over_14d"
UNANSWERED = "unanswered"


async def reply_time_buckets(session: AsyncSession, filters: FlagFilters) -> dict[str, int]:
    """How many flags got their first reply within each time band, and how many got none."""
    waited: Any
    bounds: list[tuple[str, Any]]
    if dialect_name(session) == "postgresql":
        # Interval comparisons: no per-flag numeric conversion (3x faster at a million flags).
        waited = col(Flag.first_reply_at) - col(Flag.created_at)
        bounds = [(key, timedelta(seconds=bound)) for key, bound in REPLY_TIME_BOUNDS]
    else:
        waited = _seconds_between(col(Flag.created_at), col(Flag.first_reply_at), "sqlite")
        bounds = list(REPLY_TIME_BOUNDS)
    # One filtered count per band in a single pass: no grouping (hashing a million rows costs
    # more than comparing each row a few times).
    replied = col(Flag.first_reply_at).is_not(None)
    counts: list[tuple[str, Any]] = [(UNANSWERED, sa.func.count().filter(~replied))]
    lower: Any = None
    for key, bound in bounds:
        band = waited < bound if lower is None else sa.and_(waited >= lower, waited < bound)
        counts.append((key, sa.func.count().filter(sa.and_(replied, band))))
        lower = bound
    counts.append((REPLY_TIME_OVER, sa.func.count().filter(sa.and_(replied, waited >= lower))))
    statement = (
        sa.select(*(count for _, count in counts)).select_from(Flag).where(*conditions(filters))
    )
    row = (await session.execute(statement)).one()
    return {key: value for (key, _), value in zip(counts, row, strict=True)}


async def median_seconds_given_replies(
    session: AsyncSession, filters: FlagFilters, *, replied_count: int
) -> float | None:
    """The median wait for a reply when the number of replied flags is already known."""
    return await _median_seconds_to_first_reply(
        session, conditions(filters), replied_count=replied_count
    )


async def _middle(
    session: AsyncSession,
    statement: sa.Select[Any],
    value: Any,
    count: int,
) -> float | None:
    """The median of ``value`` over ``statement``'s rows (``count`` of them): the middle one or
    two read in order from an index, as the reply wait's median is."""
    if count == 0:
        return None
    middle = (
        (
            await session.execute(
                statement.order_by(value).offset((count - 1) // 2).limit(2 - count % 2)
            )
        )
        .scalars()
        .all()
    )
    values = [v for v in middle if v is not None]
    return sum(values) / len(values) if values else None


async def close_waits(
    session: AsyncSession, filters: FlagFilters
) -> tuple[int, float | None, list[tuple[str, int, float | None]]]:
    """Ended reviews: how many, the median seconds from flag to end, and both by reason."""
    where = conditions(filters)
    wait = col(Flag.close_wait_seconds)
    stored = wait.is_not(None)
    counts = (
        await session.execute(
            sa.select(col(Flag.reason), sa.func.count())
            .where(*where, stored)
            .group_by(col(Flag.reason))
            .order_by(col(Flag.reason))
        )
    ).all()
    total = sum(count for _, count in counts)
    overall = await _middle(session, sa.select(wait).where(*where, stored), wait, total)
    by_reason = [
        (
            reason,
            count,
            await _middle(
                session,
                sa.select(wait).where(*where, stored, col(Flag.reason) == reason),
                wait,
                count,
            ),
        )
        for reason, count in counts
    ]
    return total, overall, by_reason


async def status_stays(
    session: AsyncSession, filters: FlagFilters
) -> list[tuple[str, int, float | None]]:
    """For each status left at least once: how many stays ended, and the median stay in
    seconds (from the stays stored on the status-change events of the matching flags)."""
    where = conditions(filters)
    stay = col(FlagEvent.status_seconds)
    status = col(FlagEvent.from_status)
    stays = sa.select(stay).select_from(FlagEvent).where(stay.is_not(None))
    if where or not scope_of(session).system_level:
        # Only the matching flags' stays: through the flag (where the organization scope adds
        # its criterion). Unfiltered, system-level reads skip that join: every stay counts,
        # read from ix_flag_event_status_seconds alone (5.4 s -> 0.6 s at a million flags,
        # bench/README.md).
        stays = stays.join(Flag, col(FlagEvent.flag_id) == col(Flag.id))
    counts = (
        await session.execute(
            stays.with_only_columns(status, sa.func.count()).where(*where).group_by(status)
        )
    ).all()
    return [
        (
            left,
            count,
            await _middle(
                session,
                stays.where(*where, status == left),
                stay,
                count,
            ),
        )
        for left, count in counts
        if left is not None
    ]
