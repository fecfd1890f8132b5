"""The audit trail: who read or wrote what, when, and from which EHR.

Every read or write of patient data through ValueLoop leaves one row here, written in the same
transaction as the work it records. Rows are never updated or deleted by the application.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.db import BigIntId, UTCDateTime


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
    __table_args__ = (sa.Index("ix_audit_event_at", "at"),)

    id: int | None = Field(default=None, sa_type=BigIntId, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime)
    actor_kind: str = Field(max_length=20)
    actor_id: str = Field(max_length=500)
    actor_role: str = Field(max_length=40)
    action: str = Field(max_length=20)
    entity_type: str = Field(max_length=40)
    entity_id: str | None = Field(default=None, max_length=100)
    issuer: str | None = Field(default=None, max_length=500)
    request_id: str | None = Field(default=None, max_length=64)
    source_ip: str | None = Field(default=None, max_length=64)
    details: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
