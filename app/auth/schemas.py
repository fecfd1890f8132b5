"""API token requests and responses."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.auth.models import ApiToken, Role


class TokenCreate(BaseModel):
    """A person's token (``staff_id``: their name and role), or a named service token
    (``name`` and ``role``)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    role: Role | None = None
    staff_id: uuid.UUID | None = Field(
        default=None, description="The staff member the token belongs to."
    )
    organization: Annotated[str, Field(min_length=1, max_length=20)] | None = Field(
        default=None,
        description="A service token's organization code; none: the system level (every "
        "organization's flags). A person's token follows the person's organization.",
    )

    @model_validator(mode="after")
    def _a_person_or_a_service(self) -> TokenCreate:
        if self.staff_id is not None and (
            self.name is not None or self.role is not None or self.organization is not None
        ):
            raise ValueError(
                "a person's token takes their name, role and organization from the staff "
                "directory: give 'staff_id' alone, or 'name' and 'role' for a service token"
            )
        if self.staff_id is None and (self.name is None or self.role is None):
            raise ValueError("give 'staff_id', or 'name' and 'role' for a service token")
        return self


class TokenPublic(BaseModel):
    id: uuid.UUID
    name: str
    role: Role
    token_prefix: str
    created_at: datetime
    created_by: str
    revoked_at: datetime | None
    staff_id: uuid.UUID | None = Field(description="The person it belongs to; null: a service.")
    organization_id: uuid.UUID | None = Field(
        description="Whose flags it sees; null: every organization's (the system level)."
    )

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
            staff_id=record.staff_id,
            organization_id=record.organization_id,
        )


class TokenIssued(TokenPublic):
    token: str = Field(description="The secret, shown this once. Store it safely.")
