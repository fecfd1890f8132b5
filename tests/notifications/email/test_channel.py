"""The email channel against a real SMTP server on loopback."""

from __future__ import annotations

import socket
import uuid
from datetime import UTC, datetime

import pytest

from app.notifications.channels import Delivery, DeliveryFailed
from app.notifications.email import repository
from app.notifications.email.channel import EmailChannel
from app.notifications.email.links import verify
from app.notifications.email.models import EmailKind
from tests.notifications.email.conftest import settings_with_smtp

pytestmark = pytest.mark.usefixtures("clean_tables")

OWNER = "a.rivera@hospital.test"


def assignment(recipient: str = OWNER, key: str | None = None) -> Delivery:
    return Delivery(
        id=7,
        idempotency_key=key or uuid.uuid4().hex,
        channel="email",
        recipient=recipient,
        event="flag.assigned",
        payload={"template": "assigned", "flag_id": str(uuid.uuid4())},
        flag_id=None,
        attempt=1,
    )


def channel_for(settings, session_factory) -> EmailChannel:
    channel = EmailChannel.from_settings(settings, session_factory)
    assert channel is not None
    return channel


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_a_delivery_arrives_with_its_key_as_message_id_and_one_click_unsubscribe(
    email_settings, session_factory, smtp_server
):
    channel = EmailChannel.from_settings(email_settings, session_factory)
    assert channel is not None
    delivery = assignment(key="5b0f7c2e-6d1a-4c7e-9f43-1f0c9a7e2b11")

    await channel.deliver(delivery)

    [message] = smtp_server.messages()
    assert message["Message-ID"] == "<5b0f7c2e-6d1a-4c7e-9f43-1f0c9a7e2b11@hospital.test>"
    assert message["To"] == OWNER
    assert message["From"] == "ValueLoop <valueloop@hospital.test>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = message["List-Unsubscribe"].strip("<>")
    assert link.startswith("https://valueloop.hospital.test/notifications/unsubscribe?token=")
    token = link.split("token=", 1)[1]
    subscription = verify(token, secret_key=email_settings.resolved_secret_key())
    assert (subscription.email, subscription.kind) == (OWNER, EmailKind.ASSIGNMENT)
    text = message.get_body(("plain",)).get_content()
    assert f"https://valueloop.hospital.test/dashboard/flags/{delivery.payload['flag_id']}" in text
    assert link in text
    assert message.get_body(("html",)) is not None
    # On the wire as RFC 2369 wants it: one plain <URL>, not MIME-encoded words.
    raw = smtp_server.raw().decode("ascii")
    assert f"\r\nList-Unsubscribe: <{link}>\r\n" in raw


async def test_a_repeated_delivery_carries_the_same_message_id(
    email_settings, session_factory, smtp_server
):
    channel = channel_for(email_settings, session_factory)
    delivery = assignment(key="digest:2026-12-06:42")

    await channel.deliver(delivery)
    await channel.deliver(delivery)

    first, second = smtp_server.messages()
    assert first["Message-ID"] == second["Message-ID"] == "<digest%3A2026-12-06%3A42@hospital.test>"


async def test_smtp_server_down_is_a_retryable_failure(settings, session_factory):
    down = settings_with_smtp(settings, f"smtp://127.0.0.1:{free_port()}")
    channel = channel_for(down, session_factory)

    with pytest.raises(DeliveryFailed) as failure:
        await channel.deliver(assignment())

    assert failure.value.retryable is True


async def test_a_recipient_refused_for_good_is_not_retried(
    email_settings, session_factory, smtp_server
):
    smtp_server.handler.answers[OWNER] = "550 5.1.1 No such mailbox"
    channel = channel_for(email_settings, session_factory)

    with pytest.raises(DeliveryFailed) as failure:
        await channel.deliver(assignment())

    assert failure.value.retryable is False
    assert "550" in str(failure.value)
    assert smtp_server.messages() == []


async def test_a_recipient_refused_for_now_is_retried(email_settings, session_factory, smtp_server):
    smtp_server.handler.answers[OWNER] = "451 4.3.0 Mailbox busy, try again later"
    channel = channel_for(email_settings, session_factory)

    with pytest.raises(DeliveryFailed) as failure:
        await channel.deliver(assignment())

    assert failure.value.retryable is True


async def test_an_opt_out_after_planning_stops_the_send(
    email_settings, session_factory, smtp_server
):
    async with session_factory() as session:
        await repository.add_opt_out(
            session, "A.Rivera@Hospital.test", EmailKind.ASSIGNMENT, datetime.now(UTC)
        )
        await session.commit()
    channel = channel_for(email_settings, session_factory)

    await channel.deliver(assignment())
    await channel.deliver(assignment(recipient="someone.else@hospital.test"))

    assert [message["To"] for message in smtp_server.messages()] == ["someone.else@hospital.test"]


async def test_an_opt_out_of_another_kind_does_not_stop_the_send(
    email_settings, session_factory, smtp_server
):
    async with session_factory() as session:
        await repository.add_opt_out(session, OWNER, EmailKind.DIGEST, datetime.now(UTC))
        await session.commit()
    channel = channel_for(email_settings, session_factory)

    await channel.deliver(assignment())

    assert len(smtp_server.messages()) == 1


def test_without_an_smtp_url_there_is_no_channel(settings, session_factory):
    assert EmailChannel.from_settings(settings_with_smtp(settings, None), session_factory) is None


async def test_a_payload_that_cannot_be_rendered_is_not_retried(
    email_settings, session_factory, smtp_server
):
    broken = Delivery(**{**assignment().__dict__, "payload": {"template": "newsletter"}})

    with pytest.raises(DeliveryFailed) as failure:
        await channel_for(email_settings, session_factory).deliver(broken)

    assert failure.value.retryable is False
    assert smtp_server.messages() == []
