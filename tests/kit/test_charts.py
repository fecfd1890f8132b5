"""SVG charts, read back as XML: bar values, folding, the cumulative line, escaping, CSP safety."""

from __future__ import annotations

import itertools
import math
import re
import xml.etree.ElementTree as ET
from datetime import date, timedelta

import pytest

from app.kit.charts import Bar, bar_chart, nice_ticks, pareto_chart

SVG = "{http://www.w3.org/2000/svg}"
XML_ID = re.compile(r"^[A-Za-z_][\w.-]*$")


def count(value: float) -> str:
    return f"{value:,.0f}"


def dollars(value: float) -> str:
    return f"${value:,.2f}"


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # noqa: S314 - our own output, built in this test
    assert root.tag == f"{SVG}svg"
    return root


def bars_of(root: ET.Element) -> list[ET.Element]:
    return [e for e in root.iter(f"{SVG}rect") if e.get("class") == "bar"]


def texts_of(root: ET.Element, cls: str) -> list[ET.Element]:
    return [e for e in root.iter(f"{SVG}text") if e.get("class") == cls]


def title_of(element: ET.Element) -> str:
    title = element.find(f"{SVG}title")
    assert title is not None
    return title.text or ""


def departments(n: int) -> tuple[list[Bar], list[float]]:
    """``n`` bars with counts n, n-1, ... 1 and their running shares, as statistics.py gives."""
    values = list(range(n, 0, -1))
    total, running, shares = sum(values), 0, []
    for v in values:
        running += v
        shares.append(round(running / total, 4))
    return [Bar(f"Department {i}", v, count(v), key=f"d{i}") for i, v in enumerate(values)], shares


def weeks(n: int) -> list[Bar]:
    start = date(2025, 1, 6)
    return [
        Bar((start + timedelta(weeks=i)).isoformat(), i % 7, count(i % 7), key=f"w{i}")
        for i in range(n)
    ]


def test_bar_chart_writes_each_value_exactly_on_its_bar() -> None:
    given = [
        Bar("Lipid panel", 1234, "1,234", key="cpt|80061"),
        Bar("Vitamin D", 12340.5, "$12,340.50"),
        Bar("Chest X-ray", 0.1 + 0.2, "0.3"),
    ]
    root = parse(bar_chart(given, title="Flags", value_axis="Flags", format_value=count))

    rects = bars_of(root)
    assert [r.get("data-value") for r in rects] == ["1234", "12340.5", "0.30000000000000004"]
    assert [r.get("data-label") for r in rects] == ["Lipid panel", "Vitamin D", "Chest X-ray"]
    assert [r.get("data-key") for r in rects] == ["cpt|80061", None, None]
    assert [title_of(r) for r in rects] == [
        "Lipid panel: 1,234",
        "Vitamin D: $12,340.50",
        "Chest X-ray: 0.3",
    ]
    assert [t.text for t in texts_of(root, "value")] == ["1,234", "$12,340.50", "0.3"]


def test_taller_values_draw_taller_bars() -> None:
    given = [Bar("a", 10, "10"), Bar("b", 5, "5"), Bar("c", 0, "0")]
    rects = bars_of(parse(bar_chart(given, title="t", value_axis="Flags", format_value=count)))

    heights = [float(r.get("height", "nan")) for r in rects]
    assert heights[0] == pytest.approx(2 * heights[1])
    assert heights[2] == 0


def test_pareto_keeps_up_to_fifteen_bars_as_given() -> None:
    given, shares = departments(15)
    root = parse(
        pareto_chart(given, shares, title="By department", value_axis="Flags", format_value=count)
    )

    assert [r.get("data-label") for r in bars_of(root)] == [b.label for b in given]
    circles = [c for c in root.iter(f"{SVG}circle") if c.get("class") == "cumulative"]
    assert [float(c.get("data-share", "nan")) for c in circles] == shares


def test_pareto_folds_bars_beyond_fifteen_into_other() -> None:
    given, shares = departments(20)
    root = parse(
        pareto_chart(given, shares, title="By department", value_axis="Flags", format_value=count)
    )

    rects = bars_of(root)
    assert len(rects) == 15
    assert [r.get("data-value") for r in rects[:14]] == [str(b.value) for b in given[:14]]
    other = rects[-1]
    assert other.get("data-label") == "Other (6 more)"
    assert other.get("data-value") == str(6 + 5 + 4 + 3 + 2 + 1)
    assert other.get("data-key") is None
    assert title_of(other) == "Other (6 more): 21"


