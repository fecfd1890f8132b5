"""Registry tables: the flag (a value opportunity) and its append-only timeline.

A flag keeps a snapshot of just what it needs from the EHR (minimum necessary PHI): the order's
code, status and dates, the encounter's class, type, department and period, and the patient's
FHIR id, age band and administrative sex. No names, no birth dates, no MRNs.

Vocabularies are stored as short strings (not database enums) so adding a value is a code
change, not a schema migration; the API validates them on the way in.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.db import BigIntId, UTCDateTime

NOTE_MAX_LENGTH = 1000
MESSAGE_MAX_LENGTH = 4000
NAME_MAX_LENGTH = 200
EMAIL_MAX_LENGTH = 320  # RFC 5321 section 4.5.3.1: 64 + "@" + 255 (as app.launch.identity)
REFERENCE_MAX_LENGTH = 500
FHIR_ID_MAX_LENGTH = 64  # FHIR R4 id: [A-Za-z0-9\-\.]{1,64}
TAG_MAX_LENGTH = 40
MAX_TAGS = 10


_VERSION_COLUMN = sa.Column("version", sa.Integer, nullable=False)


class Flag(SQLModel, table=True):
    """A clinician's call-out of one order as low-value, and where the review stands."""

    __tablename__ = "flag"
    __table_args__ = (
        sa.UniqueConstraint(
            "issuer", "idempotency_scope", "idempotency_key", name="uq_flag_idempotency"
        ),
        sa.Index("ix_flag_created", "created_at", "id"),
        # An organization's staff read only its flags (app.organizations.scope): its list,
        # queue and statistics start from these.
        sa.Index("ix_flag_organization_created", "organization_id", "created_at", "id"),
        sa.Index(
            "ix_flag_organization_status_created", "organization_id", "status", "created_at", "id"
        ),
        # The rarest list filter within an organization (migration 0020, bench/README.md).
        sa.Index(
            "ix_flag_organization_driver_created", "organization_id", "driver", "created_at", "id"
        ),
        sa.Index("ix_flag_status_created", "status", "created_at", "id"),
        sa.Index("ix_flag_department_created", "department", "created_at", "id"),
        sa.Index("ix_flag_reason_created", "reason", "created_at", "id"),
        sa.Index("ix_flag_driver_created", "driver", "created_at", "id"),
        sa.Index("ix_flag_priority_created", "priority", "created_at", "id"),
        sa.Index("ix_flag_order_code_created", "order_code", "created_at", "id"),
        sa.Index("ix_flag_reporter_created", "reporter_fhir_user", "created_at", "id"),
        sa.Index("ix_flag_patient", "patient_fhir_id"),
        sa.Index("ix_flag_order_fhir_id", "order_fhir_id"),
        sa.Index("ix_flag_reporter_role_created", "reporter_role", "created_at", "id"),
        sa.Index("ix_flag_owner_created", "owner_lead_id", "created_at", "id"),
        sa.Index(
            "ix_flag_operational_owner_created", "owner_operational_lead_id", "created_at", "id"
        ),
        sa.Index("ix_flag_updated", "updated_at", "id"),
        sa.Index("ix_flag_week", "created_week"),
        # The median time to close (overall and by reason) reads the middle stored waits in
        # order from these, as the reply wait does; only ended reviews are in them.
        sa.Index(
            "ix_flag_close_wait",
            "close_wait_seconds",
            "created_at",
            postgresql_where=sa.text("close_wait_seconds IS NOT NULL"),
            sqlite_where=sa.text("close_wait_seconds IS NOT NULL"),
        ),
        # The same for an organization's staff (migration 0021).
        sa.Index(
            "ix_flag_organization_close_wait",
            "organization_id",
            "close_wait_seconds",
            "created_at",
            postgresql_where=sa.text("close_wait_seconds IS NOT NULL"),
            sqlite_where=sa.text("close_wait_seconds IS NOT NULL"),
        ),
        sa.Index(
            "ix_flag_organization_reason_close_wait",
            "organization_id",
            "reason",
            "close_wait_seconds",
            "created_at",
            postgresql_where=sa.text("close_wait_seconds IS NOT NULL"),
            sqlite_where=sa.text("close_wait_seconds IS NOT NULL"),
        ),
        sa.Index(
            "ix_flag_reason_close_wait",
            "reason",
            "close_wait_seconds",
            "created_at",
            postgresql_where=sa.text("close_wait_seconds IS NOT NULL"),
            sqlite_where=sa.text("close_wait_seconds IS NOT NULL"),
        ),
    )
    __mapper_args__: ClassVar[dict[str, Any]] = {"version_id_col": _VERSION_COLUMN}

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    created_at: datetime = Field(sa_type=UTCDateTime)
    # The ISO week (its Monday, UTC) the flag was created in: the weekly trend groups on it the
    # same way on SQLite and PostgreSQL, and an index serves it.
    created_week: date
    updated_at: datetime = Field(sa_type=UTCDateTime)
    # Optimistic concurrency: every flush of a changed flag runs
    # UPDATE ... WHERE id = :id AND version = :loaded_version, and bumps the version (the ETag).
    version: int = Field(default=1, sa_column=_VERSION_COLUMN)

    # The organization of the EHR (or CDS client) the flag came from: set by the server from the
    # launch, never by the client. Staff of other organizations cannot see the flag. A plain
    # id, like ``issuer`` (organizations are never deleted): SQLite cannot add a NOT NULL
    # column with a foreign key to a table that has rows.
    organization_id: uuid.UUID
    issuer: str = Field(max_length=REFERENCE_MAX_LENGTH)
    idempotency_key: str = Field(max_length=100)
    # The reporter's fhirUser, or "" for anonymous flags (whose reporter is not stored).
    idempotency_scope: str = Field(max_length=REFERENCE_MAX_LENGTH)
    request_fingerprint: str = Field(max_length=64)

    anonymity: str = Field(max_length=20)
    reporter_fhir_user: str | None = Field(default=None, max_length=REFERENCE_MAX_LENGTH)
    reporter_display: str | None = Field(default=None, max_length=NAME_MAX_LENGTH)
    # Where the reporter can be told about replies: kept with the identity (identified and
    # confidential flags), shown to readers only for identified ones (app.flags.anonymity).
    reporter_email: str | None = Field(default=None, max_length=EMAIL_MAX_LENGTH)
    reporter_role: str = Field(max_length=40)
    reporter_department: str | None = Field(default=None, max_length=NAME_MAX_LENGTH)
    receipt_token_hash: str | None = Field(default=None, max_length=64, unique=True)

    patient_fhir_id: str = Field(max_length=FHIR_ID_MAX_LENGTH)
    patient_age_band: str | None = Field(default=None, max_length=10)
    patient_sex: str | None = Field(default=None, max_length=10)

    encounter_fhir_id: str | None = Field(default=None, max_length=FHIR_ID_MAX_LENGTH)
    encounter_class: str | None = Field(default=None, max_length=40)
    encounter_type: str | None = Field(default=None, max_length=NAME_MAX_LENGTH)
    department: str | None = Field(default=None, max_length=NAME_MAX_LENGTH)
    encounter_start: datetime | None = Field(default=None, sa_type=UTCDateTime)
    encounter_end: datetime | None = Field(default=None, sa_type=UTCDateTime)

    order_resource_type: str = Field(max_length=40)
    order_fhir_id: str = Field(max_length=FHIR_ID_MAX_LENGTH)
    order_code_system: str | None = Field(default=None, max_length=REFERENCE_MAX_LENGTH)
    order_code: str | None = Field(default=None, max_length=100)
    order_display: str = Field(max_length=NAME_MAX_LENGTH)
    order_status: str = Field(max_length=20)
    order_intent: str | None = Field(default=None, max_length=20)
    order_authored_on: datetime | None = Field(default=None, sa_type=UTCDateTime)
    order_requester_role: str | None = Field(default=None, max_length=NAME_MAX_LENGTH)

    timing: str = Field(max_length=10)
    reason: str = Field(max_length=40)
    driver: str | None = Field(default=None, max_length=40)
    note: str | None = Field(default=None, max_length=NOTE_MAX_LENGTH)

    estimated_cost_cents: int | None = Field(default=None, ge=0)
    cost_source: str | None = Field(default=None, max_length=NAME_MAX_LENGTH)
    cost_year: int | None = Field(default=None)

    status: str = Field(max_length=20)
    priority: str = Field(max_length=10)
    tags: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    # The low-value rules that judged the order low-value at flag time (app.rules.agreement):
    # [{rule_id, rule_version, title, source_title, source_url}]; [] when the rules ran and
    # none did; NULL when none was run (flags from before, or without a context read).
    rule_agreement: list[dict[str, Any]] | None = Field(
        default=None, sa_type=sa.JSON(none_as_null=True)
    )
    # People from the staff directory (app.staff). Set only when the owner is a dyad:
    # owner_operational_lead_id; owner_lead_id is then the clinical lead.
    owner_lead_id: uuid.UUID | None = Field(default=None, foreign_key="staff.id")
    owner_operational_lead_id: uuid.UUID | None = Field(default=None, foreign_key="staff.id")
    duplicate_of_id: uuid.UUID | None = Field(default=None, foreign_key="flag.id")
    # Kept with the flag so loop metrics (time to first reply, closed-loop rate) need no join
    # over the timeline; written in the same transaction as the reply event.
    first_reply_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Seconds from the flag to that first reply, stored beside it: the median wait is then read
    # from an index in order instead of sorting every replied flag (PostgreSQL runs that sort
    # serially: 190 ms at 400,000 replies, against 25 ms for the index; bench/README.md).
    reply_wait_seconds: float | None = Field(default=None)
    # When the review ended (closed, not low-value or duplicate: every end state closes the
    # loop with a reply), and the seconds from the flag to then; cleared when the flag is
    # reopened. Written with the status change that ends the review, like the reply wait.
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    close_wait_seconds: float | None = Field(default=None)


