"""What the staff-session and staff-directory APIs accept and return."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from app.auth.models import Role
from app.auth.permissions import Permission
from app.staff.models import EMAIL_MAX_LENGTH, STAFF_NAME_MAX_LENGTH, Staff


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    token: Annotated[SecretStr, Field(min_length=1, max_length=200)]


class SessionInfo(BaseModel):
    """The signed-in staff member and what the dashboard needs to know about the session."""

    name: str
    staff_id: uuid.UUID | None = Field(
        default=None, description="The signed-in person in the staff directory, if any."
    )
    role: Role
    permissions: list[Permission]
    organization_id: uuid.UUID | None = Field(
        default=None, description="Whose flags the session sees; null: every organization's."
    )
    method: str
    csrf_token: str = Field(
        description="Send as 'X-CSRF-Token' on every change made with this session."
    )
    expires_at: datetime = Field(description="When the session ends if left idle.")
    reply_sla_hours: int = Field(
        description="Flags unanswered for longer than this are highlighted."
    )


# --- the staff directory -------------------------------------------------------------------

# Deliberately loose (RFC 5322 allows far more than any pattern checks): one @, something on
# each side, a dot in the domain, no spaces. The real test is whether mail arrives.
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
Email = Annotated[str, Field(min_length=3, max_length=EMAIL_MAX_LENGTH, pattern=EMAIL_PATTERN)]
StaffName = Annotated[str, Field(min_length=1, max_length=STAFF_NAME_MAX_LENGTH)]


class StaffCreate(BaseModel):
    """A person to add to the directory (admin only)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    email: Email = Field(description="Stored lower-case; unique in the directory.")
    name: StaffName
    role: Role
    organization: Annotated[str, Field(min_length=1, max_length=20)] | None = Field(
        default=None,
        description="The code of their organization (they see its flags only); none: the "
        "system level (every organization's flags).",
    )


class StaffUpdate(BaseModel):
    """What an admin may change about a person; ``active: false`` deactivates (never deletes)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: StaffName | None = None
    email: Email | None = None
    role: Role | None = None
    active: bool | None = None

    @model_validator(mode="after")
    def _something_to_change(self) -> StaffUpdate:
        if all(value is None for value in (self.name, self.email, self.role, self.active)):
            raise ValueError("give 'name', 'email', 'role' or 'active' to change")
        return self


class StaffPublic(BaseModel):
    """A person in the directory."""

    id: uuid.UUID
    name: str
    email: str | None = Field(description="Null only for people kept from before the directory.")
    role: Role
    active: bool
    organization_id: uuid.UUID | None = Field(
        description="Their organization; null: the system level."
    )

    @classmethod
    def of(cls, person: Staff) -> StaffPublic:
        return cls(
            id=person.id,
            name=person.name,
            email=person.email,
            role=Role(person.role),
            active=person.active,
            organization_id=person.organization_id,
        )


class StaffPage(BaseModel):
    items: list[StaffPublic]
    next_cursor: str | None = Field(
        description="Pass as 'cursor' for the next page; null on the last page."
    )


class StaffRef(BaseModel):
    """A person as other records show them (a flag's owner): enough to name and reach them."""

    id: uuid.UUID
    name: str
    email: str | None = None
    active: bool

    @classmethod
    def of(cls, person: Staff) -> StaffRef:
        return cls(id=person.id, name=person.name, email=person.email, active=person.active)
