"""The outbox (one row per delivery of one event to one recipient) and webhook endpoints.

An outbox row is written in the same transaction as the event that causes it, so a flag change
and the messages about it are saved together or not at all; workers then send it (at least
once) and record how it went. ``last_error`` is written by us, never copied from a response
body, so it carries no patient data.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.db import BigIntId, UTCDateTime

URL_MAX_LENGTH = 500
ERROR_MAX_LENGTH = 500


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # to send, or being sent (claimed_until in the future), or to retry
    DELIVERED = "delivered"  # known to have arrived: never sent again
    DEAD = "dead"  # gave up (attempts exhausted, or refused for good); an admin may retry


class OutboxDelivery(SQLModel, table=True):
    """One message one recipient must get because of one event."""

    __tablename__ = "outbox_delivery"
    __table_args__ = (
        # What a worker claims: due pending rows, oldest first.
        sa.Index("ix_outbox_due", "status", "next_attempt_at", "id"),
        # Deliveries that must go in order (a webhook endpoint's events about one flag).
        sa.Index("ix_outbox_sequence", "sequence_key", "id"),
        sa.Index("ix_outbox_flag", "flag_id"),
    )

    id: int | None = Field(default=None, sa_type=BigIntId, primary_key=True)
    # Goes on the wire (webhook-id, Message-ID) so a receiver recognises a repeat.
    idempotency_key: str = Field(max_length=200, unique=True)
    channel: str = Field(max_length=20)
    recipient: str = Field(max_length=URL_MAX_LENGTH)
    event: str = Field(max_length=50)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    flag_id: uuid.UUID | None = Field(default=None)
    # Rows sharing a key are delivered one after another, in id order; None: no order.
    sequence_key: str | None = Field(default=None, max_length=200)
    status: str = Field(default=DeliveryStatus.PENDING, max_length=10)
    # Tries started (a claim counts one, so a worker killed mid-send used one up).
    attempts: int = Field(default=0)
    next_attempt_at: datetime = Field(sa_type=UTCDateTime)
    # The lease of the worker sending it; past it, another worker may claim the row.
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=ERROR_MAX_LENGTH)
    created_at: datetime = Field(sa_type=UTCDateTime)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WebhookEndpoint(SQLModel, table=True):
    """A system (ticketing, chat) that gets signed flag events. The signing secret is stored
    encrypted and shown only when the endpoint is created."""

    __tablename__ = "webhook_endpoint"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    url: str = Field(max_length=URL_MAX_LENGTH)
    events: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    secret_encrypted: str = Field(max_length=1000)
    # Minimum necessary: patient id, order text and note go only where this is set.
    allow_patient_data: bool = Field(default=False)
    active: bool = Field(default=True)
    description: str | None = Field(default=None, max_length=200)
    # Whose events it gets: one organization's flags and improvement work, or (None) every
    # organization's. A plain id, as on flags (organizations are never deleted).
    organization_id: uuid.UUID | None = Field(default=None)
    created_at: datetime = Field(sa_type=UTCDateTime)
