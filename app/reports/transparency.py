"""The transparency report: for a period and an organization (or every organization the caller
sees), what was flagged, how the loop closed, what was done and what it was estimated to cost,
with "you said, we did" examples, and the system-wide totals every organization shares.

Every count of flags goes through small-cell suppression (app.reports.suppression) before it
leaves: JSON, CSV and PDF are built from what this module returns, never from raw counts.
About systems, never people: nothing here is broken down by clinician, and the examples carry
no names.

``summary`` is the report without money, for the in-EHR clinician view.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from app.flags.catalog import REASON_LABELS, Reason
from app.flags.costs import cents_to_amount
from app.flags.models import Flag
from app.flags.workflow import Status
from app.organizations import repository as organization_rows
from app.organizations import service as organizations
from app.organizations.models import Organization
from app.reports import repository
from app.reports.examples import examples
from app.reports.repository import Group
from app.reports.schemas import (
    Action,
    Count,
    Median,
    OrganizationRef,
    Row,
    SharedTotals,
    Totals,
    TransparencyReport,
    TransparencySummary,
)
from app.reports.suppression import THRESHOLD, suppressed


@dataclass(frozen=True)
class Period:
    """Whole UTC days, both inclusive."""

    date_from: date
    date_to: date


# What became of the flags: each status in exactly one action, so the actions add up to the
# flags received (a group for complementary suppression).
ACTIONS: tuple[tuple[str, str, frozenset[Status]], ...] = (
    ("closed_with_action", "Closed with an action taken", frozenset({Status.CLOSED})),
    ("action_under_way", "Action under way", frozenset({Status.ACTION_TAKEN})),
    ("not_low_value", "Judged not low-value", frozenset({Status.NOT_LOW_VALUE})),
    ("duplicate", "Duplicate of another flag", frozenset({Status.DUPLICATE})),
    (
        "in_review",
        "Still in review",
        frozenset({Status.SUBMITTED, Status.TRIAGED, Status.ACCEPTED, Status.NEEDS_INFO}),
    ),
)


def _service_key_and_label(group: Group) -> tuple[str | None, str]:
    system, code = group.key
    return (f"{system}|{code}" if system else code), group.label or code or "Uncoded order"


def _reason_key_and_label(group: Group) -> tuple[str | None, str]:
    (reason,) = group.key
    return reason, REASON_LABELS[Reason(reason)] if reason else "Not stated"


def _rows(
    groups: Sequence[Group],
    named: Callable[[Group], tuple[str | None, str]],
    known: Mapping[object, Group] | None = None,
) -> list[Row]:
    """A table's rows, suppressed column by column (against the reader's ``known`` groups, by
    key); shown rows by count, then the suppressed ones by label (their order must not rank
    them)."""
    ordered = sorted(groups, key=lambda group: str(group.key))
    own = None if known is None else [known.get(group.key) for group in ordered]
    flag_marks = suppressed(
        [group.flags for group in ordered],
        None if own is None else [mine.flags if mine else 0 for mine in own],
    )
    caught_marks = suppressed(
        [group.caught for group in ordered],
        None if own is None else [mine.caught if mine else 0 for mine in own],
    )
    rows = []
    for group, flag_mark, caught_mark in zip(ordered, flag_marks, caught_marks, strict=True):
        key, label = named(group)
        rows.append(
            Row(
                key=key,
                label=label,
                flags=Count.of(group.flags, flag_mark),
                estimated_cost=None if flag_mark else cents_to_amount(group.cost_cents),
                caught_before=Count.of(group.caught, caught_mark),
                caught_before_estimated_cost=(
                    None if caught_mark else cents_to_amount(group.caught_cost_cents)
                ),
            )
        )
    rows.sort(key=lambda row: (row.flags.count is None, -(row.flags.count or 0), row.label))
    return rows


def _action_counts(statuses: Mapping[str, int]) -> list[int]:
    return [sum(statuses.get(status.value, 0) for status in of) for _, _, of in ACTIONS]


def _actions(statuses: Mapping[str, int], known: Mapping[str, int] | None = None) -> list[Action]:
    counts = _action_counts(statuses)
    marks = suppressed(counts, None if known is None else _action_counts(known))
    return [
        Action(key=key, label=label, flags=Count.of(count, mark))
        for (key, label, _), count, mark in zip(ACTIONS, counts, marks, strict=True)
    ]


@dataclass(frozen=True)
class _Known:
    """The reader's own organization's groups, against which system cells are suppressed."""

    by_reason: Mapping[object, Group]
    by_service: Mapping[object, Group]
    statuses: Mapping[str, int]

    @property
    def flags(self) -> int:
        return sum(group.flags for group in self.by_reason.values())

    @property
    def answered(self) -> int:
        return sum(group.answered for group in self.by_reason.values())

    @property
    def caught(self) -> int:
        return sum(group.caught for group in self.by_reason.values())


async def _known(session: AsyncSession, where: Sequence[ColumnElement[bool]]) -> _Known:
    by_reason = await repository.groups(session, "reason", where, shared=False)
    by_service = await repository.groups(session, "service", where, shared=False)
    return _Known(
        by_reason={group.key: group for group in by_reason},
        by_service={group.key: group for group in by_service},
        statuses=await repository.by_status(session, where, shared=False),
    )


async def totals(
    session: AsyncSession,
    where: Sequence[ColumnElement[bool]],
    *,
    shared: bool,
    known_where: Sequence[ColumnElement[bool]] | None = None,
) -> Totals:
    """The suppressed counts and costs of the flags ``where`` selects; with ``known_where``
    (the reader's own organization's flags), also suppressed against what the reader knows."""
    by_reason = await repository.groups(session, "reason", where, shared=shared)
    by_service = await repository.groups(session, "service", where, shared=shared)
    statuses = await repository.by_status(session, where, shared=shared)
    known = None if known_where is None else await _known(session, known_where)
    flags = sum(group.flags for group in by_reason)
    answered = sum(group.answered for group in by_reason)
    caught = sum(group.caught for group in by_reason)
    (flags_mark,) = suppressed([flags], None if known is None else [known.flags])
    answered_mark, _ = suppressed(
        [answered, flags - answered],
        None if known is None else [known.answered, known.flags - known.answered],
    )
    caught_mark, _ = suppressed(
        [caught, flags - caught],
        None if known is None else [known.caught, known.flags - known.caught],
    )
    return Totals(
        flags=Count.of(flags, flags_mark),
        answered=Count.of(answered, answered_mark),
        answered_share=round(answered / flags, 4) if flags and not answered_mark else None,
        caught_before=Count.of(caught, caught_mark),
        estimated_cost=(
            None if flags_mark else cents_to_amount(sum(g.cost_cents for g in by_reason))
        ),
        caught_before_estimated_cost=(
            None if caught_mark else cents_to_amount(sum(g.caught_cost_cents for g in by_reason))
        ),
        actions=_actions(statuses, None if known is None else known.statuses),
        by_service=_rows(
            by_service, _service_key_and_label, None if known is None else known.by_service
        ),
        by_reason=_rows(
            by_reason, _reason_key_and_label, None if known is None else known.by_reason
        ),
    )


async def _median(
    session: AsyncSession, value: object, where: Sequence[ColumnElement[bool]]
) -> Median:
    count, seconds = await repository.median(session, value, where)
    if 0 < count < THRESHOLD:
        return Median(hours=None, suppressed=True)
    return Median(hours=round(seconds / 3600, 2) if seconds is not None else None)


async def _organization(
    session: AsyncSession, code: str | None, caller: uuid.UUID | None
) -> tuple[uuid.UUID | None, OrganizationRef | None]:
    """Whose flags: the organization ``code`` names (unknown: 422), else the caller's own, else
    every organization (the session's scope still limits what is read)."""
    found: Organization | None
    if code is not None:
        found = await organizations.by_code(session, code)
    elif caller is not None:
        found = await organization_rows.by_id(session, caller)
    else:
        return None, None
    if found is None:
        return caller, None
    return found.id, OrganizationRef(code=found.code, name=found.name)


async def report(
    session: AsyncSession,
    period: Period,
    *,
    organization_code: str | None,
    caller_organization: uuid.UUID | None,
) -> TransparencyReport:
    """The report for ``period``, as far as the session's scope lets the caller see."""
    organization_id, organization = await _organization(
        session, organization_code, caller_organization
    )
    where = repository.where(period.date_from, period.date_to, organization_id)
    return TransparencyReport(
        date_from=period.date_from,
        date_to=period.date_to,
        organization=organization,
        totals=await totals(session, where, shared=False),
        median_hours_to_first_reply=await _median(session, col(Flag.reply_wait_seconds), where),
        median_hours_to_close=await _median(session, col(Flag.close_wait_seconds), where),
        examples=await examples(session, where),
        across_the_system=await shared_totals(session, period, reader=caller_organization),
    )


async def shared_totals(
    session: AsyncSession, period: Period, *, reader: uuid.UUID | None
) -> SharedTotals:
    """Every organization's flags, as suppressed aggregates only (never rows or ids); for an
    organization's ``reader``, also suppressed against their own organization's counts."""
    where = repository.where(period.date_from, period.date_to, None)
    known_where = (
        None if reader is None else repository.where(period.date_from, period.date_to, reader)
    )
    found = await totals(session, where, shared=True, known_where=known_where)
    return SharedTotals(date_from=period.date_from, date_to=period.date_to, **dict(found))


async def summary(
    session: AsyncSession,
    period: Period,
    organization_id: uuid.UUID | None,
    *,
    reader: uuid.UUID | None = None,
) -> TransparencySummary:
    """Counts, actions and examples without money or any ranking of clinicians: for the
    in-EHR view (whose session is not a staff member's: ``organization_id`` limits it). With
    ``organization_id`` None (the whole system), the counts are also suppressed against the
    ``reader``'s organization, whose own summary they see beside it."""
    organization = (
        await organization_rows.by_id(session, organization_id) if organization_id else None
    )
    where = repository.where(period.date_from, period.date_to, organization_id)
    known_where = (
        None
        if reader is None or organization_id is not None
        else repository.where(period.date_from, period.date_to, reader)
    )
    found = await totals(session, where, shared=False, known_where=known_where)
    return TransparencySummary(
        date_from=period.date_from,
        date_to=period.date_to,
        organization=(
            OrganizationRef(code=organization.code, name=organization.name)
            if organization
            else None
        ),
        flags=found.flags,
        answered=found.answered,
        answered_share=found.answered_share,
        caught_before=found.caught_before,
        actions=found.actions,
        examples=await examples(session, where),
    )
