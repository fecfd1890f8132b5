"""An SVG run chart of weekly counts, as quality improvement reads a change: one point a week
joined by a line, the median of the weeks before the change, and a dashed line at go-live.

Drawn on the server with the conventions of :mod:`app.kit.charts` (and its helpers, so both
charts escape, clean and lay out text the same way): presentation attributes only, no
``style``, no scripts, no external references, every text escaped, so the SVG can be inlined
into a page whose Content-Security-Policy forbids inline styles.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from app.kit.charts import (
    BAR_FILL,
    CHAR_WIDTH,
    EMPTY_TEXT,
    FONT_SIZE,
    INK,
    LINE_STROKE,
    WIDTH,
    _clean,
    _Layout,
    _line,
    _number,
    _svg,
    _tag,
    _text,
    _value_axis,
    nice_ticks,
)

__all__ = ["WeekCount", "run_chart"]

MAX_WEEK_LABELS = 12
WEEK_LABEL_GAP = 8  # between upright week labels, so neighbours never touch
RIGHT_MARGIN = 24
# Room above the plot for the go-live label.
TOP = 16 + FONT_SIZE + 6
# Fixed, not strftime's %b: a server locale must not change the chart.
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_WEEK = timedelta(days=7)


@dataclass(frozen=True)
class WeekCount:
    """One ISO week: ``week`` is its Monday, ``count`` what happened in it."""

    week: date
    count: int


def run_chart(
    weeks: Sequence[WeekCount],
    *,
    go_live: date | None,
    median: float | None,
    title: str,
    value_label: str = "Flags per week",
) -> str:
    """The run chart as an SVG string, weeks in date order.

    ``median`` is the caller's centre line (the median of the whole weeks before go-live); None
    draws none. The go-live line is drawn only when ``go_live`` falls within the weeks shown: a
    line pinned to an edge would claim a date the chart does not cover.
    """
    shown = sorted(weeks, key=lambda w: w.week)
    data = repr(("run", title, value_label, shown, go_live, median)).encode()
    chart_id = f"run-{hashlib.sha256(data).hexdigest()[:12]}"
    if not shown:
        empty = [_text(EMPTY_TEXT, WIDTH / 2, 64, "middle", cls="empty")]
        return _svg(chart_id, title, f"{EMPTY_TEXT}.", 120, empty)
    centre = median if median is not None and math.isfinite(median) else None
    ticks = nice_ticks(max(max(w.count for w in shown), centre or 0), integer=True)
    tick_texts = [_number(t) for t in ticks]
    layout = _layout(shown, tick_texts)
    parts = _value_axis(layout, value_label, ticks, tick_texts)
    parts += _week_labels(layout, shown)
    parts.append(_line(layout.left, layout.bottom, WIDTH - layout.right, layout.bottom, INK))
    if centre is not None:
        parts += _median_line(layout, centre, ticks[-1])
    if go_live is not None:
        parts += _go_live_line(layout, shown, go_live)
    parts += _points(layout, shown, ticks[-1])
    height = math.ceil(layout.bottom + layout.depth)
    return _svg(chart_id, title, _describe(shown, go_live, centre), height, parts)


def _layout(weeks: list[WeekCount], tick_texts: list[str]) -> _Layout:
    """charts' layout, so the value axis is drawn by the same code: one slot a week, upright
    week labels thinned to at most a dozen and never closer than their own width."""
    left = max(len(t) for t in tick_texts) * CHAR_WIDTH + 30
    slot = (WIDTH - left - RIGHT_MARGIN) / len(weeks)
    label_width = max(len(_short_date(w.week)) for w in weeks) * CHAR_WIDTH + WEEK_LABEL_GAP
    every = max(math.ceil(len(weeks) / MAX_WEEK_LABELS), math.ceil(label_width / slot))
    depth = FONT_SIZE + 14.0
    return _Layout(left, RIGHT_MARGIN, slot, TOP, depth, every, True, False, False)


def _centre_x(layout: _Layout, index: int) -> float:
    return layout.left + layout.slot * (index + 0.5)


def _week_labels(layout: _Layout, weeks: list[WeekCount]) -> list[str]:
    """Every n-th week's short date under its point; the full date shows on hover."""
    parts: list[str] = []
    for i, week in enumerate(weeks[:: layout.every]):
        x, full = _centre_x(layout, i * layout.every), week.week.isoformat()
        parts.append(
            _text(_short_date(week.week), x, layout.bottom + 16, "middle", 0, "week", full)
        )
    return parts


