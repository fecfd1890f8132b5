"""Every query behind the transparency report.

Each runs on the caller's session, so it is limited to the caller's organization
(app.organizations.scope), except with ``shared=True``: the system-wide aggregates every
organization sees, which leave the server only as suppressed counts (app.reports.transparency).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from app.cds.models import CardFeedback
from app.flags.filters import FlagFilters, conditions
from app.flags.models import EventKind, Flag, FlagEvent
from app.flags.workflow import Status
from app.organizations.scope import shared_totals_options

# Reply events read for examples at most (the newest closed flags' first).
EXAMPLE_CANDIDATES = 500


def where(first: date, last: date, organization_id: Any) -> list[ColumnElement[bool]]:
    """Flags created from ``first`` to ``last`` (whole UTC days), of one organization if given."""
    return conditions(
        FlagFilters(created_from=first, created_to=last, organization=organization_id)
    )


def _options(shared: bool) -> dict[str, Any]:
    return shared_totals_options() if shared else {}


# A catch: a flag an accepted CDS card made (the Insights page tells them apart the same way).
# Summed as CASE rather than an aggregate FILTER: a subquery in FILTER is not portable.
_CAUGHT = sa.exists().where(col(CardFeedback.flag_id) == col(Flag.id))
_COST = sa.func.coalesce(col(Flag.estimated_cost_cents), 0)


def _sum(value: Any) -> ColumnElement[Any]:
    return sa.func.coalesce(sa.func.sum(value), 0)


@dataclass(frozen=True)
class Group:
    key: tuple[str | None, ...]
    label: str | None
    flags: int
    answered: int
    cost_cents: int
    caught: int
    caught_cost_cents: int


async def groups(
    session: AsyncSession, by: str, where: Sequence[ColumnElement[bool]], *, shared: bool
) -> list[Group]:
    """Flags grouped by ``service`` (code system and code) or ``reason``."""
    keys: list[Any] = (
        [col(Flag.order_code_system), col(Flag.order_code)]
        if by == "service"
        else [col(Flag.reason)]
    )
    label = sa.func.max(col(Flag.order_display)) if by == "service" else sa.null()
    statement = (
        sa.select(
            *keys,
            label,
            sa.func.count(),
            sa.func.count(col(Flag.first_reply_at)),
            _sum(_COST),
            _sum(sa.case((_CAUGHT, 1), else_=0)),
            _sum(sa.case((_CAUGHT, _COST), else_=0)),
        )
        .select_from(Flag)
        .where(*where)
        .group_by(*keys)
        .execution_options(**_options(shared))
    )
    width = len(keys)
    return [
        Group(tuple(row[:width]), row[width], *(int(value) for value in row[width + 1 :]))
        for row in (await session.execute(statement)).all()
    ]


async def by_status(
    session: AsyncSession, where: Sequence[ColumnElement[bool]], *, shared: bool
) -> dict[str, int]:
    statement = (
        sa.select(col(Flag.status), sa.func.count())
        .where(*where)
        .group_by(col(Flag.status))
        .execution_options(**_options(shared))
    )
    return {row[0]: row[1] for row in (await session.execute(statement)).all()}


async def median(
    session: AsyncSession, value: Any, where: Sequence[ColumnElement[bool]]
) -> tuple[int, float | None]:
    """How many flags have ``value`` (a stored wait in seconds), and its median: the middle one
    or two read in order, as the statistics read theirs."""
    measured = [*where, value.is_not(None)]
    count = (
        await session.execute(sa.select(sa.func.count()).select_from(Flag).where(*measured))
    ).scalar_one()
    if not count:
        return 0, None
    middle = (
        await session.scalars(
            sa.select(value)
            .where(*measured)
            .order_by(value)
            .offset((count - 1) // 2)
            .limit(2 - count % 2)
        )
    ).all()
    return count, sum(middle) / len(middle)


async def closed_flag_replies(
    session: AsyncSession, where: Sequence[ColumnElement[bool]]
) -> list[tuple[FlagEvent, Flag]]:
    """Replies on closed flags, newest closed flag first (the caller keeps the shareable)."""
    statement = (
        sa.select(FlagEvent, Flag)
        .join(Flag, col(Flag.id) == col(FlagEvent.flag_id))
        .where(
            *where, col(Flag.status) == Status.CLOSED.value, col(FlagEvent.kind) == EventKind.REPLY
        )
        .order_by(col(Flag.closed_at).desc(), col(Flag.id), col(FlagEvent.id).desc())
        .limit(EXAMPLE_CANDIDATES)
    )
    return [(row[0], row[1]) for row in (await session.execute(statement)).all()]
