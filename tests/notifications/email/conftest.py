"""A real SMTP server on loopback (aiosmtpd) that records what it receives, settings that point
at it, and a directory of recipients the tests fill themselves."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Mode, Settings
from app.flags.models import Flag
from app.notifications.channels import Delivery, PlannedDelivery
from app.notifications.email.recipients import StaffRecipient

MAIL_FROM = "ValueLoop <valueloop@hospital.test>"


class RecordingHandler:
    """Accepts every message, except recipients given a refusal in ``answers``."""

    def __init__(self) -> None:
        self.received: list[bytes] = []
        self.answers: dict[str, str] = {}

    async def handle_RCPT(  # noqa: N802 (aiosmtpd calls handlers by the SMTP verb)
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if address in self.answers:
            return self.answers[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        self.received.append(envelope.original_content or b"")
        return "250 Message accepted"


@dataclass
class SmtpServer:
    handler: RecordingHandler
    port: int

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def messages(self) -> list[EmailMessage]:
        return [
            message_from_bytes(raw, _class=EmailMessage, policy=policy.default)
            for raw in self.handler.received
        ]

    def raw(self) -> bytes:
        return b"\n".join(self.handler.received)


@pytest.fixture
async def smtp_server() -> AsyncIterator[SmtpServer]:
    handler = RecordingHandler()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(handler, hostname="smtp.test"), "127.0.0.1", 0)
    try:
        yield SmtpServer(handler, server.sockets[0].getsockname()[1])
    finally:
        server.close()
        await server.wait_closed()


def settings_with_smtp(settings: Settings, smtp_url: str | None, **overrides: Any) -> Settings:
    """The tests' settings (same database and secret key) with email configured."""
    values: dict[str, Any] = {
        "mode": Mode.DEMO,
        "database_url": settings.database_url,
        "data_dir": settings.data_dir,
        "log_level": settings.log_level,
        "base_url": "https://valueloop.hospital.test",
        "smtp_url": smtp_url,
        "mail_from": MAIL_FROM,
        **overrides,
    }
    return Settings(**values)


@pytest.fixture
def email_settings(settings: Settings, smtp_server: SmtpServer) -> Settings:
    return settings_with_smtp(settings, smtp_server.url)


@dataclass
class ListedDirectory:
    """Recipients the test lists itself: reporter emails by flag, owners by flag, leads."""

    reporters: dict[uuid.UUID, str] = field(default_factory=dict)
    flag_owners: dict[uuid.UUID, list[StaffRecipient]] = field(default_factory=dict)
    leads: list[StaffRecipient] = field(default_factory=list)

    def reporter_email(self, flag: Flag) -> str | None:
        return self.reporters.get(flag.id)

    async def owners(self, session: AsyncSession, flag: Flag) -> list[StaffRecipient]:
        return self.flag_owners.get(flag.id, [])

    async def active_leads(self, session: AsyncSession) -> list[StaffRecipient]:
        return list(self.leads)


def as_delivery(planned: PlannedDelivery, *, number: int = 1, key: str | None = None) -> Delivery:
    """A planned delivery as the outbox worker would hand it to the channel."""
    return Delivery(
        id=number,
        idempotency_key=key or planned.idempotency_key or uuid.uuid4().hex,
        channel=planned.channel,
        recipient=planned.recipient,
        event=planned.event,
        payload=dict(planned.payload),
        flag_id=planned.flag_id,
        attempt=1,
    )
