"""Query parameters of the statistics that are not over flags alone: the CDS counts are by rule
and order code, so the flag filters other than the period do not apply to them."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from app.db import SessionDep
from app.flags.dependencies import flag_filters
from app.flags.filters import FlagFilters
from app.kit.time import CalendarDay


async def period_filters(
    session: SessionDep,
    created_from: Annotated[
        CalendarDay | None, Query(description="First day, inclusive (UTC), as YYYY-MM-DD.")
    ] = None,
    created_to: Annotated[
        CalendarDay | None, Query(description="Last day, inclusive (UTC), as YYYY-MM-DD.")
    ] = None,
) -> FlagFilters:
    """The period as the other statistics read it (the same checks, the same 422s)."""
    return await flag_filters(session, created_from=created_from, created_to=created_to)


async def order_code_filters(
    session: SessionDep,
    period: Annotated[FlagFilters, Depends(period_filters)],
    order_code: Annotated[
        str | None,
        Query(max_length=600, description="A FHIR token: 'code' or 'system|code'."),
    ] = None,
) -> FlagFilters:
    """The period and one order code, read as the flag list reads it."""
    return await flag_filters(
        session,
        created_from=period.created_from,
        created_to=period.created_to,
        order_code=order_code,
    )


PeriodDep = Annotated[FlagFilters, Depends(period_filters)]
OrderCodeDep = Annotated[FlagFilters, Depends(order_code_filters)]
