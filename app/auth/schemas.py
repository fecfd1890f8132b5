"""API token requests and responses."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.auth.models import ApiToken, Role


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Annotated[str, Field(min_length=1, max_length=100)]
    role: Role


class TokenPublic(BaseModel):
    id: uuid.UUID
    name: str
    role: Role
    token_prefix: str
    created_at: datetime
    created_by: str
    revoked_at: datetime | None

    @classmethod
    def of(cls, record: ApiToken) -> TokenPublic:
        return cls(
            id=record.id,
            name=record.name,
            role=Role(record.role),
            token_prefix=record.token_prefix,
            created_at=record.created_at,
            created_by=record.created_by,
            revoked_at=record.revoked_at,
        )


class TokenIssued(TokenPublic):
    token: str = Field(description="The secret, shown this once. Store it safely.")