class EventKind(StrEnum):
    """What a timeline entry records."""

    CREATED = "created"
    STATUS_CHANGE = "status_change"
    COMMENT = "comment"
    REPLY = "reply"
    ASSIGNMENT = "assignment"
    UPDATE = "update"
    # The team's reading of reason and driver; the reporter's own stays in the "created" event
    # and in earlier reclassifications (details: {"reason": {"from", "to"}, ...}).
    RECLASSIFICATION = "reclassification"


# What people read for each kind (the FHIR CodeSystem of event kinds is built from these).
EVENT_KIND_LABELS: dict[EventKind, str] = {
    EventKind.CREATED: "Flag submitted",
    EventKind.STATUS_CHANGE: "Status changed",
    EventKind.COMMENT: "Internal comment",
    EventKind.REPLY: "Reply to the reporter",
    EventKind.ASSIGNMENT: "Owner assigned",
    EventKind.UPDATE: "Priority or tags changed",
    EventKind.RECLASSIFICATION: "Reason or driver reclassified",
}

EVENT_KIND_DESCRIPTIONS: dict[EventKind, str] = {
    EventKind.CREATED: "A clinician flagged the order as low-value.",
    EventKind.STATUS_CHANGE: "The quality team moved the flag along the review workflow.",
    EventKind.COMMENT: "A note inside the quality team; the reporter does not see it.",
    EventKind.REPLY: "A message from the quality team to the reporter (closing the loop).",
    EventKind.ASSIGNMENT: "The flag was given a lead, or a clinical and operational dyad.",
    EventKind.UPDATE: "The quality team changed the flag's priority or tags.",
    EventKind.RECLASSIFICATION: "The quality team changed the reason or suspected driver; "
    "earlier values stay on the timeline.",
}


