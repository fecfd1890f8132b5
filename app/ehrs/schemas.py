"""What the EHR-registration API (``/api/v1/ehrs``) accepts and returns. Client secrets go
in and never come out."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from app.ehrs.models import RegisteredEhr
from app.ehrs.service import ClientAuthKind

Text = Annotated[str, Field(min_length=1, max_length=500)]


class EhrRegistration(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    issuer: Text = Field(description="The EHR's FHIR base URL: the launch's iss.")
    client_id: Annotated[str, Field(min_length=1, max_length=200)]
    client_auth: ClientAuthKind = ClientAuthKind.NONE
    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    client_secret: Annotated[SecretStr, Field(min_length=1, max_length=500)] | None = None
    frame_origins: Annotated[list[Text], Field(max_length=20)] = Field(default_factory=list)
    scopes: (
        Annotated[list[Annotated[str, Field(min_length=1, max_length=200)]], Field(max_length=50)]
        | None
    ) = None
    organization: Annotated[str, Field(min_length=1, max_length=20)] | None = Field(
        default=None,
        description="The code of the organization its flags belong to; default: 'main'.",
    )


class EhrPublic(BaseModel):
    id: uuid.UUID
    issuer: str
    name: str
    client_id: str
    client_auth: ClientAuthKind
    frame_origins: list[str]
    scopes: list[str] | None
    organization_id: uuid.UUID
    created_at: datetime

    @classmethod
    def of(cls, ehr: RegisteredEhr) -> EhrPublic:
        return cls(
            id=ehr.id,
            issuer=ehr.issuer,
            name=ehr.name,
            client_id=ehr.client_id,
            client_auth=ClientAuthKind(ehr.client_auth),
            frame_origins=list(ehr.frame_origins),
            scopes=list(ehr.scopes) if ehr.scopes is not None else None,
            organization_id=ehr.organization_id,
            created_at=ehr.created_at,
        )
