"""Every query on a reporter's own flags and what they have read of the replies."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.flags.models import Flag, FlagEvent
from app.kit.time import utcnow
from app.reporter.models import ReporterReadMarker


async def reporter_flags(
    session: AsyncSession, *, issuer: str, fhir_user: str, limit: int
) -> Sequence[Flag]:
    """A reporter's own flags, newest first (anonymous flags are not theirs to list: the
    registry does not know who sent them)."""
    result = await session.scalars(
        select(Flag)
        .where(col(Flag.issuer) == issuer, col(Flag.reporter_fhir_user) == fhir_user)
        .order_by(col(Flag.created_at).desc(), col(Flag.id).desc())
        .limit(limit)
    )
    return result.all()


async def replies_to(session: AsyncSession, flag_ids: Sequence[uuid.UUID]) -> Sequence[FlagEvent]:
    if not flag_ids:
        return []
    result = await session.scalars(
        select(FlagEvent)
        .where(col(FlagEvent.flag_id).in_(list(flag_ids)), col(FlagEvent.visible_to_reporter))
        .order_by(col(FlagEvent.id))
    )
    return result.all()


async def read_markers(
    session: AsyncSession, flag_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, int]:
    if not flag_ids:
        return {}
    result = await session.scalars(
        select(ReporterReadMarker).where(col(ReporterReadMarker.flag_id).in_(list(flag_ids)))
    )
    return {marker.flag_id: marker.read_through_event_id for marker in result.all()}


async def mark_read(session: AsyncSession, flag_id: uuid.UUID, through_event_id: int) -> None:
    marker = await session.get(ReporterReadMarker, flag_id)
    if marker is None:
        session.add(
            ReporterReadMarker(
                flag_id=flag_id, read_through_event_id=through_event_id, read_at=utcnow()
            )
        )
    elif through_event_id > marker.read_through_event_id:
        marker.read_through_event_id = through_event_id
        marker.read_at = utcnow()
    await session.flush()


async def orders_flagged_by(
    session: AsyncSession, *, issuer: str, fhir_user: str, order_ids: Sequence[str]
) -> set[tuple[str, str]]:
    """Which of these orders (by FHIR id) this reporter has already flagged."""
    if not order_ids:
        return set()
    result = await session.execute(
        sa.select(col(Flag.order_resource_type), col(Flag.order_fhir_id)).where(
            col(Flag.issuer) == issuer,
            col(Flag.reporter_fhir_user) == fhir_user,
            col(Flag.order_fhir_id).in_(list(order_ids)),
        )
    )
    return {(row[0], row[1]) for row in result.all()}