def test_pareto_draws_one_cumulative_point_per_bar_ending_at_the_last_share() -> None:
    given, shares = departments(20)
    root = parse(
        pareto_chart(given, shares, title="By department", value_axis="Flags", format_value=count)
    )

    circles = [c for c in root.iter(f"{SVG}circle") if c.get("class") == "cumulative"]
    assert [c.get("data-share") for c in circles] == [
        *(format(s, "g") for s in shares[:14]),
        "1",
    ]
    assert all(title_of(c).endswith("% cumulative") for c in circles)
    ys = [float(c.get("cy", "nan")) for c in circles]
    assert ys == sorted(ys, reverse=True)  # rising on screen: y grows downwards
    assert len([e for e in root.iter() if e.get("stroke-dasharray")]) == 1  # the 80 % line


def test_pareto_desc_names_the_largest_bar_and_the_eighty_percent_point() -> None:
    given = [Bar("Imaging", 60, "60"), Bar("Lab", 25, "25"), Bar("Drugs", 15, "15")]
    root = parse(
        pareto_chart(given, [0.6, 0.85, 1.0], title="t", value_axis="Flags", format_value=count)
    )

    desc = root.find(f"{SVG}desc")
    assert desc is not None
    assert desc.text == "3 bars; largest: Imaging (60); the first 2 make up 80% of the total."


def test_pareto_rejects_a_share_count_that_does_not_match_the_bars() -> None:
    given, shares = departments(3)
    with pytest.raises(ValueError, match="one cumulative share per bar"):
        pareto_chart(given, shares[:2], title="t", value_axis="Flags", format_value=count)


def test_labels_from_user_data_are_escaped() -> None:
    nasty = ["<script>alert(1)</script>", "\"&'", "Ward ]]> <!-- x"]
    given = [Bar(label, 3 - i, str(3 - i), key=label) for i, label in enumerate(nasty)]
    svgs = [
        pareto_chart(given, [0.5, 0.8, 1.0], title="<b>&", value_axis="'\"", format_value=count),
        bar_chart(given, title="<b>&", value_axis="'\"", format_value=count),
    ]

    for svg in svgs:
        assert "<script" not in svg
        root = parse(svg)
        assert not list(root.iter(f"{SVG}script"))
        rects = bars_of(root)
        assert [r.get("data-label") for r in rects] == nasty
        assert [r.get("data-key") for r in rects] == nasty
        assert [title_of(r) for r in rects] == [
            f"{label}: {3 - i}" for i, label in enumerate(nasty)
        ]
        assert title_of(root) == "<b>&"


def test_control_characters_in_labels_do_not_break_the_xml() -> None:
    given = [Bar("Ward\x00 7\x1b", 1, "1")]
    root = parse(bar_chart(given, title="t", value_axis="Flags", format_value=count))

    assert bars_of(root)[0].get("data-label") == "Ward 7"


def test_chart_ids_are_valid_unique_between_charts_and_deterministic() -> None:
    one, one_shares = departments(4)
    two, two_shares = departments(5)
    first = pareto_chart(one, one_shares, title="A", value_axis="Flags", format_value=count)
    again = pareto_chart(one, one_shares, title="A", value_axis="Flags", format_value=count)
    other = pareto_chart(two, two_shares, title="A", value_axis="Flags", format_value=count)
    trend = bar_chart(one, title="A", value_axis="Flags", format_value=count)

    assert first == again
    ids: list[str] = []
    for svg in (first, other, trend):
        root = parse(svg)
        found = [e.get("id", "") for e in root.iter() if e.get("id")]
        assert all(XML_ID.match(i) for i in found)
        assert root.get("aria-labelledby", "").split() == found
        assert [root.find(f"{SVG}title"), root.find(f"{SVG}desc")] == [
            next(e for e in root.iter() if e.get("id") == i) for i in found
        ]
        ids.extend(found)
    assert len(ids) == len(set(ids)) == 6


@pytest.mark.parametrize(
    "svg",
    [
        pareto_chart(*departments(20), title="p", value_axis="Flags", format_value=count),
        bar_chart(weeks(60), title="w", value_axis="Flags", format_value=count),
        bar_chart(departments(6)[0], title="h", value_axis="Flags", format_value=dollars),
        bar_chart([], title="e", value_axis="Flags", format_value=count),
    ],
    ids=["pareto", "weeks", "histogram", "empty"],
)
def test_charts_need_no_inline_style_script_or_external_reference(svg: str) -> None:
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


