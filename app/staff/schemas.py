"""What the staff-session API accepts and returns."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from app.auth.models import Role
from app.auth.permissions import Permission


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    token: Annotated[SecretStr, Field(min_length=1, max_length=200)]


class SessionInfo(BaseModel):
    """The signed-in staff member and what the dashboard needs to know about the session."""

    name: str
    role: Role
    permissions: list[Permission]
    method: str
    csrf_token: str = Field(
        description="Send as 'X-CSRF-Token' on every change made with this session."
    )
    expires_at: datetime = Field(description="When the session ends if left idle.")
    reply_sla_hours: int = Field(
        description="Flags unanswered for longer than this are highlighted."
    )
