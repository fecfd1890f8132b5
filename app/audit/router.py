"""The audit trail for IT security (``/api/v1/audit-events``, admin only). Reading it, or
exporting it, leaves an audit event of its own."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from app.audit import trail
from app.audit.dependencies import AuditFiltersDep
from app.audit.export import AuditExportFormat
from app.audit.schemas import AuditPage
from app.audit.service import StaffAuditor
from app.auth.dependencies import CanReadAudit
from app.db import SessionDep
from app.dependencies import SettingsDep
from app.interop.responses import FHIR_NDJSON_CONTENT
from app.kit.time import utcnow

router = APIRouter(prefix="/api/v1/audit-events", tags=["audit"])


@router.get("")
async def list_audit_events(
    session: SessionDep,
    _: CanReadAudit,
    auditor: StaffAuditor,
    filters: AuditFiltersDep,
    limit: Annotated[int, Query(ge=1, le=500, description="Events per page.")] = 100,
    before_id: Annotated[
        int | None,
        # A BIGINT id: anything larger is no id, and the database would refuse it (a 500).
        Query(
            ge=1,
            le=2**63 - 1,
            description="Page on: the `next_before_id` of the page before (events older "
            "than this id).",
        ),
    ] = None,
) -> AuditPage:
    """Audit events, newest first: who read or changed which flag, when, from where."""
    return await trail.page(session, auditor, filters, limit=limit, before_id=before_id)


@router.get(
    "/export",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/csv": {}, **FHIR_NDJSON_CONTENT},
            "description": "The events as CSV, or as FHIR R4 AuditEvents, one per line "
            "(`format=fhir-ndjson`, docs/fhir.md).",
        }
    },
)
async def export_audit_events(
    request: Request,
    _: CanReadAudit,
    auditor: StaffAuditor,
    filters: AuditFiltersDep,
    settings: SettingsDep,
    fmt: Annotated[
        AuditExportFormat,
        Query(alias="format", description="csv, or fhir-ndjson (one AuditEvent per line)."),
    ] = AuditExportFormat.CSV,
) -> StreamingResponse:
    """Every event matching the filters (newest first, streamed): as CSV, safe to open in a
    spreadsheet, or as FHIR AuditEvents for a SIEM."""
    # The session dependency commits the export's own record before the body is sent.
    filename = f"valueloop-audit-{utcnow().date().isoformat()}.{fmt.extension}"
    return StreamingResponse(
        trail.export(
            request.app.state.session_factory, auditor, filters, fmt, base_url=settings.base_url
        ),
        media_type=fmt.media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
