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
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.cds.models import CdsDailyCount
from app.db import dialect_name
from app.flags.models import Flag
from app.organizations.scope import shared_totals_options

Code = tuple[str, str]  # (system, code)


def _coded(system_column: Any, code_column: Any, codes: Sequence[Code]) -> sa.ColumnElement[bool]:
    """On one of ``codes``, written per system as ``system = s AND code IN (...)``: PostgreSQL
    then seeks each code in an index on (..., system, code, ...), where a plain OR of pairs
    made it read every code of the system (89 ms against 9 ms for two codes, bench/README.md)."""
    by_system: dict[str, list[str]] = {}
    for system, code in codes:
        by_system.setdefault(system, []).append(code)
    return sa.or_(
        *(
            sa.and_(system_column == system, code_column.in_(system_codes))
            for system, system_codes in by_system.items()
        )
    )


def _on_targets(
    organization_id: uuid.UUID, codes: Sequence[Code], first: datetime, end: datetime
) -> list[sa.ColumnElement[bool]]:
    """The organization's flags on ``codes`` created in [first, end)."""
    return [
        col(Flag.organization_id) == organization_id,
        col(Flag.created_at) >= first,
        col(Flag.created_at) < end,
        _coded(col(Flag.order_code_system), col(Flag.order_code), codes),
    ]


# PostgreSQL: the distinct (system, code) pairs of one organization's flags by skipping
# through ix_flag_organization_order_code (migration 0023), one index probe per pair, instead
# of reading the organization's every flag (a "loose index scan", as the filter choices do).
_PG_ORDER_CODES = sa.text(
    """
    WITH RECURSIVE found AS (
        (SELECT order_code_system, order_code FROM flag
         WHERE organization_id = :organization AND order_code_system IS NOT NULL
           AND order_code IS NOT NULL
         ORDER BY order_code_system, order_code LIMIT 1)
        UNION ALL
        SELECT next.order_code_system, next.order_code FROM found
        CROSS JOIN LATERAL (
            SELECT f.order_code_system, f.order_code FROM flag f
            WHERE f.organization_id = :organization AND f.order_code IS NOT NULL
              AND (f.order_code_system, f.order_code)
                  > (found.order_code_system, found.order_code)
            ORDER BY f.order_code_system, f.order_code LIMIT 1
        ) AS next
    )
    SELECT order_code_system, order_code FROM found
    """
)


async def order_codes(session: AsyncSession, organization_id: uuid.UUID) -> list[Code]:
    """Every (system, code) the organization's flags carry: what its rules are matched on."""
    if dialect_name(session) == "postgresql":
        # Raw SQL, which the organization scope refuses on a staff member's session: it names
        # the organization itself, the improvement's, which is the reader's own (or the reader
        # sees every organization), and it returns codes, never flags.
        result = await session.execute(
            _PG_ORDER_CODES,
            {"organization": organization_id},
            execution_options=shared_totals_options(),
        )
        return [(str(system), str(code)) for system, code in result.all()]
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
            _coded(col(CdsDailyCount.order_code_system), col(CdsDailyCount.order_code), codes)
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
