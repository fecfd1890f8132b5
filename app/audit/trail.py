"""Reading the audit trail, which is itself a read to record: who looked at whose access, with
which filters. The record joins the request's transaction, as every audit row does."""

from __future__ import annotations

from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.audit import repository
from app.audit.export import AuditExportFormat, stream_csv
from app.audit.schemas import AuditEventPublic, AuditFilters, AuditPage
from app.audit.service import AuditAction, Auditor
from app.interop.export import stream_audit_events

AUDIT_ENTITY = "audit_event"


async def page(
    session: AsyncSession,
    auditor: Auditor,
    filters: AuditFilters,
    *,
    limit: int,
    before_id: int | None,
) -> AuditPage:
    """One page of matching events, newest first; ``next_before_id`` continues after it."""
    events = await repository.newest_first(session, filters, limit=limit, before_id=before_id)
    items = [AuditEventPublic.model_validate(event, from_attributes=True) for event in events]
    auditor.record(
        AuditAction.SEARCH,
        AUDIT_ENTITY,
        details={
            "filters": filters.describe(),
            "before_id": before_id,
            "event_ids": [item.id for item in items],
        },
    )
    return AuditPage(items=items, next_before_id=items[-1].id if len(items) == limit else None)


def export(
    factory: async_sessionmaker[AsyncSession],
    auditor: Auditor,
    filters: AuditFilters,
    fmt: AuditExportFormat,
    *,
    base_url: str,
) -> AsyncIterator[bytes]:
    """The matching events as CSV or as FHIR AuditEvents (NDJSON); the export is recorded
    before its first byte is sent."""
    auditor.record(
        AuditAction.EXPORT,
        AUDIT_ENTITY,
        details={"filters": filters.describe(), "format": fmt.value},
    )
    if fmt is AuditExportFormat.FHIR_NDJSON:
        return stream_audit_events(factory, filters, base_url=base_url)
    return stream_csv(factory, filters)
