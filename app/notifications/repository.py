"""Every query on the outbox and on webhook endpoints. Where SQLite and PostgreSQL differ the
difference is kept here.

The outbox statements are each one round trip. A claim is one ``UPDATE ... WHERE id IN
(SELECT ... FOR UPDATE SKIP LOCKED) RETURNING``: on PostgreSQL concurrent workers skip the rows
another worker is claiming; SQLite has one writer at a time and ignores the locking clause.
Marks after a send are conditional on the try they report (``attempts``), so a worker whose
lease ran out cannot overwrite the outcome of the worker that took the row over.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.db import dialect_name, upsert_insert
from app.notifications.models import DeliveryStatus, OutboxDelivery, WebhookEndpoint

_OUTBOX = OutboxDelivery.metadata.tables[OutboxDelivery.__tablename__]
_PENDING = DeliveryStatus.PENDING.value


# --- the outbox ---------------------------------------------------------------------------------


async def insert_new(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert deliveries; one whose idempotency key is already stored is left out (``ON
    CONFLICT DO NOTHING``; on PostgreSQL a concurrent insert of the same key waits for the
    other transaction, then does nothing)."""
    if rows:
        await session.execute(_insert_new(dialect_name(session)), list(rows))


@cache
def _insert_new(dialect: str) -> sa.Insert:
    dialect_insert = upsert_insert(dialect)
    return dialect_insert(_OUTBOX).on_conflict_do_nothing(
        index_elements=[_OUTBOX.c.idempotency_key]
    )


async def claim(
    session: AsyncSession, *, now: datetime, lease_until: datetime, limit: int
) -> Sequence[sa.Row[Any]]:
    """Claim up to ``limit`` due deliveries for this worker until ``lease_until``, counting a
    try for each. A delivery in a sequence waits while an earlier one of its sequence is still
    pending (a dead one no longer holds the sequence up)."""
    earlier = _OUTBOX.alias("earlier")
    held_up = sa.exists().where(
        earlier.c.sequence_key == _OUTBOX.c.sequence_key,
        earlier.c.id < _OUTBOX.c.id,
        earlier.c.status == _PENDING,
    )
    due = (
        sa.select(_OUTBOX.c.id)
        .where(
            _OUTBOX.c.status == _PENDING,
            _OUTBOX.c.next_attempt_at <= now,
            sa.or_(_OUTBOX.c.claimed_until.is_(None), _OUTBOX.c.claimed_until < now),
            sa.or_(_OUTBOX.c.sequence_key.is_(None), ~held_up),
        )
        .order_by(_OUTBOX.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=_OUTBOX)
    )
    result = await session.execute(
        sa.update(_OUTBOX)
        .where(_OUTBOX.c.id.in_(due))
        .values(attempts=_OUTBOX.c.attempts + 1, claimed_until=lease_until)
        .returning(*_OUTBOX.c)
    )
    return sorted(result.all(), key=lambda row: row.id)


async def mark_delivered(session: AsyncSession, delivery_id: int, *, now: datetime) -> None:
    """Known to have arrived: whoever sent it, it is never sent again."""
    await session.execute(
        sa.update(_OUTBOX)
        .where(_OUTBOX.c.id == delivery_id, _OUTBOX.c.status == _PENDING)
        .values(
            status=DeliveryStatus.DELIVERED.value,
            delivered_at=now,
            claimed_until=None,
            last_error=None,
        )
    )


async def mark_failed(
    session: AsyncSession,
    delivery_id: int,
    *,
    attempt: int,
    error: str,
    retry_at: datetime | None,
) -> None:
    """Record a failed try: due again at ``retry_at``, or dead when that is None. Only if the
    row is still this try's (no other worker claimed it since)."""
    values: dict[str, Any] = {"claimed_until": None, "last_error": error}
    if retry_at is None:
        values["status"] = DeliveryStatus.DEAD.value
    else:
        values["next_attempt_at"] = retry_at
    await session.execute(
        sa.update(_OUTBOX)
        .where(
            _OUTBOX.c.id == delivery_id,
            _OUTBOX.c.status == _PENDING,
            _OUTBOX.c.attempts == attempt,
        )
        .values(**values)
    )


async def retry(session: AsyncSession, delivery_id: int, *, now: datetime) -> bool:
    """Make a dead (or waiting) delivery due now with a fresh count of tries; False when there
    is no such delivery or it was delivered already."""
    result = await session.execute(
        sa.update(_OUTBOX)
        .where(
            _OUTBOX.c.id == delivery_id,
            _OUTBOX.c.status.in_([DeliveryStatus.DEAD.value, _PENDING]),
        )
        .values(status=_PENDING, attempts=0, next_attempt_at=now, claimed_until=None)
        .returning(_OUTBOX.c.id)
    )
    return result.first() is not None


async def delivery(session: AsyncSession, delivery_id: int) -> OutboxDelivery | None:
    return await session.get(OutboxDelivery, delivery_id, populate_existing=True)


async def troubled(
    session: AsyncSession, *, dead: bool, limit: int, before_id: int | None
) -> Sequence[OutboxDelivery]:
    """Dead deliveries, or pending ones that failed at least once (retrying), newest first."""
    query = select(OutboxDelivery)
    if dead:
        query = query.where(col(OutboxDelivery.status) == DeliveryStatus.DEAD.value)
    else:
        query = query.where(
            col(OutboxDelivery.status) == _PENDING, col(OutboxDelivery.last_error).is_not(None)
        )
    if before_id is not None:
        query = query.where(col(OutboxDelivery.id) < before_id)
    result = await session.scalars(query.order_by(col(OutboxDelivery.id).desc()).limit(limit))
    return result.all()


async def for_flag(session: AsyncSession, flag_id: uuid.UUID) -> Sequence[OutboxDelivery]:
    result = await session.scalars(
        select(OutboxDelivery)
        .where(col(OutboxDelivery.flag_id) == flag_id)
        .order_by(col(OutboxDelivery.id))
    )
    return result.all()


# --- webhook endpoints ---------------------------------------------------------------------------


def add_endpoint(session: AsyncSession, endpoint: WebhookEndpoint) -> None:
    session.add(endpoint)


async def endpoint(session: AsyncSession, endpoint_id: uuid.UUID) -> WebhookEndpoint | None:
    return await session.get(WebhookEndpoint, endpoint_id)


async def endpoints(session: AsyncSession) -> Sequence[WebhookEndpoint]:
    result = await session.scalars(
        select(WebhookEndpoint).order_by(col(WebhookEndpoint.created_at), col(WebhookEndpoint.id))
    )
    return result.all()


async def active_endpoints(session: AsyncSession) -> Sequence[WebhookEndpoint]:
    """Every active endpoint (a handful): the caller picks those subscribed to an event."""
    result = await session.scalars(
        select(WebhookEndpoint)
        .where(col(WebhookEndpoint.active).is_(True))
        .order_by(col(WebhookEndpoint.id))
    )
    return result.all()


async def delete_endpoint(session: AsyncSession, endpoint: WebhookEndpoint) -> None:
    await session.delete(endpoint)
    await session.flush()
