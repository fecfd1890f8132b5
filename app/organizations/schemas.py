"""What the API says about organizations."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, Field


class OrganizationPublic(BaseModel):
    id: uuid.UUID = Field(description="What flags, improvements and webhooks name it by.")
    code: str
    name: str


class OrganizationList(BaseModel):
    items: list[OrganizationPublic]
