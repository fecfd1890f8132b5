"""Did it work? The rate of an improvement's target before and after its go-live date, and
their ratio with a 95% confidence interval.

The method (``docs/effect-measurement.md`` gives its assumptions):

- **Windows.** Before: the 84 days (12 weeks) that end the day before go-live. After:
  go-live through today, at most 84 days. Whole UTC days; go-live day counts as after (the
  change was live on it).
- **Rate.** Events (clinician flags on the target codes, or rule hits) per day of the window.
- **Rate ratio** after / before, with the 95% confidence interval of a ratio of two Poisson
  rates on the log scale (Rothman and Greenland, Modern Epidemiology, 3rd ed., ch. 14):
  ``exp(ln RR +/- 1.96 * sqrt(1/a + 1/b))`` for event counts ``a`` (after) and ``b`` (before).
- **"Not enough data yet"** below :data:`MIN_EVENTS` events in either window or
  :data:`MIN_AFTER_DAYS` days after go-live: the interval of so few events is too wide to act
  on, and a zero count has no ratio at all. The counts are still shown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

WINDOW_DAYS = 84
MIN_EVENTS = 10
MIN_AFTER_DAYS = 28
_Z95 = 1.959963984540054  # the standard normal's 97.5th percentile


@dataclass(frozen=True)
class Window:
    """Whole UTC days ``first`` to ``last``, both inclusive, and what happened in them."""

    first: date
    last: date

    @property
    def days(self) -> int:
        return max(0, (self.last - self.first).days + 1)


def windows(go_live: date, today: date) -> tuple[Window, Window]:
    """(before, after) around ``go_live``; ``after`` is empty (0 days) before go-live."""
    before = Window(go_live - timedelta(days=WINDOW_DAYS), go_live - timedelta(days=1))
    last_after = min(today, go_live + timedelta(days=WINDOW_DAYS - 1))
    return before, Window(go_live, last_after)


@dataclass(frozen=True)
class Effect:
    """``rate_ratio`` and ``ci95`` are None when there is not enough data for them."""

    before_events: int
    before_days: int
    after_events: int
    after_days: int
    rate_ratio: float | None
    ci95: tuple[float, float] | None
    enough_data: bool


def effect(before_events: int, before_days: int, after_events: int, after_days: int) -> Effect:
    """The after / before rate ratio of two event counts over their windows' days."""
    return per_exposure(before_events, before_days, after_events, after_days, after_days)


def per_exposure(
    before_events: int,
    before_exposure: int,
    after_events: int,
    after_exposure: int,
    after_days: int,
) -> Effect:
    """The after / before ratio of two event counts per unit of exposure: days for a rate per
    day, evaluated orders for rule hits per order. ``after_days`` is the after window's length
    (the "not enough data" rule reads it whatever the exposure is)."""
    if min(before_events, after_events, before_exposure, after_exposure, after_days) < 0:
        raise ValueError("event counts, exposures and days cannot be negative")
    enough = (
        before_events >= MIN_EVENTS
        and after_events >= MIN_EVENTS
        and after_days >= MIN_AFTER_DAYS
        and before_exposure > 0
        and after_exposure > 0
    )
    if not enough:
        return Effect(
            before_events, before_exposure, after_events, after_exposure, None, None, False
        )
    ratio = (after_events / after_exposure) / (before_events / before_exposure)
    spread = _Z95 * math.sqrt(1 / after_events + 1 / before_events)
    interval = (ratio * math.exp(-spread), ratio * math.exp(spread))
    return Effect(
        before_events, before_exposure, after_events, after_exposure, ratio, interval, True
    )
