"""What the outbox worker hands a channel, and how a channel says a delivery failed.

A channel (email over SMTP, a signed webhook) knows one protocol and nothing of the outbox
table: the worker claims a row, turns it into a `Delivery`, and calls the channel named by the
row. Planning (who must hear about an event) yields `PlannedDelivery` values that the outbox
writes in the event's own transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = ["Channel", "Delivery", "DeliveryFailed", "PlannedDelivery"]


@dataclass(frozen=True, kw_only=True)
class PlannedDelivery:
    """One message one recipient must get because of one event, before it is stored."""

    channel: str  # "email" | "webhook"
    recipient: str  # an email address, or a webhook endpoint's id
    event: str  # e.g. "flag.replied", "flag.assigned", "digest.overdue"
    payload: Mapping[str, Any] = field(default_factory=dict)
    flag_id: uuid.UUID | None = None
    # Set when the same delivery may be planned twice and must be stored once (a daily digest);
    # otherwise the outbox makes a fresh key.
    idempotency_key: str | None = None


@dataclass(frozen=True, kw_only=True)
class Delivery:
    """A claimed outbox row as a channel sees it. ``idempotency_key`` goes on the wire (the
    webhook's ``webhook-id``, the email's ``Message-ID``) so a repeat is recognisable."""

    id: int
    idempotency_key: str
    channel: str
    recipient: str
    event: str
    payload: Mapping[str, Any]
    flag_id: uuid.UUID | None
    attempt: int  # 1 on the first try


class DeliveryFailed(Exception):
    """A delivery did not go through. ``retryable`` False sends it to the dead letters at once
    (a recipient that no longer exists); True retries with backoff up to the limit."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class Channel(Protocol):
    """Sends one delivery over one protocol; raises `DeliveryFailed` when it did not."""

    name: str

    async def deliver(self, delivery: Delivery) -> None: ...
