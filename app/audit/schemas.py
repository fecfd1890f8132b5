"""The audit trail as the API shows it, and the filters a reader narrows it with."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel

from app.audit.service import AuditAction


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


@dataclass(frozen=True)
class AuditFilters:
    """Which audit events to show; every field narrows, ``None`` means any."""

    actor: str | None = None
    action: AuditAction | None = None
    entity_id: str | None = None
    flag_id: uuid.UUID | None = None
    patient_id: str | None = None
    date_from: date | None = None
    date_to: date | None = None

    def describe(self) -> dict[str, str]:
        """The filters in use, as text (for the audit record of reading the trail)."""
        return {key: str(value) for key, value in asdict(self).items() if value is not None}
