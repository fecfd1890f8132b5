"""Time helpers: one clock, always timezone-aware UTC."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

from pydantic import BeforeValidator
from sqlalchemy import ColumnElement
from sqlalchemy.sql.elements import SQLCoreOperations

_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def utcnow() -> datetime:
    return datetime.now(UTC)


def start_of_day(day: date) -> datetime:
    """Midnight UTC at the start of ``day``."""
    return datetime.combine(day, time.min, tzinfo=UTC)


def stamps_within_days(
    column: SQLCoreOperations[datetime], first: date | None, last: date | None
) -> list[ColumnElement[bool]]:
    """WHERE clauses for UTC timestamps from the start of ``first`` to the end of ``last``
    (each optional). The last day there is has no next day to end before: it bounds nothing
    (a filter up to 9999-12-31 must not fail computing 10000-01-01)."""
    where: list[ColumnElement[bool]] = []
    if first is not None:
        where.append(column >= start_of_day(first))
    if last is not None and last < date.max:
        where.append(column < start_of_day(last + timedelta(days=1)))
    return where


def week_start(moment: datetime) -> date:
    """The Monday (UTC) of the ISO week that ``moment`` falls in."""
    day = moment.astimezone(UTC).date()
    return day - timedelta(days=day.weekday())


def _only_a_calendar_day(value: object) -> object:
    # Pydantic would read "2024-01-01T00:00:00" (no zone: which day?) and 0 (a Unix time)
    # as dates; a filter by day takes a day and nothing that only looks like one.
    if isinstance(value, datetime) or (
        not isinstance(value, date) and not (isinstance(value, str) and _ISO_DAY.fullmatch(value))
    ):
        raise ValueError("give a day as YYYY-MM-DD (UTC), e.g. 2024-01-31; not a time or number")
    return value


CalendarDay = Annotated[date, BeforeValidator(_only_a_calendar_day)]
"""A day written ``YYYY-MM-DD``; timestamps and numbers are refused."""
