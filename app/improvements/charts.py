"""An improvement's run chart: its flags per week around go-live (app/kit/run_chart.py draws
it; this module says what goes on it)."""

from __future__ import annotations

from app.improvements.models import Improvement
from app.improvements.schemas import EffectOut
from app.kit.run_chart import WeekCount, run_chart

SVG_MEDIA_TYPE = "image/svg+xml"


def run_chart_of(improvement: Improvement, found: EffectOut) -> str:
    return run_chart(
        [WeekCount(week=point.week, count=point.flags) for point in found.weekly],
        go_live=found.go_live,
        median=found.median_before,
        title=f"Flags per week on the targets of “{improvement.title}”",
    )
