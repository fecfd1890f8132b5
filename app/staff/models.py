"""The staff directory: the quality team's people, as records rather than strings.

A person is created by OpenID Connect sign-in (just in time), by ``valueloop staff add`` or on
the Admin page. Nobody is ever deleted: deactivating keeps every flag, timeline event and
audit row that names them meaningful, and stops their sign-ins, sessions and tokens.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime

STAFF_NAME_MAX_LENGTH = 200
# RFC 5321 section 4.5.3.1: a path is at most 256 octets; 320 is the usual column bound.
EMAIL_MAX_LENGTH = 320


class Staff(SQLModel, table=True):
    __tablename__ = "staff"
    __table_args__ = (
        # OpenID Connect Core 1.0 section 2: iss + sub identify a person, never the email.
        sa.UniqueConstraint("oidc_issuer", "oidc_subject", name="uq_staff_oidc"),
        sa.Index("ix_staff_name", "name", "id"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(max_length=STAFF_NAME_MAX_LENGTH)
    # Stored lower-case, so uniqueness and look-ups ignore case. Null only for people kept
    # from before the directory (migration 0009), who were names without an address.
    email: str | None = Field(default=None, max_length=EMAIL_MAX_LENGTH, unique=True)
    role: str = Field(max_length=20)
    # None: system level (sees every organization's flags); else only this organization's.
    organization_id: uuid.UUID | None = Field(
        default=None, foreign_key="organization.id", index=True
    )
    active: bool = Field(default=True)
    created_at: datetime = Field(sa_type=UTCDateTime)
    deactivated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The just-in-time link to the organisation's identity provider.
    oidc_issuer: str | None = Field(default=None, max_length=500)
    oidc_subject: str | None = Field(default=None, max_length=255)
