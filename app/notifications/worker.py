"""The outbox worker: claims due deliveries, hands each to the channel its row names, records
the outcome, and runs the periodic jobs it was given (the daily digest).

Any number of workers may run against one PostgreSQL database (claims skip each other's rows);
on SQLite, one process (``valueloop serve`` with its in-process worker) is the embedded default.
Stopping is clean: the worker finishes the sends in hand, then returns. A worker that is
killed instead loses nothing: its leases run out and another worker sends those rows again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.kit.time import utcnow
from app.notifications import outbox
from app.notifications.channels import Channel, Delivery, DeliveryFailed
from app.notifications.outbox import RetryPolicy

logger = logging.getLogger(__name__)

# A job the worker runs every ``periodic_interval`` in a session of its own, committed after
# the job returns. Every worker process runs it, so it must be idempotent: plan deliveries with
# an ``idempotency_key`` (e.g. the digest's day), and the outbox stores them once.
PeriodicJob = Callable[[AsyncSession, datetime], Awaitable[None]]


class Worker:
    """Drains the outbox until told to stop.

    >>> worker = Worker(factory, {"webhook": webhooks}, policy=RetryPolicy.of(settings))
    >>> task = asyncio.create_task(worker.run())
    >>> worker.stop(); await task
    """

    def __init__(
        self,
        factory: async_sessionmaker[AsyncSession],
        channels: Mapping[str, Channel],
        *,
        policy: RetryPolicy,
        periodic: Sequence[PeriodicJob] = (),
        poll_interval: float = 1.0,
        periodic_interval: float = 60.0,
        batch_size: int = 10,
    ) -> None:
        self._factory = factory
        self._channels = dict(channels)
        self._policy = policy
        self._periodic = tuple(periodic)
        self._poll_interval = poll_interval
        self._periodic_interval = timedelta(seconds=periodic_interval)
        self._batch_size = batch_size
        self._stopping = asyncio.Event()
        self._next_periodic: datetime | None = None

    def stop(self) -> None:
        """Ask the worker to stop after the sends in hand."""
        self._stopping.set()

    async def run(self) -> None:
        """Deliver until :meth:`stop`; a database outage is logged and waited out."""
        while not self._stopping.is_set():
            try:
                await self.run_periodic_if_due()
                sent = await self.drain_once()
            except Exception:
                # The loop must outlive a database restart; the next round tries again.
                logger.exception("outbox round failed; retrying after the poll interval")
                sent = 0
            if sent == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), self._poll_interval)

    async def drain_once(self) -> int:
        """Claim one batch and deliver it concurrently; returns how many were claimed."""
        async with self._factory() as session:
            claimed = await outbox.claim(session, self._policy, limit=self._batch_size)
            await session.commit()
        if claimed:
            async with asyncio.TaskGroup() as group:
                for delivery in claimed:
                    group.create_task(self._deliver(delivery))
        return len(claimed)

    async def drain(self) -> int:
        """Deliver until nothing is due now (tests, and ``valueloop worker --once``)."""
        total = 0
        while sent := await self.drain_once():
            total += sent
        return total

    async def _deliver(self, delivery: Delivery) -> None:
        error, retryable = await self._send(delivery)
        async with self._factory() as session:
            if error is None:
                await outbox.delivered(session, delivery)
            else:
                retry_at = await outbox.failed(
                    session, delivery, self._policy, error=error, retryable=retryable
                )
                # Ids, channel and our own error text only: no recipient, no payload.
                logger.warning(
                    "delivery %s (%s, %s) failed on try %s: %s; %s",
                    delivery.id,
                    delivery.channel,
                    delivery.event,
                    delivery.attempt,
                    error,
                    f"retry at {retry_at:%H:%M:%S}" if retry_at else "dead",
                )
            await session.commit()

    async def _send(self, delivery: Delivery) -> tuple[str | None, bool]:
        """Send once; (None, _) when it arrived, else (why not, whether to retry)."""
        if delivery.attempt > self._policy.max_attempts:
            # Every try so far ended with its worker gone mid-send (the lease ran out).
            return "gave up: no try finished (the worker stopped during each)", False
        channel = self._channels.get(delivery.channel)
        if channel is None:
            return f"no channel {delivery.channel!r} is configured in this worker", True
        try:
            await channel.deliver(delivery)
        except DeliveryFailed as exc:
            return str(exc), exc.retryable
        except Exception as exc:
            # A defect in a channel must not stop the other deliveries; the type says enough
            # (the message might quote what was being sent).
            logger.exception("channel %s raised on delivery %s", delivery.channel, delivery.id)
            return f"unexpected {type(exc).__name__} in the {delivery.channel} channel", True
        return None, True

    async def run_periodic_if_due(self) -> None:
        """Run every periodic job once per ``periodic_interval``, each in its own transaction;
        one failing job does not keep the others from running."""
        now = utcnow()
        if not self._periodic or (self._next_periodic is not None and now < self._next_periodic):
            return
        self._next_periodic = now + self._periodic_interval
        for job in self._periodic:
            try:
                async with self._factory() as session:
                    await job(session, now)
                    await session.commit()
            except Exception:
                logger.exception("periodic job %s failed", getattr(job, "__name__", job))
