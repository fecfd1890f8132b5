"""The transparency report as CSV, and the words and numbers its PDF shows.

Both are drawn from the one suppressed report (app.reports.transparency): a suppressed count is
"fewer than 11" (or "suppressed" when it was hidden to protect another cell), and its cost is
never shown.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from decimal import Decimal
from enum import StrEnum

from app.insights.export import neutralise_formula
from app.reports.schemas import Count, Median, Row, Totals, TransparencyReport
from app.reports.suppression import THRESHOLD, Suppression


class ReportFormat(StrEnum):
    JSON = "json"
    CSV = "csv"
    PDF = "pdf"


CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
PDF_MEDIA_TYPE = "application/pdf"
FEWER = f"fewer than {THRESHOLD}"
HIDDEN = "suppressed"
NOT_MEASURED = "not measured"
THIS_REPORT = "This report"
ACROSS = "Across the system"
EXAMPLES = "You said, we did"

# (section, item, measure, value): one number (or quote) of the report per line.
Line = tuple[str, str, str, str]


def count_text(count: Count) -> str:
    if count.count is not None:
        return str(count.count)
    return FEWER if count.suppression is Suppression.SMALL_CELL else HIDDEN


def money_text(amount: Decimal | None) -> str:
    return HIDDEN if amount is None else f"{amount:.2f}"


def share_text(share: float | None, count: Count) -> str:
    if share is None:
        return HIDDEN if count.suppressed else NOT_MEASURED
    return f"{share * 100:.1f}%"


def median_text(median: Median) -> str:
    if median.hours is None:
        return FEWER if median.suppressed else NOT_MEASURED
    return f"{median.hours:.2f}"


def _row_lines(section: str, row: Row) -> Iterator[Line]:
    yield section, row.label, "flags", count_text(row.flags)
    yield section, row.label, "estimated_cost", money_text(row.estimated_cost)
    yield section, row.label, "caught_before", count_text(row.caught_before)
    yield (
        section,
        row.label,
        "caught_before_estimated_cost",
        money_text(row.caught_before_estimated_cost),
    )


def totals_lines(section: str, totals: Totals) -> Iterator[Line]:
    yield section, "Flags received", "flags", count_text(totals.flags)
    yield section, "Answered (first reply)", "flags", count_text(totals.answered)
    yield (
        section,
        "Answered (first reply)",
        "share",
        share_text(totals.answered_share, totals.answered),
    )
    yield section, "Caught before the order was done", "flags", count_text(totals.caught_before)
    yield section, "Estimated cost of the flagged orders", "usd", money_text(totals.estimated_cost)
    yield (
        section,
        "Estimated cost of the orders caught before",
        "usd",
        money_text(totals.caught_before_estimated_cost),
    )
    for action in totals.actions:
        yield f"{section}: actions", action.label, "flags", count_text(action.flags)
    for row in totals.by_service:
        yield from _row_lines(f"{section}: by service", row)
    for row in totals.by_reason:
        yield from _row_lines(f"{section}: by reason", row)


def lines(report: TransparencyReport) -> Iterator[Line]:
    yield from totals_lines(THIS_REPORT, report.totals)
    reply, close = report.median_hours_to_first_reply, report.median_hours_to_close
    yield THIS_REPORT, "Median hours to first reply", "hours", median_text(reply)
    yield THIS_REPORT, "Median hours to close", "hours", median_text(close)
    for example in report.examples:
        yield EXAMPLES, f"{example.service} ({example.reason})", "reply", example.reply
    yield from totals_lines(ACROSS, report.across_the_system)


def as_csv(found: Iterator[Line]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["section", "item", "measure", "value"])
    for line in found:
        # Labels and quotes are user data: no formulas in a spreadsheet.
        writer.writerow([neutralise_formula(value) for value in line])
    return buffer.getvalue()
