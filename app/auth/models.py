"""API tokens for the quality team: stored hashed, shown once, revocable."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from app.db import UTCDateTime


class Role(StrEnum):
    """Quality-team roles, from least to most powerful."""

    LEAD = "lead"
    ANALYST = "analyst"
    ADMIN = "admin"


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_token"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(max_length=100)
    role: str = Field(max_length=20)
    # SHA-256 of the token: tokens carry 256 random bits, so a fast hash is enough and lookups
    # stay one indexed read per request.
    token_hash: str = Field(max_length=64, unique=True)
    # The first characters of the token, so an admin can tell tokens apart without the secret.
    token_prefix: str = Field(max_length=16)
    created_at: datetime = Field(sa_type=UTCDateTime)
    created_by: str = Field(max_length=100)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
