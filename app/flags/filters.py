"""What a quality analyst can narrow flags down by, and the SQL that does it.

Built once and shared by the list, the export and the statistics, so a number on a chart and
the rows behind it always agree.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from app.flags.anonymity import identity_shown_condition
from app.flags.models import Flag
from app.kit.time import stamps_within_days


@dataclass(frozen=True)
class FlagFilters:
    """What a quality analyst can narrow flags down by. Empty fields do not filter."""

    status: Sequence[str] = ()
    reason: Sequence[str] = ()
    driver: Sequence[str] = ()
    priority: Sequence[str] = ()
    department: Sequence[str] = ()
    reporter_role: Sequence[str] = ()
    order_system: str | None = None
    order_code: str | None = None
    reporter: str | None = None
    owner: uuid.UUID | None = None
    assigned: bool | None = None
    answered: bool | None = None
    created_from: date | None = None
    created_to: date | None = None
    text: str | None = None
    # For system-level staff; an organization's staff are limited to theirs whatever this says
    # (app.organizations.scope).
    organization: uuid.UUID | None = None

    def describe(self) -> dict[str, Any]:
        """The filters in use as plain JSON data, for the audit trail."""
        described: dict[str, Any] = {}
        for name, value in vars(self).items():
            if value is None or value == ():
                continue
            if isinstance(value, date):
                described[name] = value.isoformat()
            elif isinstance(value, tuple | list):
                described[name] = [str(item) for item in value]
            elif isinstance(value, uuid.UUID):
                described[name] = str(value)
            else:
                described[name] = value
        return described


def conditions(filters: FlagFilters) -> list[ColumnElement[bool]]:
    """The WHERE clauses of ``filters``, for any query over flags."""
    where: list[ColumnElement[bool]] = []
    for column, values in (
        (col(Flag.status), filters.status),
        (col(Flag.reason), filters.reason),
        (col(Flag.driver), filters.driver),
        (col(Flag.priority), filters.priority),
        (col(Flag.department), filters.department),
        (col(Flag.reporter_role), filters.reporter_role),
    ):
        if len(values) == 1:
            where.append(column == values[0])
        elif values:
            where.append(column.in_(list(values)))
    if filters.order_code is not None:
        where.append(col(Flag.order_code) == filters.order_code)
    if filters.order_system is not None:
        where.append(col(Flag.order_code_system) == filters.order_system)
    if filters.reporter is not None:
        # Only identified reporters can be found by name: filtering must not unmask the others.
        where.append(col(Flag.reporter_fhir_user) == filters.reporter)
        where.append(identity_shown_condition())
    if filters.organization is not None:
        where.append(col(Flag.organization_id) == filters.organization)
    if filters.owner is not None:
        where.append(
            sa.or_(
                col(Flag.owner_lead_id) == filters.owner,
                col(Flag.owner_operational_lead_id) == filters.owner,
            )
        )
    if filters.assigned is not None:
        owned = col(Flag.owner_lead_id)
        where.append(owned.is_not(None) if filters.assigned else owned.is_(None))
    if filters.answered is not None:
        replied = col(Flag.first_reply_at)
        where.append(replied.is_not(None) if filters.answered else replied.is_(None))
    where += stamps_within_days(col(Flag.created_at), filters.created_from, filters.created_to)
    if filters.text:
        where.append(
            sa.or_(
                col(Flag.note).icontains(filters.text, autoescape=True),
                col(Flag.order_display).icontains(filters.text, autoescape=True),
            )
        )
    return where
