"""A mail server that is down when the team replies: the worker keeps trying with backoff, and
once the server is back every email arrives, once, with its delivery's key as its Message-ID
(SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from aiosmtpd.smtp import SMTP
from sqlmodel import col

from app.notifications import outbox
from app.notifications.email.channel import EmailChannel
from app.notifications.email.planning import plan_email
from app.notifications.models import OutboxDelivery
from app.notifications.worker import Worker
from tests.factories import make_flag
from tests.notifications.conftest import FAST, eventually
from tests.notifications.email.conftest import (
    ListedDirectory,
    RecordingHandler,
    SmtpServer,
    settings_with_smtp,
)

pytestmark = pytest.mark.usefixtures("clean_tables")

REPORTERS = 3


@dataclass
class Outbox:
    """The email rows as the last look at the database found them."""

    rows: list[OutboxDelivery]

    def attempted(self) -> bool:
        return bool(self.rows) and all(row.attempts >= 2 for row in self.rows)

    def delivered(self) -> bool:
        return bool(self.rows) and all(row.status == "delivered" for row in self.rows)


def reserved_port() -> int:
    """A loopback port nothing listens on (yet): the mail server is down."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def server_later() -> AsyncIterator[tuple[int, list[asyncio.Server]]]:
    port = reserved_port()
    started: list[asyncio.Server] = []
    yield port, started
    for server in started:
        server.close()
        await server.wait_closed()


async def test_a_mail_server_down_then_up_gets_every_email_once(
    settings, session_factory, server_later
):
    port, started = server_later
    mail_settings = settings_with_smtp(settings, f"smtp://127.0.0.1:{port}")
    flags = [await make_flag(session_factory) for _ in range(REPORTERS)]
    directory = ListedDirectory(
        reporters={flag.id: f"reporter{n}@hospital.test" for n, flag in enumerate(flags)}
    )
    async with session_factory() as session:
        for flag in flags:
            planned = await plan_email(
                session, flag, "flag.replied", {}, settings=mail_settings, directory=directory
            )
            await outbox.enqueue(session, planned)
        await session.commit()
    channel = EmailChannel.from_settings(mail_settings, session_factory)
    assert channel is not None
    worker = Worker(
        session_factory,
        {channel.name: channel},
        policy=FAST.__class__(**{**FAST.__dict__, "max_attempts": 1000}),
        poll_interval=0.02,
    )
    seen = Outbox([])

    async def drain_and_look() -> None:
        await worker.drain()
        async with session_factory() as session:
            found = await session.scalars(
                sa.select(OutboxDelivery).order_by(col(OutboxDelivery.id))
            )
            seen.rows = list(found.all())

    # Down: each email is tried, fails as retryable, and waits for its next try.
    await eventually(seen.attempted, "failed tries", step=drain_and_look)
    assert {row.status for row in seen.rows} == {"pending"}
    assert all("unreachable" in (row.last_error or "") for row in seen.rows)

    # Up on the same port: the next tries get through.
    handler = RecordingHandler()
    loop = asyncio.get_running_loop()
    started.append(
        await loop.create_server(lambda: SMTP(handler, hostname="smtp.test"), "127.0.0.1", port)
    )
    await eventually(seen.delivered, "every email delivered", step=drain_and_look)

    # A delivery known to have succeeded is never sent again.
    assert await worker.drain() == 0
    server = SmtpServer(handler, port)
    messages = server.messages()
    assert sorted(str(m["To"]) for m in messages) == sorted(directory.reporters.values())
    keys = {row.idempotency_key for row in seen.rows}
    assert len(keys) == REPORTERS
    assert len({str(m["Message-ID"]) for m in messages}) == REPORTERS
    for message in messages:
        assert any(key in str(message["Message-ID"]) for key in keys), message["Message-ID"]
