"""The report's period as query parameters: ``from`` and ``to``, whole UTC days."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from app.errors import UnprocessableContent
from app.kit.time import CalendarDay
from app.reports.transparency import Period


async def period(
    date_from: Annotated[
        CalendarDay, Query(alias="from", description="First day, inclusive (UTC), YYYY-MM-DD.")
    ],
    date_to: Annotated[
        CalendarDay, Query(alias="to", description="Last day, inclusive (UTC), YYYY-MM-DD.")
    ],
) -> Period:
    if date_from > date_to:
        raise UnprocessableContent(f"'from' ({date_from}) is after 'to' ({date_to}); swap them.")
    return Period(date_from=date_from, date_to=date_to)


PeriodDep = Annotated[Period, Depends(period)]
