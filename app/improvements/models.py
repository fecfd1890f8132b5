"""Improvement work: the organization's response to one or more flags, the flags it answers,
and its append-only timeline.

An improvement holds no patient data of its own: its evidence is counted from the linked
flags when it is read (app/improvements/evidence.py). Targets are order codes and catalog
rule ids, kept as JSON lists (read whole with the improvement, never searched in SQL).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.db import BigIntId, UTCDateTime
from app.flags.models import MESSAGE_MAX_LENGTH, NAME_MAX_LENGTH

TITLE_MAX_LENGTH = 200
TICKET_MAX_LENGTH = 100

_VERSION_COLUMN = sa.Column("version", sa.Integer, nullable=False)


class Improvement(SQLModel, table=True):
    """One piece of improvement work, where it stands and who answers for it."""

    __tablename__ = "improvement"
    __table_args__ = (
        sa.Index("ix_improvement_organization_status", "organization_id", "status", "created_at"),
        sa.Index("ix_improvement_status_go_live", "status", "go_live"),
    )
    # Two people moving the same improvement at once: the second write is refused, so a
    # go-live never sends its replies twice.
    __mapper_args__: ClassVar[dict[str, Any]] = {"version_id_col": _VERSION_COLUMN}

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    # Whose work it is: its staff see it, and only their flags can be linked to it.
    organization_id: uuid.UUID = Field(foreign_key="organization.id")
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    version: int = Field(default=1, sa_column=_VERSION_COLUMN)

    title: str = Field(max_length=TITLE_MAX_LENGTH)
    kind: str = Field(max_length=20)
    status: str = Field(max_length=20)
    notes: str | None = Field(default=None, max_length=MESSAGE_MAX_LENGTH)
    # What it aims at: [{"system", "code"}] order codes, and catalog rule ids.
    targets: list[dict[str, str]] = Field(default_factory=list, sa_type=sa.JSON)
    rules: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    # The dyad that answers for it (people in the staff directory); required from approved on.
    clinical_lead_id: uuid.UUID | None = Field(default=None, foreign_key="staff.id")
    operational_lead_id: uuid.UUID | None = Field(default=None, foreign_key="staff.id")
    go_live: date | None = Field(default=None)
    declined_reason: str | None = Field(default=None, max_length=MESSAGE_MAX_LENGTH)
    # The change request sent to the informatics team (EHR builds), and the ticket it became.
    requested_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ticket_reference: str | None = Field(default=None, max_length=TICKET_MAX_LENGTH)


class ImprovementFlag(SQLModel, table=True):
    """A flag answered by an improvement. A flag is linked to one improvement at most (the
    primary key); the organization is the improvement's and the flag's, kept here so the
    organization scope reaches this table too."""

    __tablename__ = "improvement_flag"
    __table_args__ = (sa.Index("ix_improvement_flag_improvement", "improvement_id", "linked_at"),)

    flag_id: uuid.UUID = Field(foreign_key="flag.id", primary_key=True)
    improvement_id: uuid.UUID = Field(foreign_key="improvement.id")
    organization_id: uuid.UUID
    linked_at: datetime = Field(sa_type=UTCDateTime)
    # The flag's note may be quoted in the change request's evidence: the person linking it
    # said so, and it passed the check for patient and clinician data (app/flags/shareable.py).
    note_shareable: bool = Field(default=False)


class ImprovementEventKind(StrEnum):
    CREATED = "created"
    STATUS_CHANGE = "status_change"
    FLAGS_LINKED = "flags_linked"
    UPDATE = "update"
    CHANGE_REQUESTED = "change_requested"


EVENT_KIND_LABELS: dict[ImprovementEventKind, str] = {
    ImprovementEventKind.CREATED: "Improvement proposed",
    ImprovementEventKind.STATUS_CHANGE: "Status changed",
    ImprovementEventKind.FLAGS_LINKED: "Flags linked",
    ImprovementEventKind.UPDATE: "Details changed",
    ImprovementEventKind.CHANGE_REQUESTED: "Change request sent to informatics",
}
# A change request that reached no endpoint (none subscribes to improvement.requested).
NOT_SENT_LABEL = "Change request not sent: no webhook endpoint subscribes to change requests"


class ImprovementEvent(SQLModel, table=True):
    """One entry of an improvement's timeline; never updated or deleted."""

    __tablename__ = "improvement_event"
    __table_args__ = (sa.Index("ix_improvement_event_improvement", "improvement_id", "id"),)

    id: int | None = Field(default=None, sa_type=BigIntId, primary_key=True)
    improvement_id: uuid.UUID = Field(foreign_key="improvement.id")
    at: datetime = Field(sa_type=UTCDateTime)
    kind: str = Field(max_length=20)
    actor_name: str = Field(max_length=NAME_MAX_LENGTH)
    actor_role: str = Field(max_length=40)
    actor_staff_id: uuid.UUID | None = Field(default=None, foreign_key="staff.id")
    from_status: str | None = Field(default=None, max_length=20)
    to_status: str | None = Field(default=None, max_length=20)
    body: str | None = Field(default=None, max_length=MESSAGE_MAX_LENGTH)
    details: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
