"""What the API says about organizations."""

from __future__ import annotations

from pydantic import BaseModel


class OrganizationPublic(BaseModel):
    code: str
    name: str


class OrganizationList(BaseModel):
    items: list[OrganizationPublic]
