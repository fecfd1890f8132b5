"""The table of EHRs allowed to launch ValueLoop. Client secrets are stored encrypted."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime
from app.organizations.models import DEFAULT_ORGANIZATION_ID

URL_MAX_LENGTH = 500


class RegisteredEhr(SQLModel, table=True):
    """An EHR allowed to launch ValueLoop. Launches from any other issuer are refused."""

    __tablename__ = "registered_ehr"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    issuer: str = Field(max_length=URL_MAX_LENGTH, unique=True)
    name: str = Field(max_length=200)
    # Flags launched from this EHR belong to this organization
    # (a plain id, as flag.organization_id).
    organization_id: uuid.UUID = Field(default=DEFAULT_ORGANIZATION_ID)
    client_id: str = Field(max_length=200)
    client_auth: str = Field(max_length=30)
    client_secret_encrypted: str | None = Field(default=None, max_length=2000)
    scopes: list[str] | None = Field(default=None, sa_type=sa.JSON)
    frame_origins: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    # Some EHRs' discovery documents omit code_challenge_methods_supported; we always send
    # PKCE S256, and with force_pkce we also refuse EHRs that advertise methods without S256.
    force_pkce: bool = Field(default=True)
    created_at: datetime = Field(sa_type=UTCDateTime)
