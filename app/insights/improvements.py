"""Insights on improvement work: the improvements that went live in the period, the flags they
resolved, the estimated yearly cost at stake and each one's measured change (its effect as
app/improvements/measurement.py measures it: the same numbers as its own page)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from app.flags.filters import FlagFilters
from app.improvements import repository
from app.improvements.measurement import measure
from app.insights.schemas import ImprovementRow, ImprovementsLive

# Before the first improvement anyone could have made: the lower end of an open period.
_EARLIEST = date(2000, 1, 1)


async def live_in_period(
    session: AsyncSession, period: FlagFilters, *, today: date
) -> ImprovementsLive:
    """Improvements whose go-live date falls in the period (the caller's organization's for
    its staff: the session is scoped)."""
    found = await repository.live_between(
        session,
        first=period.created_from or _EARLIEST,
        last=period.created_to or today,
    )
    stakes = await repository.at_stake(session, [improvement.id for improvement in found])
    rows: list[ImprovementRow] = []
    for improvement in found:
        effect = await measure(session, improvement, today=today, run_chart=False)
        stake = stakes.get(improvement.id, repository.AtStake())
        rows.append(
            ImprovementRow(
                id=improvement.id,
                title=improvement.title,
                kind=improvement.kind,
                go_live=effect.go_live,
                flags_resolved=stake.flags,
                annual_cost_at_stake=effect.annual_cost_at_stake,
                before_flags=effect.before.flags,
                after_flags=effect.after.flags,
                rate_ratio=effect.rate_ratio,
                ci95=effect.ci95,
                enough_data=effect.enough_data,
            )
        )
    return ImprovementsLive(
        date_from=period.created_from,
        date_to=period.created_to,
        live=len(rows),
        flags_resolved=sum(row.flags_resolved for row in rows),
        annual_cost_at_stake=sum((row.annual_cost_at_stake for row in rows), Decimal("0.00")),
        improvements=rows,
    )
