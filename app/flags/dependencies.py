"""Flag filters as query parameters, shared by the flag list, the statistics and the export."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import Depends, Query

from app.db import SessionDep
from app.errors import UnprocessableContent
from app.flags.catalog import Driver, Priority, Reason, ReporterRole
from app.flags.filters import FlagFilters
from app.flags.workflow import Status
from app.kit.time import CalendarDay
from app.organizations import service as organizations

# Repeatable filters: a flag matches when it has any of the values given.
_Reasons = Annotated[
    list[Reason] | None, Query(description="The reporter's reason; repeat for any of several.")
]
_Drivers = Annotated[
    list[Driver] | None, Query(description="The suspected driver; repeat for any of several.")
]
_Priorities = Annotated[list[Priority] | None, Query(description="Repeat to match any of several.")]
_Departments = Annotated[
    list[str] | None,
    Query(max_length=200, description="The encounter's department, exactly; repeatable."),
]
_ReporterRoles = Annotated[
    list[ReporterRole] | None,
    Query(description="The reporter's role (physician, nurse, ...); repeatable."),
]

_OrganizationCode = Annotated[
    str | None,
    Query(
        max_length=20,
        description="An organization's code (for system-level staff; everyone else sees only "
        "their own organization's flags whatever this says).",
    ),
]


async def flag_filters(
    session: SessionDep,
    status: Annotated[
        list[Status] | None, Query(description="Repeat to match any of several.")
    ] = None,
    reason: _Reasons = None,
    driver: _Drivers = None,
    priority: _Priorities = None,
    department: _Departments = None,
    reporter_role: _ReporterRoles = None,
    order_code: Annotated[
        str | None,
        Query(max_length=600, description="A FHIR token: 'code' or 'system|code'."),
    ] = None,
    reporter: Annotated[
        str | None,
        Query(
            max_length=500, description="Reporter's fhirUser; matches identified reporters only."
        ),
    ] = None,
    owner: Annotated[
        uuid.UUID | None,
        Query(description="A staff id; matches a lead or either dyad member."),
    ] = None,
    assigned: Annotated[bool | None, Query(description="Whether the flag has an owner.")] = None,
    answered: Annotated[
        bool | None, Query(description="Whether the reporter has had a reply.")
    ] = None,
    created_from: Annotated[
        CalendarDay | None, Query(description="First day, inclusive (UTC), as YYYY-MM-DD.")
    ] = None,
    created_to: Annotated[
        CalendarDay | None, Query(description="Last day, inclusive (UTC), as YYYY-MM-DD.")
    ] = None,
    q: Annotated[
        str | None,
        Query(min_length=2, max_length=200, description="Text in the note or the order's name."),
    ] = None,
    organization: _OrganizationCode = None,
) -> FlagFilters:
    _check_range(created_from, created_to)
    system, code = _order_token(order_code)
    return FlagFilters(
        status=status or (),
        reason=reason or (),
        driver=driver or (),
        priority=priority or (),
        department=department or (),
        reporter_role=reporter_role or (),
        order_system=system,
        order_code=code,
        reporter=reporter,
        owner=owner,
        assigned=assigned,
        answered=answered,
        created_from=created_from,
        created_to=created_to,
        text=q,
        organization=await organizations.id_of(session, organization),
    )


def _check_range(created_from: date | None, created_to: date | None) -> None:
    if created_from and created_to and created_from > created_to:
        raise UnprocessableContent(
            f"created_from ({created_from}) is after created_to ({created_to}); swap them."
        )


def _order_token(order_code: str | None) -> tuple[str | None, str | None]:
    """(system, code) of a FHIR token search value: 'code', 'system|code' or '|code'."""
    if order_code is None or "|" not in order_code:
        return None, order_code
    system, code = order_code.split("|", 1)
    if not code:
        raise UnprocessableContent("order_code 'system|' needs a code after the '|'.")
    return system or None, code


FiltersDep = Annotated[FlagFilters, Depends(flag_filters)]
