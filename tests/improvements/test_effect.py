"""The effect of an improvement: the before and after windows at the go-live edge, the rate
ratio and its 95% interval against a hand computation, and "not enough data yet"."""

from __future__ import annotations

import math
from datetime import date

import pytest

from app.improvements.effect import MIN_AFTER_DAYS, MIN_EVENTS, Window, effect, windows

GO_LIVE = date(2026, 3, 1)


def test_before_is_the_84_days_ending_the_day_before_go_live():
    before, _ = windows(GO_LIVE, today=date(2026, 6, 1))

    assert before == Window(date(2025, 12, 7), date(2026, 2, 28))
    assert before.days == 84


def test_after_starts_on_go_live_day_and_stops_at_today_or_84_days():
    _, on_the_day = windows(GO_LIVE, today=GO_LIVE)
    _, a_week_in = windows(GO_LIVE, today=date(2026, 3, 7))
    _, long_after = windows(GO_LIVE, today=date(2026, 12, 1))

    assert (on_the_day.first, on_the_day.last, on_the_day.days) == (GO_LIVE, GO_LIVE, 1)
    assert a_week_in.days == 7
    assert long_after == Window(GO_LIVE, date(2026, 5, 23))
    assert long_after.days == 84


def test_before_go_live_the_after_window_is_empty():
    _, after = windows(GO_LIVE, today=date(2026, 2, 20))

    assert after.days == 0


def test_the_rate_ratio_and_its_interval_match_a_hand_computation():
    # 40 flags in 84 days before, 20 in 84 days after: the rate halved.
    # SE(ln RR) = sqrt(1/20 + 1/40) = sqrt(0.075) = 0.273861; 1.959964 * 0.273861 = 0.536758;
    # exp(-0.536758) = 0.584640, exp(0.536758) = 1.710453: the interval 0.292320 to 0.855226.
    found = effect(before_events=40, before_days=84, after_events=20, after_days=84)

    assert found.enough_data
    assert found.rate_ratio == pytest.approx(0.5)
    assert found.ci95 is not None
    low, high = found.ci95
    assert low == pytest.approx(0.292320, abs=1e-6)
    assert high == pytest.approx(0.855226, abs=1e-6)


def test_unequal_windows_compare_rates_per_day_not_counts():
    # 30 in 84 days before (0.357/day), 15 in 42 days after (0.357/day): no change.
    found = effect(before_events=30, before_days=84, after_events=15, after_days=42)

    assert found.rate_ratio == pytest.approx(1.0)
    assert found.ci95 is not None
    assert found.ci95[0] < 1 < found.ci95[1]
    assert math.log(found.ci95[1]) == pytest.approx(-math.log(found.ci95[0]))


@pytest.mark.parametrize(
    ("before", "after", "after_days"),
    [
        pytest.param(MIN_EVENTS - 1, 40, 84, id="too-few-before"),
        pytest.param(40, MIN_EVENTS - 1, 84, id="too-few-after"),
        pytest.param(40, 0, 84, id="none-after"),
        pytest.param(40, 40, MIN_AFTER_DAYS - 1, id="too-soon-after-go-live"),
    ],
)
def test_below_the_minimum_there_is_not_enough_data_and_no_ratio(before, after, after_days):
    found = effect(before_events=before, before_days=84, after_events=after, after_days=after_days)

    assert not found.enough_data
    assert (found.rate_ratio, found.ci95) == (None, None)
    assert (found.before_events, found.after_events) == (before, after)  # counts still shown


def test_at_the_minimum_there_is_enough_data():
    found = effect(
        before_events=MIN_EVENTS, before_days=84, after_events=MIN_EVENTS, after_days=MIN_AFTER_DAYS
    )

    assert found.enough_data
    assert found.rate_ratio == pytest.approx(84 / MIN_AFTER_DAYS)


def test_negative_counts_are_refused():
    with pytest.raises(ValueError, match="negative"):
        effect(before_events=-1, before_days=84, after_events=10, after_days=84)
