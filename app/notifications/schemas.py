"""What the notifications admin API (``/api/v1/webhooks``, ``/api/v1/deliveries``) accepts and
returns. A webhook's signing secret goes in (or is generated) and comes out once, on creation."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from app.notifications.models import OutboxDelivery, WebhookEndpoint
from app.notifications.webhooks import EVENTS

EventName = Literal[
    "flag.created",
    "flag.status_changed",
    "flag.replied",
    "flag.assigned",
    "improvement.requested",
]
assert set(get_args(EventName)) == set(EVENTS)  # one list of events, said twice for the schema
Url = Annotated[str, Field(min_length=1, max_length=500)]
Events = Annotated[list[EventName], Field(min_length=1, max_length=len(EVENTS))]


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    url: Url = Field(description="Where events are POSTed; https except on this machine.")
    events: Events = Field(description="The events this endpoint gets.")
    secret: Annotated[SecretStr, Field(min_length=1, max_length=200)] | None = Field(
        default=None,
        description="The signing secret, 'whsec_' + base64 of 24-64 random bytes; leave it "
        "out to have one generated (returned once, in the response).",
    )
    allow_patient_data: bool = Field(
        default=False,
        description="Also send the patient's id, the order's text and the reporter's note. "
        "Only for systems allowed to hold PHI.",
    )
    description: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    organization: Annotated[str, Field(min_length=1, max_length=20)] | None = Field(
        default=None,
        description="An organization's code: the endpoint gets only that organization's flag "
        "events and change requests. Leave it out for every organization's.",
    )


class WebhookChange(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    url: Url | None = None
    events: Events | None = None
    active: bool | None = Field(default=None, description="false: no new events are sent.")
    allow_patient_data: bool | None = None


class WebhookPublic(BaseModel):
    id: uuid.UUID
    url: str
    events: list[str]
    allow_patient_data: bool
    active: bool
    description: str | None
    organization_id: uuid.UUID | None = Field(
        description="Whose events it gets; null: every organization's."
    )
    created_at: datetime

    @classmethod
    def of(cls, endpoint: WebhookEndpoint) -> WebhookPublic:
        return cls.model_validate(endpoint, from_attributes=True)


class WebhookCreated(WebhookPublic):
    secret: str = Field(description="The signing secret: shown only now.")


class DeliveryState(StrEnum):
    DEAD = "dead"  # gave up
    RETRYING = "retrying"  # failed at least once, will be tried again


class DeliveryPublic(BaseModel):
    """A delivery as the dead-letter view shows it: never its payload."""

    id: int
    idempotency_key: str
    channel: str
    recipient: str = Field(description="The webhook endpoint's id, or the email address.")
    recipient_label: str = Field(
        description="Who it goes to as an admin knows them: the webhook's URL (or that the "
        "endpoint was removed), the email address."
    )
    event: str
    flag_id: uuid.UUID | None
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None

    @classmethod
    def of(cls, delivery: OutboxDelivery, *, recipient_label: str) -> DeliveryPublic:
        return cls.model_validate({**delivery.model_dump(), "recipient_label": recipient_label})


class DeliveryPage(BaseModel):
    items: list[DeliveryPublic]
    next_before: int | None = Field(
        description="Pass as 'before' for the next (older) page; null on the last page."
    )