@pytest.mark.parametrize(
    "given", [[], [Bar("Lab", 0, "0"), Bar("Imaging", 0, "0")]], ids=["no bars", "all zero"]
)
def test_empty_data_says_no_flags_in_this_range(given: list[Bar]) -> None:
    empty = "No flags in this range"
    for svg in (
        bar_chart(given, title="Weekly", value_axis="Flags", format_value=count, empty_text=empty),
        pareto_chart(
            given,
            [0.0] * len(given),
            title="Weekly",
            value_axis="Flags",
            format_value=count,
            empty_text=empty,
        ),
    ):
        root = parse(svg)
        assert [t.text for t in texts_of(root, "empty")] == ["No flags in this range"]
        assert title_of(root) == "Weekly"
        assert root.find(f"{SVG}desc") is not None
        assert not bars_of(root)


def test_sixty_weeks_label_every_kth_week_but_title_every_bar() -> None:
    given = weeks(60)
    root = parse(bar_chart(given, title="Weekly", value_axis="Flags", format_value=count))

    rects = bars_of(root)
    assert [title_of(r) for r in rects] == [f"{b.label}: {b.value_text}" for b in given]
    labels = texts_of(root, "category")
    assert 6 <= len(labels) <= 30
    assert labels[0].text == given[0].label
    xs = [float(t.get("x", "nan")) for t in labels]
    gaps = [b - a for a, b in itertools.pairwise(xs)]
    assert max(gaps) - min(gaps) < 0.2  # evenly thinned (coordinates are rounded to 0.1)
    assert min(gaps) >= 11 * 1.5  # more than a line of 11-unit text apart
    assert not texts_of(root, "value")  # too many bars for value labels


def test_a_few_buckets_label_every_bar_and_value() -> None:
    names = ["< 1 hour", "1-4 hours", "4-24 hours", "1-3 days", "3-7 days", "> 7 days"]
    given = [Bar(name, v, count(v)) for name, v in zip(names, [3, 8, 12, 5, 2, 1], strict=True)]
    root = parse(bar_chart(given, title="Reply time", value_axis="Flags", format_value=count))

    assert [t.text for t in texts_of(root, "category")] == names
    assert [t.text for t in texts_of(root, "value")] == ["3", "8", "12", "5", "2", "1"]


def test_long_labels_are_shortened_on_the_axis_but_kept_whole_in_titles() -> None:
    label = "Vitamin D 25-hydroxy assay, total, serum or plasma"
    root = parse(bar_chart([Bar(label, 4, "4")], title="t", value_axis="Flags", format_value=count))

    (axis_label,) = texts_of(root, "category")
    assert axis_label.text is not None
    assert len(axis_label.text) == 28
    assert axis_label.text.endswith("…")
    assert title_of(axis_label) == label
    assert title_of(bars_of(root)[0]) == f"{label}: 4"


def test_value_axis_ticks_use_the_callers_format() -> None:
    given = [Bar("Imaging", 12340.5, "$12,340.50")]
    root = parse(bar_chart(given, title="t", value_axis="Cost", format_value=dollars))

    tick_texts = {t.text for t in root.iter(f"{SVG}text") if t.get("class") is None}
    assert {"$0.00", "$5,000.00", "$10,000.00", "$15,000.00"} <= tick_texts


@pytest.mark.parametrize("maximum", [0.3, 1, 3, 7, 12, 105, 999, 1000, 12340.5, 987654])
def test_nice_ticks_step_by_one_two_or_five_and_cover_the_maximum(maximum: float) -> None:
    ticks = nice_ticks(maximum)

    steps = {round(b - a, 9) for a, b in itertools.pairwise(ticks)}
    assert len(steps) == 1
    (step,) = steps
    mantissa = step / 10 ** math.floor(math.log10(step))
    assert round(mantissa, 9) in {1, 2, 5}
    assert ticks[0] == 0
    assert ticks[-1] >= maximum > ticks[-2]
    assert 3 <= len(ticks) <= 8


def test_nice_ticks_for_counts_never_step_below_one() -> None:
    assert nice_ticks(1, integer=True) == [0, 1]
    assert nice_ticks(3, integer=True) == [0, 1, 2, 3]
    assert nice_ticks(0.3) == [0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3]
