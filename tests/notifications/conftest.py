"""Fixtures for the outbox tests: a worker on the test database, with fast retries."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import Settings
from app.notifications import service
from app.notifications.outbox import RetryPolicy
from app.notifications.service import webhook_box
from app.notifications.webhooks import EVENTS, WebhookChannel
from app.notifications.worker import Worker

WAIT_SECONDS = 60.0

FAST = RetryPolicy(
    lease=timedelta(seconds=30),
    max_attempts=3,
    base_delay=timedelta(milliseconds=20),
    max_delay=timedelta(milliseconds=100),
)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


@pytest.fixture
def make_worker(
    session_factory: async_sessionmaker[AsyncSession], http: httpx.AsyncClient, settings: Settings
) -> Callable[..., Worker]:
    def make(policy: RetryPolicy = FAST) -> Worker:
        channel = WebhookChannel(session_factory, http, webhook_box(settings))
        return Worker(session_factory, {"webhook": channel}, policy=policy, poll_interval=0.02)

    return make


async def add_endpoint(
    factory: async_sessionmaker[AsyncSession],
    settings: Settings,
    url: str,
    *,
    events: tuple[str, ...] = EVENTS,
    allow_patient_data: bool = False,
) -> service.AddedWebhook:
    async with factory() as session:
        added = await service.add_webhook(
            session,
            url=url,
            events=events,
            settings=settings,
            allow_patient_data=allow_patient_data,
        )
        await session.commit()
        return added


async def eventually(
    condition: Callable[[], object], what: str, *, step: Callable[[], object] | None = None
) -> None:
    """Wait (running ``step`` each round, e.g. a worker's drain) until ``condition`` holds."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        if step is not None:
            result = step()
            if asyncio.iscoroutine(result):
                await result
        if condition():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)
