"""Caught at ordering: each CDS rule's hits (orders evaluated, cards shown, accepted,
overridden with their reasons) beside the flags clinicians raised on the orders it covers, and
the catches its accepted cards made; and the daily series that shows whether a change to an
order set worked.

A clinician flag sits beside a rule when its order is of a type the rule reads and its code is
in the rule's code set at any date (lowvalue's own matching, so a retired code such as
ICD-10-CM M54.5 still counts for flags from before it changed). Two rules that share codes
both show the flag: the columns compare a rule with the flags on its orders, they are not
shares of one total.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

import lowvalue
from app.cds import repository as cds
from app.errors import UnprocessableContent
from app.flags.filters import FlagFilters, conditions
from app.insights import repository
from app.insights.schemas import CdsDaily, CdsDay, CdsRuleRow, CdsRules, OverrideReasonCount
from app.insights.statistics import IN_FLIGHT, filters_key
from app.kit.time import utcnow
from lowvalue.codes import Coding

MAX_SERIES_DAYS = 3660  # ten years of daily rows
NO_REASON = "No reason given"


def _covers(
    rule: lowvalue.Rule, resource_type: str, system: str | None, code: str, today: date
) -> bool:
    if resource_type not in rule.order.resource_types:
        return False
    # match() falls back to a code out of force on the date, so any date finds any version.
    return rule.order.codes.match([Coding(system, code)], today) is not None


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


async def _by_rule(session: AsyncSession, period: FlagFilters) -> CdsRules:
    first, last = period.created_from, period.created_to
    counts = await cds.counts_by_rule(session, first, last)
    reasons: dict[str, list[OverrideReasonCount]] = {}
    for rule_id, code, display, count in await cds.override_reasons(session, first, last):
        label = display or code or NO_REASON
        reasons.setdefault(rule_id, []).append(
            OverrideReasonCount(code=code, label=label, count=count)
        )
    catches = await cds.catches_by_rule(session, conditions(period))
    flagged = await repository.clinician_flags_by_order_code(session, period)
    today = utcnow().date()
    rows: list[CdsRuleRow] = []
    for rule in lowvalue.default_catalog().rules:
        hits = counts.get(rule.id, cds.RuleCounts())
        source = rule.sources[0]
        rows.append(
            CdsRuleRow(
                rule_id=rule.id,
                title=rule.title,
                source_title=source.title,
                source_url=source.url,
                evaluated=hits.evaluated,
                shown=hits.shown,
                accepted=hits.accepted,
                overridden=hits.overridden,
                acceptance_rate=_rate(hits.accepted, hits.shown),
                override_reasons=sorted(
                    reasons.get(rule.id, []), key=lambda r: (-r.count, r.code or "~")
                ),
                clinician_flags=sum(
                    count
                    for kind, system, code, count in flagged
                    if _covers(rule, kind, system, code, today)
                ),
                catches=catches.get(rule.id, 0),
            )
        )
    rows.sort(key=lambda r: (-r.shown, -r.evaluated, -r.clinician_flags, r.rule_id))
    return CdsRules(date_from=first, date_to=last, rules=rows)


def _known_rule(rule_id: str | None) -> None:
    if rule_id is None:
        return
    try:
        lowvalue.default_catalog().rule(rule_id)
    except lowvalue.LowValueError:
        raise UnprocessableContent(
            f"The catalog has no rule {rule_id!r}; GET /api/v1/stats/cds lists them."
        ) from None


async def _daily(session: AsyncSession, filters: FlagFilters, rule_id: str | None) -> CdsDaily:
    """Every day of the period (from the first to the last counted day when open-ended)."""
    _known_rule(rule_id)
    found = await cds.counts_by_day(
        session,
        filters.created_from,
        filters.created_to,
        rule_id=rule_id,
        order_system=filters.order_system,
        order_code=filters.order_code,
    )
    first = filters.created_from or (min(found) if found else None)
    last = filters.created_to or (max(found) if found else None)
    days: list[CdsDay] = []
    if first is not None and last is not None:
        count_of_days = (last - first).days + 1
        if count_of_days > MAX_SERIES_DAYS:
            raise UnprocessableContent(
                f"The daily series covers at most {MAX_SERIES_DAYS} days (ten years); "
                f"{first} to {last} is {count_of_days}. Narrow created_from and created_to."
            )
        empty = cds.RuleCounts()
        for number in range(count_of_days):
            day = first + timedelta(days=number)
            hits = found.get(day, empty)
            days.append(
                CdsDay(
                    day=day,
                    evaluated=hits.evaluated,
                    shown=hits.shown,
                    accepted=hits.accepted,
                    overridden=hits.overridden,
                )
            )
    code = filters.order_code
    token = f"{filters.order_system}|{code}" if filters.order_system and code else code
    return CdsDaily(
        date_from=filters.created_from,
        date_to=filters.created_to,
        rule_id=rule_id,
        order_code=token,
        days=days,
    )


async def by_rule(session: AsyncSession, period: FlagFilters) -> CdsRules:
    return await IN_FLIGHT.run(
        ("cds", filters_key(session, period)), lambda: _by_rule(session, period)
    )


async def daily(session: AsyncSession, filters: FlagFilters, rule_id: str | None) -> CdsDaily:
    return await IN_FLIGHT.run(
        ("cds_daily", rule_id, filters_key(session, filters)),
        lambda: _daily(session, filters, rule_id),
    )
