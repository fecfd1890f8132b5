"""SVG bar charts drawn on the server: a Pareto chart (bars and their running share) and plain
bars.

Drawn on the server so a page needs no charting library and prints as it shows. The SVG is
meant to be inlined into a page whose Content-Security-Policy forbids inline styles, so only
presentation attributes are used: no ``style``, no scripts, no external references. Labels may
be user-controlled data, so every text is escaped.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from html import escape

__all__ = ["Bar", "bar_chart", "nice_ticks", "pareto_chart"]

WIDTH = 720
PLOT_HEIGHT = 260
FONT_SIZE = 11
CHAR_WIDTH = FONT_SIZE * 0.62  # a generous average sans-serif glyph, for layout only
LABEL_CHARS = 28
LABEL_ANGLE = 55  # degrees; steep enough that a full-length label stays inside the left margin
MIN_LABEL_GAP = 22  # along the axis between rotated labels: more than a line of text apart
MAX_PARETO_BARS = 15
MAX_VALUE_LABELS = 20
BAR_FILL = "#1f4e79"
LINE_STROKE = "#b34700"
GRID_STROKE = "#d9d9d9"
INK = "#000000"
EMPTY_TEXT = "No data in this range"
# Characters XML 1.0 cannot carry even escaped; one in a label must not break the page.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

Format = Callable[[float], str]


@dataclass(frozen=True)
class Bar:
    """One category: ``value`` sets the height, ``value_text`` is how a reader sees it."""

    label: str
    value: float
    value_text: str
    key: str | None = None


def nice_ticks(maximum: float, *, integer: bool = False, target: int = 6) -> list[float]:
    """Ticks from 0 in 1-2-5 steps up to the first at or above ``maximum``: readable numbers.

    ``integer`` keeps the step at 1 or more, so a chart of counts never shows half a thing.
    """
    if maximum <= 0:
        return [0.0, 1.0]
    exponent = math.floor(math.log10(maximum / target))
    # Both decades, in case log10 rounding put the exponent one too low.
    candidates = [m * 10.0**e for e in (exponent, exponent + 1) for m in (1, 2, 5)]
    step = min(c for c in candidates if c >= maximum / target)
    if integer:
        step = max(step, 1.0)
    decimals = max(0, -exponent)
    return [round(i * step, decimals) for i in range(math.ceil(maximum / step - 1e-9) + 1)]


def pareto_chart(
    bars: Sequence[Bar],
    cumulative_shares: Sequence[float],
    *,
    title: str,
    value_axis: str,
    format_value: Format,
    empty_text: str = EMPTY_TEXT,
) -> str:
    """Bars in the caller's order with the running share (0..1) on a 0-100 % axis and an 80 % line.

    Beyond 15 bars the tail is folded into one "Other (N more)" bar, so the head stays legible.
    """
    if len(cumulative_shares) != len(bars):
        raise ValueError("pareto_chart needs one cumulative share per bar")
    shown, shares = list(bars), list(cumulative_shares)
    if len(bars) > MAX_PARETO_BARS:
        head, tail = shown[: MAX_PARETO_BARS - 1], shown[MAX_PARETO_BARS - 1 :]
        total = math.fsum(b.value for b in tail)
        shown = [*head, Bar(f"Other ({len(tail)} more)", total, format_value(total))]
        shares = [*shares[: MAX_PARETO_BARS - 1], shares[-1]]
    reach = next((i + 1 for i, s in enumerate(cumulative_shares) if s >= 0.8 - 1e-9), None)
    extra = f"; the first {reach} make up 80% of the total" if reach else ""
    chart = _Chart("pareto", shown, shares, title, value_axis, format_value)
    return _render(chart, extra, empty_text)


def bar_chart(
    bars: Sequence[Bar],
    *,
    title: str,
    value_axis: str,
    format_value: Format,
    empty_text: str = EMPTY_TEXT,
) -> str:
    """Plain bars (a trend, a histogram); axis labels thin out, never overlap."""
    chart = _Chart("bars", list(bars), None, title, value_axis, format_value)
    return _render(chart, "", empty_text)


@dataclass(frozen=True)
class _Chart:
    """What to draw: the bars, and for a Pareto chart the running share at each bar."""

    kind: str
    bars: list[Bar]
    shares: list[float] | None
    title: str
    value_axis: str
    format_value: Format


@dataclass(frozen=True)
class _Layout:
    """Where things go: margins, the slot each bar gets, and how labels and values fit."""

    left: float
    right: float
    slot: float
    top: float
    depth: float  # below the plot, for category labels
    every: int  # label every n-th bar
    horizontal: bool  # category labels fit upright, side by side
    show_values: bool
    upright_values: bool

    @property
    def bottom(self) -> float:
        return self.top + PLOT_HEIGHT

    def y_of(self, fraction: float) -> float:
        return self.bottom - max(0.0, min(fraction, 1.0)) * PLOT_HEIGHT


def _render(chart: _Chart, extra: str, empty_text: str) -> str:
    bars = chart.bars
    data = repr((chart.kind, chart.title, chart.value_axis, bars, chart.shares)).encode()
    chart_id = f"{chart.kind}-{hashlib.sha256(data).hexdigest()[:12]}"
    if not any(b.value > 0 for b in bars):
        empty = [_text(empty_text, WIDTH / 2, 64, "middle", cls="empty")]
        return _svg(chart_id, chart.title, f"{empty_text}.", 120, empty)
    largest = max(bars, key=lambda b: b.value)
    desc = f"{len(bars)} bars; largest: {largest.label} ({largest.value_text}){extra}."
    ticks = nice_ticks(largest.value, integer=all(float(b.value).is_integer() for b in bars))
    tick_texts = [chart.format_value(t) for t in ticks]
    labels = [_shorten(b.label) for b in bars]
    layout = _layout(chart, labels, tick_texts)
    parts = _value_axis(layout, chart.value_axis, ticks, tick_texts)
    parts += _bars(layout, bars, labels, ticks[-1])
    parts.append(_line(layout.left, layout.bottom, WIDTH - layout.right, layout.bottom, INK))
    if chart.shares is not None:
        parts += _cumulative(layout, bars, chart.shares)
    return _svg(chart_id, chart.title, desc, math.ceil(layout.bottom + layout.depth), parts)


def _layout(chart: _Chart, labels: list[str], tick_texts: list[str]) -> _Layout:
    """Margins wide enough for the tick texts and labels; labels slant when they do not fit."""
    bars = chart.bars
    longest = max(len(label) for label in labels) * CHAR_WIDTH
    right = 64 if chart.shares is not None else 24
    left = max(len(t) for t in tick_texts) * CHAR_WIDTH + 30
    slot = (WIDTH - left - right) / len(bars)
    horizontal = longest <= slot - 6
    if horizontal:
        every, depth = 1, FONT_SIZE + 14.0
    else:
        angle = math.radians(LABEL_ANGLE)
        every = math.ceil(MIN_LABEL_GAP / slot)
        left = max(left, longest * math.cos(angle) - slot / 2 + 6)
        depth = longest * math.sin(angle) + 20
    slot = (WIDTH - left - right) / len(bars)
    value_width = max(len(b.value_text) for b in bars) * CHAR_WIDTH
    show_values = len(bars) <= MAX_VALUE_LABELS
    upright_values = show_values and value_width > slot - 2
    top = 16 + (value_width if upright_values else FONT_SIZE + 6 if show_values else 0)
    return _Layout(left, right, slot, top, depth, every, horizontal, show_values, upright_values)


def _value_axis(
    layout: _Layout, title: str, ticks: list[float], tick_texts: list[str]
) -> list[str]:
    """The axis title and a grid line with its text at every tick."""
    parts = [_text(title, 14, layout.top + PLOT_HEIGHT / 2, "middle", rotate=-90)]
    for tick, text in zip(ticks, tick_texts, strict=True):
        y = layout.y_of(tick / ticks[-1])
        parts.append(_line(layout.left, y, WIDTH - layout.right, y, GRID_STROKE))
        parts.append(_text(text, layout.left - 6, y + 4, anchor="end"))
    return parts


def _bars(layout: _Layout, bars: list[Bar], labels: list[str], top_tick: float) -> list[str]:
    """Each bar with its value above it and (where there is room) its label below."""
    parts: list[str] = []
    bottom = layout.bottom
    for i, (bar, label) in enumerate(zip(bars, labels, strict=True)):
        x, width = layout.left + layout.slot * i + layout.slot * 0.15, max(layout.slot * 0.7, 1.0)
        y = layout.y_of(bar.value / top_tick)
        rect = {"class": "bar", "x": x, "y": y, "width": width, "height": bottom - y}
        parts.append(
            _tag(
                "rect",
                {**rect, "fill": BAR_FILL, "data-key": bar.key, "data-label": bar.label}
                | {"data-value": _number(bar.value)},
                _tag("title", {}, _clean(f"{bar.label}: {bar.value_text}")),
            )
        )
        centre = x + width / 2
        if layout.upright_values:
            parts.append(_text(bar.value_text, centre + 4, y - 4, rotate=-90, cls="value"))
        elif layout.show_values:
            parts.append(_text(bar.value_text, centre, y - 4, anchor="middle", cls="value"))
        if i % layout.every == 0:
            full = bar.label if label != bar.label else None
            if layout.horizontal:
                parts.append(_text(label, centre, bottom + 16, "middle", cls="category", full=full))
            else:
                parts.append(
                    _text(label, centre + 3, bottom + 10, "end", -LABEL_ANGLE, "category", full)
                )
    return parts


def _cumulative(layout: _Layout, bars: list[Bar], shares: list[float]) -> list[str]:
    """The 0-100 % axis on the right, the 80 % line, and the running share as a line of dots."""
    right, y_of = WIDTH - layout.right, layout.y_of
    parts = [_text(f"{pct}%", right + 6, y_of(pct / 100) + 4) for pct in range(0, 101, 20)]
    parts.append(_text("Cumulative share", WIDTH - 10, layout.top + PLOT_HEIGHT / 2, "middle", 90))
    parts.append(_line(layout.left, y_of(0.8), right, y_of(0.8), INK, dashed=True))
    points = [(layout.left + layout.slot * (i + 0.5), y_of(s)) for i, s in enumerate(shares)]
    parts.append(
        _tag(
            "polyline",
            {"class": "cumulative-line", "fill": "none", "stroke": LINE_STROKE}
            | {"stroke-width": 2, "points": " ".join(f"{x:.1f},{y:.1f}" for x, y in points)},
        )
    )
    for (x, y), share, bar in zip(points, shares, bars, strict=True):
        circle = {"class": "cumulative", "cx": x, "cy": y, "r": 4, "fill": LINE_STROKE}
        circle |= {"stroke": "#ffffff", "stroke-width": 1, "data-share": _number(share, 4)}
        note = f"{bar.label}: {share * 100:.1f}% cumulative"
        parts.append(_tag("circle", circle, _tag("title", {}, _clean(note))))
    return parts


def _svg(chart_id: str, title: str, desc: str, height: int, parts: list[str]) -> str:
    attrs = {"xmlns": "http://www.w3.org/2000/svg", "viewBox": f"0 0 {WIDTH} {height}"}
    attrs |= {"role": "img", "aria-labelledby": f"{chart_id}-title {chart_id}-desc"}
    attrs |= {"class": "chart", "font-family": "Helvetica, Arial, sans-serif"}
    head = _tag("title", {"id": f"{chart_id}-title"}, _clean(title))
    head += _tag("desc", {"id": f"{chart_id}-desc"}, _clean(desc))
    return _tag("svg", attrs | {"font-size": FONT_SIZE, "fill": INK}, head + "".join(parts))


def _text(
    text: str,
    x: float,
    y: float,
    anchor: str = "start",
    rotate: float = 0,
    cls: str | None = None,
    full: str | None = None,
) -> str:
    attrs: dict[str, object] = {"class": cls, "x": x, "y": y, "text-anchor": anchor}
    if rotate:
        attrs["transform"] = f"rotate({rotate:g} {x:.1f} {y:.1f})"
    title = _tag("title", {}, _clean(full)) if full else ""
    return _tag("text", attrs | {"fill": INK}, _clean(text) + title)


def _line(x1: float, y1: float, x2: float, y2: float, stroke: str, dashed: bool = False) -> str:
    attrs = {"x1": x1, "y1": y1, "x2": x2, "y2": y2, "stroke": stroke, "stroke-width": 1}
    return _tag("line", attrs | ({"stroke-dasharray": "6 4"} if dashed else {}))


def _tag(name: str, attrs: Mapping[str, object], body: str | None = None) -> str:
    """An element; attributes that are None are left out, numbers get one decimal at most."""
    written = "".join(
        f' {key}="{_clean(_attr(value))}"' for key, value in attrs.items() if value is not None
    )
    return f"<{name}{written}/>" if body is None else f"<{name}{written}>{body}</{name}>"


def _attr(value: object) -> str:
    return f"{value:.1f}".removesuffix(".0") if isinstance(value, float) else str(value)


def _clean(text: str) -> str:
    return escape(_NOT_XML.sub("", text), quote=True)


def _shorten(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1].rstrip() + "…"


def _number(value: float, decimals: int | None = None) -> str:
    """The exact value for data attributes: integers without ".0", floats by shortest repr."""
    value = float(value) if decimals is None else round(float(value), decimals)
    return str(int(value)) if value.is_integer() else repr(value)
