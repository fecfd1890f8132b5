"""CDS Hooks 2.0 shapes: the discovery document, a hook request, the cards response.

Field names are the specification's (camelCase on the wire); only what ValueLoop reads or
writes is modelled, and unknown request fields are kept out of the way rather than refused
(a CDS client may send extensions: CDS Hooks 2.0 "Extensions").
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl


class _Wire(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")


class FhirAuthorization(_Wire):
    """CDS Hooks 2.0 "Passing the Access Token to the CDS Service"."""

    access_token: str = Field(min_length=1, max_length=8192)
    token_type: Literal["Bearer"]
    expires_in: int = Field(ge=0)
    scope: str
    subject: str


class HookContext(_Wire):
    """order-select / order-sign context: the user, patient, encounter and draft orders."""

    userId: str = Field(min_length=1, max_length=256)  # noqa: N815 (the specification's name)
    patientId: str = Field(min_length=1, max_length=64)  # noqa: N815
    encounterId: str | None = Field(default=None, max_length=64)  # noqa: N815
    draftOrders: dict[str, Any]  # noqa: N815 (a FHIR Bundle)
    selections: list[str] = Field(default_factory=list)  # order-select only


class HookRequest(_Wire):
    """CDS Hooks 2.0 "HTTP Request" body."""

    hook: Literal["order-select", "order-sign"]
    hookInstance: uuid.UUID  # noqa: N815
    fhirServer: HttpUrl | None = None  # noqa: N815
    fhirAuthorization: FhirAuthorization | None = None  # noqa: N815
    context: HookContext
    prefetch: dict[str, Any] | None = None


class Coding(_Wire):
    system: str
    code: str
    display: str | None = None


class Source(_Wire):
    label: str
    url: str | None = None
    topic: Coding | None = None


class Action(_Wire):
    type: Literal["create", "update", "delete"]
    description: str
    resourceId: list[str] | None = None  # noqa: N815 (delete: the resources to remove)


class Suggestion(_Wire):
    label: str
    uuid: uuid.UUID
    isRecommended: bool = False  # noqa: N815
    actions: list[Action]


class Link(_Wire):
    label: str
    url: str
    type: Literal["absolute", "smart"]
    appContext: str | None = None  # noqa: N815


class Card(_Wire):
    uuid: uuid.UUID
    summary: str = Field(max_length=140)
    detail: str | None = None
    indicator: Literal["info", "warning", "critical"]
    source: Source
    suggestions: list[Suggestion] = Field(default_factory=list)
    selectionBehavior: Literal["at-most-one", "any"] | None = None  # noqa: N815
    overrideReasons: list[Coding] = Field(default_factory=list)  # noqa: N815
    links: list[Link] = Field(default_factory=list)


class CardsResponse(_Wire):
    cards: list[Card]
    systemActions: list[Action] = Field(default_factory=list)  # noqa: N815


class ServiceDefinition(_Wire):
    hook: str
    id: str
    title: str
    description: str
    prefetch: dict[str, str]
    usageRequirements: str | None = None  # noqa: N815


class Discovery(_Wire):
    services: list[ServiceDefinition]


class AcceptedSuggestion(_Wire):
    id: uuid.UUID


class OverrideReason(_Wire):
    reason: Coding | None = None
    userComment: str | None = Field(default=None, max_length=2000)  # noqa: N815


class FeedbackItem(_Wire):
    """CDS Hooks 2.0 "Feedback": what became of one card."""

    card: uuid.UUID
    outcome: Literal["accepted", "overridden"]
    acceptedSuggestions: list[AcceptedSuggestion] = Field(default_factory=list, max_length=10)  # noqa: N815
    overrideReason: OverrideReason | None = None  # noqa: N815
    outcomeTimestamp: datetime  # noqa: N815


class FeedbackRequest(_Wire):
    feedback: list[FeedbackItem] = Field(min_length=1, max_length=100)