class FlagEvent(SQLModel, table=True):
    """One entry of a flag's timeline. Never updated or deleted: corrections are new events."""

    __tablename__ = "flag_event"
    __table_args__ = (
        sa.Index("ix_flag_event_flag", "flag_id", "id"),
        # Cycle time: the median stay in each status, read in order like the reply wait.
        sa.Index(
            "ix_flag_event_status_seconds",
            "from_status",
            "status_seconds",
            "flag_id",
            postgresql_where=sa.text("status_seconds IS NOT NULL"),
            sqlite_where=sa.text("status_seconds IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, sa_type=BigIntId, primary_key=True)
    flag_id: uuid.UUID = Field(foreign_key="flag.id")
    at: datetime = Field(sa_type=UTCDateTime)
    kind: str = Field(max_length=20)
    actor_name: str = Field(max_length=NAME_MAX_LENGTH)
    actor_role: str = Field(max_length=40)
    # The staff member who acted, when the actor is one (not a reporter or a service token).
    actor_staff_id: uuid.UUID | None = Field(default=None, foreign_key="staff.id")
    from_status: str | None = Field(default=None, max_length=20)
    to_status: str | None = Field(default=None, max_length=20)
    body: str | None = Field(default=None, max_length=MESSAGE_MAX_LENGTH)
    visible_to_reporter: bool = Field(default=False)
    details: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    # On a status change: the seconds the flag spent in ``from_status`` (since it entered it).
    status_seconds: float | None = Field(default=None)
