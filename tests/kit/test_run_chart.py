"""The run chart, read back as XML: a point per week, the median on the axis scale, the go-live
line in its week, escaping, CSP safety."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET
from datetime import date, timedelta

import pytest

from app.kit.charts import EMPTY_TEXT
from app.kit.run_chart import WeekCount, run_chart

SVG = "{http://www.w3.org/2000/svg}"
XML_ID = re.compile(r"^[A-Za-z_][\w.-]*$")
FIRST = date(2026, 1, 5)  # a Monday
GO_LIVE = date(2026, 3, 30)  # the Monday of week 12 (counting from 0)


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # noqa: S314 - our own output, built in this test
    assert root.tag == f"{SVG}svg"
    return root


def weeks(counts: list[int], first: date = FIRST) -> list[WeekCount]:
    return [WeekCount(first + timedelta(weeks=i), c) for i, c in enumerate(counts)]


def eighteen() -> list[WeekCount]:
    """12 weeks before go-live and 6 after, falling from around 5 to around 2."""
    return weeks([5, 4, 6, 3, 5, 4, 7, 5, 4, 3, 5, 6, 3, 2, 1, 2, 3, 2])


def chart(
    given: list[WeekCount],
    *,
    go_live: date | None = GO_LIVE,
    median: float | None = 4.5,
    value_label: str = "Flags per week",
) -> ET.Element:
    return parse(
        run_chart(given, go_live=go_live, median=median, title="t", value_label=value_label)
    )


def points_of(root: ET.Element) -> list[ET.Element]:
    return [e for e in root.iter(f"{SVG}circle") if e.get("class") == "point"]


def group(root: ET.Element, cls: str) -> ET.Element | None:
    return next((g for g in root.iter(f"{SVG}g") if g.get("class") == cls), None)


def title_of(element: ET.Element) -> str:
    title = element.find(f"{SVG}title")
    assert title is not None
    return title.text or ""


def number(element: ET.Element, name: str) -> float:
    return float(element.get(name, "nan"))


def axis_scale(root: ET.Element) -> tuple[float, float, float]:
    """(y of 0, y of the top tick, the top tick's value), read from the value axis's tick texts
    (they sit 4 below their grid line)."""
    ticks = {
        int(t.text or ""): number(t, "y") - 4
        for t in root.iter(f"{SVG}text")
        if t.get("class") is None and t.get("text-anchor") == "end"
    }
    top = max(ticks)
    assert sorted(ticks) == list(range(0, top + 1, top // (len(ticks) - 1)))
    return ticks[0], ticks[top], top


def go_live_x(root: ET.Element) -> float:
    found = group(root, "go-live")
    assert found is not None
    line = found.find(f"{SVG}line")
    assert line is not None
    assert line.get("stroke-dasharray")
    assert number(line, "x1") == number(line, "x2")
    return number(line, "x1")


def test_each_week_gets_one_point_titled_with_its_date_and_count() -> None:
    given = eighteen()
    root = chart(given)

    points = points_of(root)
    assert [title_of(p) for p in points] == [
        f"Week of {w.week.isoformat()}: {w.count} flag{'' if w.count == 1 else 's'}" for w in given
    ]
    assert title_of(points[0]) == "Week of 2026-01-05: 5 flags"
    assert title_of(points[14]) == "Week of 2026-04-13: 1 flag"
    xs = [number(p, "cx") for p in points]
    assert xs == sorted(xs)
    assert len(set(xs)) == len(xs)


def test_points_sit_at_their_count_on_the_axis_scale_and_the_line_joins_them() -> None:
    given = eighteen()
    root = chart(given)

    zero, top_y, top = axis_scale(root)
    points = points_of(root)
    for point, week in zip(points, given, strict=True):
        assert number(point, "cy") == pytest.approx(
            zero + (top_y - zero) * week.count / top, abs=0.1
        )
    (line,) = [e for e in root.iter(f"{SVG}polyline") if e.get("class") == "run-line"]
    joined = [tuple(map(float, xy.split(","))) for xy in line.get("points", "").split()]
    assert joined == [(number(p, "cx"), number(p, "cy")) for p in points]


def test_weeks_are_drawn_in_date_order_whatever_order_they_come_in() -> None:
    given = eighteen()
    root = chart(list(reversed(given)))

    assert [p.get("data-week") for p in points_of(root)] == [w.week.isoformat() for w in given]


@pytest.mark.parametrize("median", [4.5, 3.0, 7.0, 0.0])
def test_the_median_line_sits_at_the_median_on_the_axis_scale(median: float) -> None:
    root = chart(eighteen(), median=median)

    zero, top_y, top = axis_scale(root)
    found = group(root, "median")
    assert found is not None
    line = found.find(f"{SVG}line")
    assert line is not None
    assert number(line, "y1") == number(line, "y2")
    assert number(line, "y1") == pytest.approx(zero + (top_y - zero) * median / top, abs=0.1)
    label = found.find(f"{SVG}text")
    assert label is not None
    assert label.text == f"Median before: {median:g}"


def test_the_median_line_lies_between_points_below_and_above_it() -> None:
    root = chart(weeks([2, 4, 6]), median=4.5, go_live=None)

    (low, mid, high), found = points_of(root), group(root, "median")
    assert found is not None
    line = found.find(f"{SVG}line")
    assert line is not None
    y = number(line, "y1")  # y grows downwards
    assert number(high, "cy") < y < number(mid, "cy") < number(low, "cy")


def test_no_median_line_without_a_median() -> None:
    root = chart(eighteen(), median=None)

    assert group(root, "median") is None
    assert "Median" not in run_chart(eighteen(), go_live=GO_LIVE, median=None, title="t")


@pytest.mark.parametrize("day", range(7), ids=["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"])
def test_the_go_live_line_sits_in_the_week_of_go_live(day: int) -> None:
    go_live = GO_LIVE + timedelta(days=day)
    root = chart(eighteen(), go_live=go_live)

    points = points_of(root)
    week_before, week_of = number(points[11], "cx"), number(points[12], "cx")
    assert week_before < go_live_x(root) < week_of
    found = group(root, "go-live")
    assert found is not None
    label = found.find(f"{SVG}text")
    assert label is not None
    assert label.text == f"Go-live {go_live.isoformat()}"


def test_a_later_go_live_day_moves_the_line_right() -> None:
    xs = [go_live_x(chart(eighteen(), go_live=GO_LIVE + timedelta(days=d))) for d in range(7)]

    assert xs == sorted(xs)
    assert len(set(xs)) == 7


def test_a_go_live_in_the_first_week_is_drawn_at_or_before_its_point() -> None:
    root = chart(eighteen(), go_live=FIRST + timedelta(days=2))

    assert number(points_of(root)[0], "cx") > go_live_x(root) > 0


@pytest.mark.parametrize(
    "go_live",
    [None, FIRST - timedelta(days=1), FIRST + timedelta(weeks=18), date(2030, 1, 1)],
    ids=["none", "day before the first week", "day after the last week", "years later"],
)
def test_no_go_live_line_when_go_live_is_none_or_outside_the_weeks(go_live: date | None) -> None:
    root = chart(eighteen(), go_live=go_live)

    assert group(root, "go-live") is None
    assert not [e for e in root.iter() if e.get("stroke-dasharray")]
    assert len(points_of(root)) == 18


def test_desc_summarises_the_weeks_the_median_and_the_last_week_for_screen_readers() -> None:
    root = chart(eighteen())
    desc = root.find(f"{SVG}desc")
    assert desc is not None
    assert desc.text == (
        "Weeks of 2026-01-05 to 2026-05-04: 12 weeks before and 6 after go-live on 2026-03-30; "
        "median before 4.5 a week; last week 2."
    )

    mid_week = chart(eighteen(), go_live=GO_LIVE + timedelta(days=3), median=None)
    desc = mid_week.find(f"{SVG}desc")
    assert desc is not None
    assert desc.text == (
        "Weeks of 2026-01-05 to 2026-05-04: 12 weeks before and 6 after go-live on 2026-04-02; "
        "last week 2."
    )

    no_go_live = chart(weeks([1]), go_live=None, median=None)
    desc = no_go_live.find(f"{SVG}desc")
    assert desc is not None
    assert desc.text == "Weeks of 2026-01-05 to 2026-01-05: 1 week; last week 1."


def test_the_value_label_titles_the_axis() -> None:
    root = chart(eighteen(), value_label="Rule hits per week")
    default = chart(eighteen())

    assert "Rule hits per week" in [t.text for t in root.iter(f"{SVG}text")]
    assert "Flags per week" in [t.text for t in default.iter(f"{SVG}text")]


def test_counts_get_whole_number_ticks() -> None:
    root = chart(weeks([1, 0, 1, 1]), median=1.0)

    zero, top_y, top = axis_scale(root)
    assert top == 1
    assert top_y < zero


def test_week_labels_are_short_dates_thinned_so_they_never_overlap() -> None:
    given = weeks([i % 5 for i in range(60)], first=date(2025, 12, 1))
    root = chart(given, go_live=None)

    labels = [t for t in root.iter(f"{SVG}text") if t.get("class") == "week"]
    assert 5 <= len(labels) <= 12
    assert labels[0].text == "Dec 1"
    assert title_of(labels[0]) == "2025-12-01"
    assert all(re.fullmatch(r"[A-Z][a-z]{2} \d{1,2}", t.text or "") for t in labels)
    xs = [number(t, "x") for t in labels]
    gaps = [b - a for a, b in itertools.pairwise(xs)]
    assert max(gaps) - min(gaps) < 0.2  # evenly thinned (coordinates are rounded to 0.1)
    assert min(gaps) > len("Dec 29") * 11 * 0.62  # wider than the longest label


def test_a_few_weeks_label_every_week() -> None:
    root = chart(weeks([1, 2, 3]), go_live=None)

    labels = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "week"]
    assert labels == ["Jan 5", "Jan 12", "Jan 19"]


def test_a_title_with_script_and_control_characters_is_escaped_and_cleaned() -> None:
    svg = run_chart(
        eighteen(),
        go_live=GO_LIVE,
        median=4.5,
        title="<script>alert(1)</script>\x00\x1b &",
        value_label="Flags\x0b <b>per</b> week",
    )

    assert "<script" not in svg
    assert "<b>" not in svg
    root = parse(svg)
    assert not list(root.iter(f"{SVG}script"))
    assert title_of(root) == "<script>alert(1)</script> &"
    assert "Flags <b>per</b> week" in [t.text for t in root.iter(f"{SVG}text")]


@pytest.mark.parametrize(
    "svg",
    [
        run_chart(eighteen(), go_live=GO_LIVE, median=4.5, title="full"),
        run_chart(eighteen(), go_live=None, median=None, title="bare"),
        run_chart(weeks([0] * 5), go_live=FIRST, median=0.0, title="zeros"),
        run_chart([], go_live=GO_LIVE, median=4.5, title="empty"),
    ],
    ids=["full", "bare", "zeros", "empty"],
)
def test_run_charts_need_no_inline_style_script_or_external_reference(svg: str) -> None:
    root = parse(svg)

    assert root.get("role") == "img"
    assert root.get("class") == "chart"
    for element in root.iter():
        assert element.tag.removeprefix(SVG) not in {"style", "script", "image", "use", "a"}
        assert "style" not in element.attrib
        assert not any("href" in name or name.startswith("on") for name in element.attrib)
        if "font-size" in element.attrib:
            assert float(element.attrib["font-size"]) >= 11
    assert "url(" not in svg


def test_chart_ids_are_valid_unique_between_charts_and_deterministic() -> None:
    first = run_chart(eighteen(), go_live=GO_LIVE, median=4.5, title="A")
    again = run_chart(eighteen(), go_live=GO_LIVE, median=4.5, title="A")
    moved = run_chart(eighteen(), go_live=GO_LIVE + timedelta(weeks=1), median=4.5, title="A")

    assert first == again
    ids: list[str] = []
    for svg in (first, moved):
        root = parse(svg)
        found = [e.get("id", "") for e in root.iter() if e.get("id")]
        assert all(XML_ID.match(i) for i in found)
        assert root.get("aria-labelledby", "").split() == found
        assert [root.find(f"{SVG}title"), root.find(f"{SVG}desc")] == [
            next(e for e in root.iter() if e.get("id") == i) for i in found
        ]
        ids.extend(found)
    assert len(ids) == len(set(ids)) == 4


def test_no_weeks_show_the_empty_text() -> None:
    root = parse(run_chart([], go_live=GO_LIVE, median=4.5, title="Weekly"))

    assert [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "empty"] == [EMPTY_TEXT]
    assert title_of(root) == "Weekly"
    desc = root.find(f"{SVG}desc")
    assert desc is not None
    assert desc.text == f"{EMPTY_TEXT}."
    assert not points_of(root)
    assert group(root, "median") is None
    assert group(root, "go-live") is None


def test_weeks_of_zero_are_data_not_an_empty_chart() -> None:
    root = chart(weeks([0, 0, 0]), go_live=FIRST + timedelta(weeks=1), median=0.0)

    assert not [t for t in root.iter(f"{SVG}text") if t.get("class") == "empty"]
    assert [title_of(p) for p in points_of(root)] == [
        f"Week of {(FIRST + timedelta(weeks=i)).isoformat()}: 0 flags" for i in range(3)
    ]
    assert group(root, "go-live") is not None
