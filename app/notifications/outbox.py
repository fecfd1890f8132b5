"""The outbox: deliveries stored in the event's own transaction, claimed by workers with a
lease, retried with backoff, and finally delivered or dead.

The guarantees, and what gives each one:

- **Nothing is sent for an event that did not happen, nothing is lost for one that did:**
  :func:`enqueue` adds the rows to the caller's session and never commits; the event's
  transaction commits or rolls back both.
- **At least once:** a claim is a lease (``claimed_until``). A worker killed mid-send leaves the
  row pending; once the lease runs out another worker claims it again. So a receiver may see a
  delivery twice, and the idempotency key on the wire lets it recognise the repeat.
- **Never again once known delivered:** a delivered row is never claimed.
- **Several workers:** claims skip rows another worker is claiming (``FOR UPDATE SKIP
  LOCKED`` on PostgreSQL; SQLite has a single writer).
- **In order where it matters:** rows with the same ``sequence_key`` (a webhook endpoint's
  events about one flag) go one at a time, in the order they were stored; a dead one stops
  holding the rest up. Two writes to one flag are serialised by the flag's row (optimistic
  version check), so their rows are stored in the order of the writes.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.kit.time import utcnow
from app.notifications import repository
from app.notifications.channels import Delivery, PlannedDelivery
from app.notifications.models import ERROR_MAX_LENGTH, DeliveryStatus

# The channels whose deliveries about one flag must arrive in order, per recipient.
ORDERED_CHANNELS = frozenset({"webhook"})


def sequence_key(planned: PlannedDelivery) -> str | None:
    """The sequence a delivery waits its turn in: per channel, recipient and flag."""
    if planned.channel not in ORDERED_CHANNELS or planned.flag_id is None:
        return None
    return f"{planned.channel}:{planned.recipient}:{planned.flag_id}"


async def enqueue(session: AsyncSession, planned: Sequence[PlannedDelivery]) -> None:
    """Store ``planned`` deliveries in the caller's transaction (no commit).

    A delivery planned with an idempotency key that is already stored (the same day's digest
    planned by two workers) is stored once; one without gets a fresh key.
    """
    now = utcnow()
    rows: list[dict[str, Any]] = [
        {
            "idempotency_key": item.idempotency_key or f"msg_{uuid.uuid4().hex}",
            "channel": item.channel,
            "recipient": item.recipient,
            "event": item.event,
            "payload": dict(item.payload),
            "flag_id": item.flag_id,
            "sequence_key": sequence_key(item),
            "status": DeliveryStatus.PENDING.value,
            "attempts": 0,
            "next_attempt_at": now,
            "claimed_until": None,
            "last_error": None,
            "created_at": now,
            "delivered_at": None,
        }
        for item in planned
    ]
    await repository.insert_new(session, rows)


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """How long a claim lasts, how often to try, and how long to wait between tries."""

    lease: timedelta
    max_attempts: int
    base_delay: timedelta
    max_delay: timedelta

    @classmethod
    def of(cls, settings: Settings) -> RetryPolicy:
        return cls(
            lease=timedelta(seconds=settings.outbox_lease_seconds),
            max_attempts=settings.outbox_max_attempts,
            base_delay=timedelta(seconds=settings.outbox_retry_base_seconds),
            max_delay=timedelta(seconds=settings.outbox_retry_max_seconds),
        )

    def retry_at(self, attempt: int, now: datetime) -> datetime | None:
        """When to try again after failed try ``attempt`` (1-based), or None: give up.

        Exponential backoff with "equal jitter" (half fixed, half random), so receivers that
        come back up are not hit by every worker's retries in the same second.
        """
        if attempt >= self.max_attempts:
            return None
        delay = min(self.max_delay, self.base_delay * (1 << min(attempt - 1, 30)))
        jittered = delay / 2 + delay / 2 * random.random()  # noqa: S311 (timing, not secrets)
        return now + jittered


async def claim(session: AsyncSession, policy: RetryPolicy, *, limit: int) -> list[Delivery]:
    """Claim due deliveries for this worker (the caller commits, which starts the lease)."""
    now = utcnow()
    rows = await repository.claim(session, now=now, lease_until=now + policy.lease, limit=limit)
    return [
        Delivery(
            id=row.id,
            idempotency_key=row.idempotency_key,
            channel=row.channel,
            recipient=row.recipient,
            event=row.event,
            payload=row.payload,
            flag_id=row.flag_id,
            attempt=row.attempts,
        )
        for row in rows
    ]


async def delivered(session: AsyncSession, delivery: Delivery) -> None:
    await repository.mark_delivered(session, delivery.id, now=utcnow())


async def failed(
    session: AsyncSession,
    delivery: Delivery,
    policy: RetryPolicy,
    *,
    error: str,
    retryable: bool,
) -> datetime | None:
    """Record a failed try; returns when it is due again, or None: it is dead now."""
    retry_at = policy.retry_at(delivery.attempt, utcnow()) if retryable else None
    await repository.mark_failed(
        session,
        delivery.id,
        attempt=delivery.attempt,
        error=error[:ERROR_MAX_LENGTH],
        retry_at=retry_at,
    )
    return retry_at
