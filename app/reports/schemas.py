"""What the transparency report and the shared totals return (JSON; CSV and PDF show the same
numbers, app.reports.formats)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, Field

from app.reports.suppression import THRESHOLD, Suppression


class Count(BaseModel):
    """A number of flags; ``count`` is null when it is suppressed (see ``suppression``)."""

    count: int | None
    suppressed: bool = False
    suppression: Suppression | None = Field(
        default=None,
        description="small_cell: fewer than 11 flags; complementary: hidden so that a small "
        "cell cannot be worked out from a total.",
    )

    @classmethod
    def of(cls, count: int, mark: Suppression | None) -> Count:
        if mark is None:
            return cls(count=count)
        return cls(count=None, suppressed=True, suppression=mark)


class Median(BaseModel):
    """Median hours; null when there is nothing to measure or fewer than 11 flags to measure."""

    hours: float | None
    suppressed: bool = False


class Row(BaseModel):
    """Flags of one service or reason, and the orders among them caught before they were done
    (accepted CDS cards). Costs are null when their count is suppressed."""

    key: str | None
    label: str
    flags: Count
    estimated_cost: Decimal | None
    caught_before: Count
    caught_before_estimated_cost: Decimal | None


class Action(BaseModel):
    """Where the flags' reviews stand: closed with an action, action under way, judged not
    low-value, duplicates, and still open."""

    key: str
    label: str
    flags: Count


class Totals(BaseModel):
    flags: Count = Field(description="Flags received in the period.")
    answered: Count = Field(description="Flags whose reporter had a first reply.")
    answered_share: float | None = Field(description="answered / flags; null when suppressed.")
    caught_before: Count = Field(description="Orders caught before they were done (CDS).")
    estimated_cost: Decimal | None = Field(description="Of the flagged orders, USD.")
    caught_before_estimated_cost: Decimal | None = Field(
        description="Of the orders caught before they were done, USD."
    )
    actions: list[Action]
    by_service: list[Row]
    by_reason: list[Row]


class Example(BaseModel):
    """ "You said, we did": a shareable reply on a closed flag, with its service and reason."""

    service: str
    reason: str
    reply: str
    closed_on: date | None


class OrganizationRef(BaseModel):
    code: str
    name: str


class TransparencySummary(BaseModel):
    """The report without money: what the in-EHR view may show clinicians."""

    date_from: date
    date_to: date
    organization: OrganizationRef | None
    flags: Count
    answered: Count
    answered_share: float | None
    caught_before: Count
    actions: list[Action]
    examples: list[Example]


class SharedTotals(Totals):
    """System-wide aggregates every organization's staff see: counts only, suppressed."""

    date_from: date
    date_to: date


class TransparencyReport(BaseModel):
    date_from: date
    date_to: date
    organization: OrganizationRef | None = Field(
        description="The organization reported on; null: every organization the caller sees."
    )
    suppression_threshold: int = THRESHOLD
    totals: Totals
    median_hours_to_first_reply: Median
    median_hours_to_close: Median
    examples: list[Example]
    across_the_system: SharedTotals
