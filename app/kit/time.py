"""Time helpers: one clock, always timezone-aware UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta


def utcnow() -> datetime:
    return datetime.now(UTC)


def week_start(moment: datetime) -> date:
    """The Monday (UTC) of the ISO week that ``moment`` falls in."""
    day = moment.astimezone(UTC).date()
    return day - timedelta(days=day.weekday())
