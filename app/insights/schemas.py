"""What the statistics return over HTTP (as JSON; formats.py draws the same data as CSV or SVG)."""

from __future__ import annotations

import uuid
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


class OverrideReasonCount(BaseModel):
    """How many cards were overridden with one reason: the reason's code and ValueLoop's own
    display of it, never the user's comment (free text may hold PHI)."""

    code: str | None = Field(description="A urn:valueloop:cds-override-reason code; null: none.")
    label: str
    count: int


class CdsRuleRow(BaseModel):
    rule_id: str
    title: str
    source_title: str
    source_url: str
    evaluated: int = Field(description="Draft orders whose code the rule's order clause matched.")
    shown: int = Field(description="Cards given.")
    accepted: int = Field(description="Cards accepted (each card's first outcome, once).")
    overridden: int = Field(description="Cards overridden (each card's first outcome, once).")
    acceptance_rate: float | None = Field(
        description="accepted / shown (a card without feedback counts as not accepted); "
        "null when no card was shown."
    )
    override_reasons: list[OverrideReasonCount]
    clinician_flags: int = Field(
        description="Flags clinicians raised, in the period, on orders whose code is in the "
        "rule's code set."
    )
    catches: int = Field(
        description="'Caught before' flags, created in the period, from this rule's cards."
    )


class CdsRules(BaseModel):
    """The CDS rules' hits beside the flags clinicians raised on the orders they cover.

    Counts (evaluated, shown, accepted, overridden, override reasons) are by the day the card
    was shown (UTC); flags and catches by the day they were created."""

    date_from: date | None
    date_to: date | None
    rules: list[CdsRuleRow]


class CdsDay(BaseModel):
    day: date
    evaluated: int
    shown: int
    accepted: int
    overridden: int


class CdsDaily(BaseModel):
    """The CDS counts per day, for one rule and one order code when asked: zero on a day
    without any (a change to an order set shows as a step in this series)."""

    date_from: date | None
    date_to: date | None
    rule_id: str | None
    order_code: str | None = Field(description="'system|code' or 'code', as asked.")
    days: list[CdsDay]


class ImprovementRow(BaseModel):
    id: uuid.UUID
    title: str
    kind: str
    go_live: date
    flags_resolved: int = Field(description="Flags linked to the improvement.")
    annual_cost_at_stake: Decimal = Field(
        description="A year of the flagged orders on its targets at the rate before go-live."
    )
    before_flags: int
    after_flags: int
    rate_ratio: float | None = Field(description="Flags per day after / before go-live.")
    ci95: list[float] | None
    enough_data: bool


class ImprovementsLive(BaseModel):
    """Improvement work that went live in the period, and what it changed."""

    date_from: date | None
    date_to: date | None
    live: int
    flags_resolved: int
    annual_cost_at_stake: Decimal
    improvements: list[ImprovementRow]
