"""Putting the delivery engine together: the channels and periodic jobs a worker runs with,
for ``valueloop serve`` (in-process) and ``valueloop worker`` alike."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import Settings
from app.notifications import outbox
from app.notifications.channels import Channel
from app.notifications.email import planning as email_planning
from app.notifications.email.channel import EmailChannel
from app.notifications.outbox import RetryPolicy
from app.notifications.service import webhook_box
from app.notifications.webhooks import WebhookChannel
from app.notifications.worker import PeriodicJob, Worker

# How long a stopping worker may take to finish the sends in hand before it is cancelled
# (a cancelled send is sent again by the next worker once its lease runs out).
STOP_GRACE_SECONDS = 15.0


def channels(
    settings: Settings, factory: async_sessionmaker[AsyncSession], http: httpx.AsyncClient
) -> dict[str, Channel]:
    """Every channel a worker can deliver on, by the name outbox rows carry."""
    found: dict[str, Channel] = {"webhook": WebhookChannel(factory, http, webhook_box(settings))}
    email = EmailChannel.from_settings(settings, factory)  # None without VALUELOOP_SMTP_URL
    if email is not None:
        found[email.name] = email
    return found


def periodic_jobs(settings: Settings) -> list[PeriodicJob]:
    """Jobs every worker runs each ``periodic_interval_seconds`` (idempotent: see PeriodicJob)."""
    # The daily digest of flags past the reply SLA, stored once per lead and day (its key).
    return [email_planning.digest_job(settings, enqueue=outbox.enqueue)]


def build_worker(
    settings: Settings, factory: async_sessionmaker[AsyncSession], http: httpx.AsyncClient
) -> Worker:
    return Worker(
        factory,
        channels(settings, factory, http),
        policy=RetryPolicy.of(settings),
        periodic=periodic_jobs(settings),
        poll_interval=settings.outbox_poll_seconds,
        periodic_interval=settings.periodic_interval_seconds,
        batch_size=settings.outbox_batch_size,
    )


@contextlib.asynccontextmanager
async def running(worker: Worker) -> AsyncIterator[asyncio.Task[None]]:
    """Run ``worker`` in the background for the duration of the block; stop it cleanly after."""
    task = asyncio.create_task(worker.run(), name="outbox-worker")
    try:
        yield task
    finally:
        worker.stop()
        # Past the grace, wait_for cancels it: its claimed rows are sent again after the lease.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(task, STOP_GRACE_SECONDS)