def _points(layout: _Layout, weeks: list[WeekCount], top_tick: float) -> list[str]:
    """The line joining the weeks, then a dot per week whose title reads out its count."""
    points = [(_centre_x(layout, i), layout.y_of(w.count / top_tick)) for i, w in enumerate(weeks)]
    line = {"class": "run-line", "fill": "none", "stroke": BAR_FILL, "stroke-width": 2}
    parts = [_tag("polyline", line | {"points": " ".join(f"{x:.1f},{y:.1f}" for x, y in points)})]
    for (x, y), week in zip(points, weeks, strict=True):
        circle = {"class": "point", "cx": x, "cy": y, "r": 3.5, "fill": BAR_FILL}
        circle |= {"stroke": "#ffffff", "stroke-width": 1}
        circle |= {"data-week": week.week.isoformat(), "data-count": week.count}
        note = f"Week of {week.week.isoformat()}: {_plural(week.count, 'flag')}"
        parts.append(_tag("circle", circle, _tag("title", {}, _clean(note))))
    return parts


def _median_line(layout: _Layout, median: float, top_tick: float) -> list[str]:
    """The centre line across the plot, labelled at its right end; below the line when above
    it would run into the go-live label over the plot."""
    y = layout.y_of(median / top_tick)
    right = WIDTH - layout.right
    label_y = y - 4 if y - FONT_SIZE - 4 >= layout.top else y + FONT_SIZE + 2
    label = _text(
        f"Median before: {_number(median, 2)}", right - 4, label_y, "end", 0, "median-label"
    )
    body = _line(layout.left, y, right, y, LINE_STROKE) + label
    return [_tag("g", {"class": "median", "data-median": _number(median, 2)}, body)]


def _go_live_line(layout: _Layout, weeks: list[WeekCount], go_live: date) -> list[str]:
    """A dashed line from the top of the plot to the axis, labelled with the date above it,
    on the side of the line with more room."""
    x = _go_live_x(layout, weeks, go_live)
    if x is None:
        return []
    right = WIDTH - layout.right
    left_side = x > (layout.left + right) / 2
    label = _text(
        f"Go-live {go_live.isoformat()}",
        x - 4 if left_side else x + 4,
        layout.top - 6,
        "end" if left_side else "start",
        cls="go-live-label",
    )
    body = _line(x, layout.top, x, layout.bottom, INK, dashed=True) + label
    return [_tag("g", {"class": "go-live", "data-go-live": go_live.isoformat()}, body)]


def _go_live_x(layout: _Layout, weeks: list[WeekCount], go_live: date) -> float | None:
    """Where go-live falls, or None outside the weeks shown.

    The go-live week is not a whole week before the change (the median leaves it out), so the
    line stays left of its point: from the slot's left edge for a Monday go-live, moving right
    with the day of the week, up to just short of the point for a Sunday.
    """
    if not weeks[0].week <= go_live < weeks[-1].week + _WEEK:
        return None
    index = next(i for i, w in enumerate(weeks) if go_live < w.week + _WEEK)
    day = min(max((go_live - weeks[index].week).days, 0), 6)  # 0 when go-live is in a gap
    return layout.left + layout.slot * (index + day / 14)


def _describe(weeks: list[WeekCount], go_live: date | None, median: float | None) -> str:
    """The chart in words for a screen reader: the span, the split at go-live, the centre line
    and where the count is now."""
    span = f"Weeks of {weeks[0].week.isoformat()} to {weeks[-1].week.isoformat()}: "
    if go_live is None:
        span += _plural(len(weeks), "week")
    else:
        before = sum(1 for w in weeks if w.week + timedelta(days=6) < go_live)
        span += f"{_plural(before, 'week')} before and {len(weeks) - before} after go-live"
        span += f" on {go_live.isoformat()}"
    centre = f"; median before {_number(median, 2)} a week" if median is not None else ""
    return f"{span}{centre}; last week {weeks[-1].count}."


def _short_date(day: date) -> str:
    return f"{_MONTHS[day.month - 1]} {day.day}"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
