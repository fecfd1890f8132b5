"""Did it work? An improvement's effect measured from the registry, by the method of
app/improvements/effect.py (docs/effect-measurement.md):

- clinician flags on its target codes, per day, before and after the go-live date, with the
  Poisson rate ratio and its 95% interval, and the weekly counts for the run chart;
- where the CDS service evaluates orders of its rules or targets, rule hits (cards shown) per
  1,000 evaluated orders, before and after, from the daily counts (no patient data).
"""

from __future__ import annotations

import statistics
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.flags.costs import cents_to_amount
from app.improvements import counts, targets
from app.improvements import effect as method
from app.improvements.errors import NotLiveYet
from app.improvements.models import Improvement
from app.improvements.schemas import (
    EffectOut,
    RuleHits,
    RuleHitWindow,
    WeekPoint,
    WindowOut,
)
from app.kit.time import start_of_day, week_start

DAYS_A_YEAR = 365


def _window_out(window: method.Window, flags: int) -> WindowOut:
    return WindowOut(from_=window.first, to=window.last, days=window.days, flags=flags)


async def _flags_in(
    session: AsyncSession, improvement: Improvement, codes: list[counts.Code], w: method.Window
) -> counts.Tally:
    if w.days == 0:
        return counts.Tally()
    return await counts.flags_between(
        session,
        improvement.organization_id,
        codes,
        first=start_of_day(w.first),
        end=start_of_day(w.last + timedelta(days=1)),
    )


async def _weekly(
    session: AsyncSession,
    improvement: Improvement,
    codes: list[counts.Code],
    windows: tuple[method.Window, method.Window],
) -> list[WeekPoint]:
    """Flags per ISO week from the before window's first week to the after window's last
    (every week shown, zeros included: a run chart's gaps are data)."""
    before, after = windows
    last_day = after.last if after.days else before.last
    first_week, last_week = (
        week_start(start_of_day(before.first)),
        week_start(start_of_day(last_day)),
    )
    per_week = await counts.flags_per_week(
        session,
        improvement.organization_id,
        codes,
        first=start_of_day(first_week),
        end=start_of_day(last_week + timedelta(days=7)),
    )
    weeks = [first_week + timedelta(weeks=n) for n in range((last_week - first_week).days // 7 + 1)]
    return [WeekPoint(week=week, flags=per_week.get(week, 0)) for week in weeks]


def _median_before(weekly: list[WeekPoint], go_live: date) -> float | None:
    """The median of the whole weeks before go-live: the run chart's centre line."""
    whole = [point.flags for point in weekly if point.week + timedelta(days=6) < go_live]
    return float(statistics.median(whole)) if whole else None


async def _rule_hits(
    session: AsyncSession, improvement: Improvement, windows: tuple[method.Window, method.Window]
) -> RuleHits | None:
    explicit = [(target["system"], target["code"]) for target in improvement.targets]
    counted = [
        await counts.rule_counts(
            session,
            improvement.organization_id,
            rule_ids=improvement.rules,
            codes=explicit,
            first=window.first,
            last=window.last,
        )
        if window.days
        else (0, 0)
        for window in windows
    ]
    (before_evaluated, before_hits), (after_evaluated, after_hits) = counted
    if before_evaluated + after_evaluated == 0:
        return None
    found = method.per_exposure(
        before_hits, before_evaluated, after_hits, after_evaluated, windows[1].days
    )

    def window(evaluated: int, hits: int) -> RuleHitWindow:
        per_1000 = round(1000 * hits / evaluated, 2) if evaluated else None
        return RuleHitWindow(evaluated=evaluated, hits=hits, per_1000=per_1000)

    return RuleHits(
        before=window(before_evaluated, before_hits),
        after=window(after_evaluated, after_hits),
        rate_ratio=found.rate_ratio,
        ci95=list(found.ci95) if found.ci95 else None,
        enough_data=found.enough_data,
    )


async def measure(
    session: AsyncSession, improvement: Improvement, *, today: date, run_chart: bool = True
) -> EffectOut:
    """The improvement's effect as of ``today`` (UTC). Without ``run_chart`` the weekly
    counts (and their median) are left empty: a summary of many improvements (Insights) does
    not show them, and they are the costliest count."""
    if improvement.go_live is None:
        raise NotLiveYet(
            "This improvement has not gone live, so there is no before and after to compare "
            "yet; its effect is measured from the go-live date."
        )
    windows = method.windows(improvement.go_live, today)
    # The organization's codes are only needed to match its rules against.
    known = (
        await counts.order_codes(session, improvement.organization_id) if improvement.rules else []
    )
    codes = targets.codes_of(improvement, known)
    before = await _flags_in(session, improvement, codes, windows[0])
    after = await _flags_in(session, improvement, codes, windows[1])
    found = method.effect(before.flags, windows[0].days, after.flags, windows[1].days)
    weekly = await _weekly(session, improvement, codes, windows) if run_chart else []
    return EffectOut(
        go_live=improvement.go_live,
        before=_window_out(windows[0], before.flags),
        after=_window_out(windows[1], after.flags),
        annual_cost_at_stake=cents_to_amount(
            round(before.cost_cents * DAYS_A_YEAR / windows[0].days)
        ),
        rate_ratio=found.rate_ratio,
        ci95=list(found.ci95) if found.ci95 else None,
        enough_data=found.enough_data,
        min_events=method.MIN_EVENTS,
        min_after_days=method.MIN_AFTER_DAYS,
        rule_hits=await _rule_hits(session, improvement, windows),
        weekly=weekly,
        median_before=_median_before(weekly, improvement.go_live),
    )
