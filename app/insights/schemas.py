"""What the statistics return over HTTP (as JSON; formats.py draws the same data as CSV or SVG)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, Field

from app.flags.workflow import Status


class BreakdownRow(BaseModel):
    key: str | None
    label: str
    count: int
    estimated_cost: Decimal
    share: float = Field(description="This row's share of all flags in the range.")
    cumulative_share: float = Field(description="Running share down the sorted rows (Pareto).")


class Breakdown(BaseModel):
    by: str
    sort: str
    date_from: date | None
    date_to: date | None
    total_count: int
    total_estimated_cost: Decimal
    rows: list[BreakdownRow]


class WeekRow(BaseModel):
    week_start: date
    count: int
    estimated_cost: Decimal


class WeeklyTrend(BaseModel):
    date_from: date | None
    date_to: date | None
    weeks: list[WeekRow]


class LoopStats(BaseModel):
    date_from: date | None
    date_to: date | None
    flags: int
    replied: int
    identifiable_flags: int = Field(description="Flags whose reporter can be answered directly.")
    identifiable_replied: int
    closed_loop_rate: float | None = Field(
        description="Share of identifiable reporters' flags that received a reply."
    )
    median_hours_to_first_reply: float | None


class StatusCount(BaseModel):
    status: Status
    label: str
    count: int


class Outcomes(BaseModel):
    date_from: date | None
    date_to: date | None
    by_status: list[StatusCount]
    ended: int = Field(description="Flags whose review ended (closed, not low-value, duplicate).")
    closed_with_action: int = Field(description="Flags closed after an action was taken.")
    closed_with_action_share: float | None = Field(
        description="closed_with_action / ended; null when no review has ended."
    )


class ReplyTimeBucket(BaseModel):
    key: str
    label: str
    count: int


class ReplyTimes(BaseModel):
    date_from: date | None
    date_to: date | None
    buckets: list[ReplyTimeBucket]
    median_hours: float | None


class ReasonCloseTime(BaseModel):
    reason: str
    label: str
    closed: int
    median_hours: float | None


class CloseTimes(BaseModel):
    """Time from flag to the end of its review (closed, not low-value or duplicate)."""

    date_from: date | None
    date_to: date | None
    closed: int = Field(description="Flags whose review has ended (and not been reopened).")
    median_hours: float | None
    by_reason: list[ReasonCloseTime]


class StatusStay(BaseModel):
    status: Status
    label: str
    stays: int = Field(description="How many times a flag left this status.")
    median_hours: float | None = Field(description="Median time spent in the status per stay.")


class CycleTime(BaseModel):
    """Time spent in each status of the workflow, from the timeline's status changes."""

    date_from: date | None
    date_to: date | None
    statuses: list[StatusStay]
