"""The audit trail for IT security (``/api/v1/audit-events``, admin only)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from app.audit import repository
from app.audit.service import AuditAction
from app.auth.dependencies import CanReadAudit
from app.db import SessionDep

router = APIRouter(prefix="/api/v1/audit-events", tags=["audit"])


class AuditEventPublic(BaseModel):
    id: int
    at: datetime
    actor_kind: str
    actor_id: str
    actor_role: str
    action: str
    entity_type: str
    entity_id: str | None
    issuer: str | None
    request_id: str | None
    source_ip: str | None
    details: dict[str, Any] | None


class AuditPage(BaseModel):
    items: list[AuditEventPublic]
    next_before_id: int | None


@router.get("")
async def list_audit_events(
    session: SessionDep,
    _: CanReadAudit,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before_id: Annotated[
        int | None,
        # A BIGINT id: anything larger is no id, and the database would refuse it (a 500).
        Query(ge=1, le=2**63 - 1, description="Page on: the last id you saw."),
    ] = None,
    entity_id: Annotated[str | None, Query(max_length=100)] = None,
    action: AuditAction | None = None,
) -> AuditPage:
    """Audit events, newest first: who read or changed which flag, when, from where."""
    events = await repository.newest_first(
        session, limit=limit, before_id=before_id, entity_id=entity_id, action=action
    )
    items = [AuditEventPublic.model_validate(event, from_attributes=True) for event in events]
    next_before = items[-1].id if len(items) == limit else None
    return AuditPage(items=items, next_before_id=next_before)
