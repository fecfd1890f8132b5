"""Every query on the audit trail."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.audit.models import AuditEvent


async def newest_first(
    session: AsyncSession,
    *,
    limit: int,
    before_id: int | None,
    entity_id: str | None,
    action: str | None,
) -> Sequence[AuditEvent]:
    statement = select(AuditEvent)
    if before_id is not None:
        statement = statement.where(col(AuditEvent.id) < before_id)
    if entity_id is not None:
        statement = statement.where(col(AuditEvent.entity_id) == entity_id)
    if action is not None:
        statement = statement.where(col(AuditEvent.action) == action)
    result = await session.scalars(statement.order_by(col(AuditEvent.id).desc()).limit(limit))
    return result.all()
