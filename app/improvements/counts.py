"""The counts an improvement's effect is measured from (app/improvements/measurement.py):
flags on its target codes by window and by week, and the CDS service's daily counts of its
rules. Counts only, of the improvement's own organization (named in every query, so a
system-level reader measures the right one).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.cds.models import CdsDailyCount
from app.flags.models import Flag

Code = tuple[str, str]  # (system, code)


def _on_targets(
    organization_id: uuid.UUID, codes: Sequence[Code], first: datetime, end: datetime
) -> list[sa.ColumnElement[bool]]:
    """The organization's flags on ``codes`` created in [first, end)."""
    return [
        col(Flag.organization_id) == organization_id,
        col(Flag.created_at) >= first,
        col(Flag.created_at) < end,
        sa.or_(
            *(
                sa.and_(col(Flag.order_code_system) == system, col(Flag.order_code) == code)
                for system, code in codes
            )
        ),
    ]


async def order_codes(session: AsyncSession, organization_id: uuid.UUID) -> list[Code]:
    """Every (system, code) the organization's flags carry: what its rules are matched on."""
    statement = (
        select(col(Flag.order_code_system), col(Flag.order_code))
        .where(
            col(Flag.organization_id) == organization_id,
            col(Flag.order_code_system).is_not(None),
            col(Flag.order_code).is_not(None),
        )
        .distinct()
    )
    return [(str(system), str(code)) for system, code in (await session.execute(statement)).all()]


async def flags_per_week(
    session: AsyncSession,
    organization_id: uuid.UUID,
    codes: Sequence[Code],
    *,
    first: datetime,
    end: datetime,
) -> dict[date, int]:
    """Flags of the organization on ``codes`` created in [first, end), per ISO week (Monday)."""
    if not codes:
        return {}
    statement = (
        select(col(Flag.created_week), sa.func.count())
        .select_from(Flag)
        .where(*_on_targets(organization_id, codes, first, end))
        .group_by(col(Flag.created_week))
    )
    return {week: int(count) for week, count in (await session.execute(statement)).all()}


@dataclass(frozen=True)
class Tally:
    """Flags counted, and the estimated cost of their orders (flags without a price add 0)."""

    flags: int = 0
    cost_cents: int = 0


async def flags_between(
    session: AsyncSession,
    organization_id: uuid.UUID,
    codes: Sequence[Code],
    *,
    first: datetime,
    end: datetime,
) -> Tally:
    """Flags of the organization on ``codes`` created in [first, end), and their cost."""
    if not codes or end <= first:
        return Tally()
    statement = (
        select(sa.func.count(), sa.func.coalesce(sa.func.sum(col(Flag.estimated_cost_cents)), 0))
        .select_from(Flag)
        .where(*_on_targets(organization_id, codes, first, end))
    )
    count, cents = (await session.execute(statement)).one()
    return Tally(int(count), int(cents or 0))


async def rule_counts(
    session: AsyncSession,
    organization_id: uuid.UUID,
    *,
    rule_ids: Sequence[str],
    codes: Sequence[Code],
    first: date,
    last: date,
) -> tuple[int, int]:
    """(orders evaluated, cards shown) by the CDS service for the organization between the
    days ``first`` and ``last`` (both included), for ``rule_ids`` (any, when empty) and, when
    ``codes`` are given, those order codes only."""
    conditions = [
        col(CdsDailyCount.organization_id) == organization_id,
        col(CdsDailyCount.day) >= first,
        col(CdsDailyCount.day) <= last,
    ]
    if rule_ids:
        conditions.append(col(CdsDailyCount.rule_id).in_(list(rule_ids)))
    if codes:
        conditions.append(
            sa.or_(
                *(
                    sa.and_(
                        col(CdsDailyCount.order_code_system) == system,
                        col(CdsDailyCount.order_code) == code,
                    )
                    for system, code in codes
                )
            )
        )
    statement = (
        select(
            sa.func.coalesce(sa.func.sum(col(CdsDailyCount.evaluated)), 0),
            sa.func.coalesce(sa.func.sum(col(CdsDailyCount.shown)), 0),
        )
        .select_from(CdsDailyCount)
        .where(*conditions)
    )
    evaluated, shown = (await session.execute(statement)).one()
    return int(evaluated), int(shown)
