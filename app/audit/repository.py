"""Every query on the audit trail."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.audit.models import AuditEvent
from app.audit.schemas import AuditFilters
from app.flags.models import Flag
from app.kit.time import stamps_within_days

# The entity types whose id is a flag's id, or a patient's FHIR id (app/clinician records a
# read of the chart context as "patient-context").
FLAG_ENTITY = "flag"
PATIENT_ENTITY = "patient-context"
ROWS_PER_CHUNK = 500


def _mentions(flag_id: str) -> sa.ColumnElement[bool]:
    """Rows whose details list the flag: searches, exports and duplicate checks that showed it.

    The details are JSON; a flag id is a UUID, so finding it in their text is finding it."""
    return sa.cast(col(AuditEvent.details), sa.Text).contains(flag_id, autoescape=True)


def _about_flags(flag_ids: Sequence[str]) -> list[sa.ColumnElement[bool]]:
    if not flag_ids:
        return []
    return [
        sa.and_(
            col(AuditEvent.entity_type) == FLAG_ENTITY, col(AuditEvent.entity_id).in_(flag_ids)
        ),
        *(_mentions(flag_id) for flag_id in flag_ids),
    ]


def _conditions(
    filters: AuditFilters, patient_flag_ids: Sequence[str]
) -> list[sa.ColumnElement[bool]]:
    where: list[sa.ColumnElement[bool]] = []
    if filters.actor is not None:
        where.append(col(AuditEvent.actor_id).icontains(filters.actor, autoescape=True))
    if filters.action is not None:
        where.append(col(AuditEvent.action) == filters.action.value)
    if filters.entity_id is not None:
        where.append(col(AuditEvent.entity_id) == filters.entity_id)
    if filters.flag_id is not None:
        where.append(sa.or_(*_about_flags([str(filters.flag_id)])))
    if filters.patient_id is not None:
        chart = sa.and_(
            col(AuditEvent.entity_type) == PATIENT_ENTITY,
            col(AuditEvent.entity_id) == filters.patient_id,
        )
        where.append(sa.or_(chart, *_about_flags(patient_flag_ids)))
    where += stamps_within_days(col(AuditEvent.at), filters.date_from, filters.date_to)
    return where


async def _patient_flag_ids(session: AsyncSession, filters: AuditFilters) -> list[str]:
    """The ids of the flags on the filtered patient (any EHR), as the trail writes them."""
    if filters.patient_id is None:
        return []
    result = await session.scalars(
        select(Flag.id).where(col(Flag.patient_fhir_id) == filters.patient_id)
    )
    return [str(flag_id) for flag_id in result.all()]


async def _statement(session: AsyncSession, filters: AuditFilters) -> Any:
    where = _conditions(filters, await _patient_flag_ids(session, filters))
    return select(AuditEvent).where(*where).order_by(col(AuditEvent.id).desc())


async def newest_first(
    session: AsyncSession, filters: AuditFilters, *, limit: int, before_id: int | None
) -> Sequence[AuditEvent]:
    statement = await _statement(session, filters)
    if before_id is not None:
        statement = statement.where(col(AuditEvent.id) < before_id)
    result = await session.scalars(statement.limit(limit))
    return result.all()


async def stream(session: AsyncSession, filters: AuditFilters) -> AsyncIterator[AuditEvent]:
    """Every matching event, newest first, read a chunk at a time (keyset on the id)."""
    statement = await _statement(session, filters)
    before: int | None = None
    while True:
        page = statement if before is None else statement.where(col(AuditEvent.id) < before)
        chunk = (await session.scalars(page.limit(ROWS_PER_CHUNK))).all()
        for event in chunk:
            yield event
        if len(chunk) < ROWS_PER_CHUNK:
            return
        before = chunk[-1].id
