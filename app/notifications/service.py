"""Managing notifications: webhook endpoints (add, change, remove) and the dead letters
(deliveries that gave up, and a retry). Functions here flush; they never commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Mode, Settings
from app.kit import crypto
from app.kit.crypto import SecretBox
from app.kit.time import utcnow
from app.kit.urls import outbound_url_problem
from app.notifications import repository, webhooks
from app.notifications.errors import (
    AlreadyDelivered,
    DeliveryNotFound,
    InvalidWebhook,
    WebhookNotFound,
)
from app.notifications.models import OutboxDelivery, WebhookEndpoint


def webhook_box(settings: Settings) -> SecretBox:
    """For webhook signing secrets, with a key derived for that purpose alone."""
    return crypto.secret_box(settings.resolved_secret_key(), "webhook-secrets")


def normalize_url(url: str, *, mode: Mode) -> str:
    """An endpoint URL: absolute, and https except on this machine or in demo mode (the body
    and its signature must not cross a network in clear)."""
    value = url.strip()
    if (problem := outbound_url_problem(value, mode=mode)) is not None:
        raise InvalidWebhook(problem, field="url")
    return value


def _events(events: Sequence[str]) -> list[str]:
    unknown = sorted(set(events) - set(webhooks.EVENTS))
    if unknown:
        raise InvalidWebhook(
            f"Unknown event {', '.join(unknown)}; choose from {', '.join(webhooks.EVENTS)}.",
            field="events",
        )
    chosen = webhooks.subscribed(events)
    if not chosen:
        raise InvalidWebhook(
            f"Subscribe to at least one event: {', '.join(webhooks.EVENTS)}.", field="events"
        )
    return chosen


@dataclass(frozen=True)
class AddedWebhook:
    endpoint: WebhookEndpoint
    secret: str  # shown once, to whoever added it


async def add_webhook(
    session: AsyncSession,
    *,
    url: str,
    events: Sequence[str],
    settings: Settings,
    secret: str | None = None,
    allow_patient_data: bool = False,
    description: str | None = None,
    organization_id: uuid.UUID | None = None,
) -> AddedWebhook:
    """Add an endpoint; without a ``secret`` one is generated. The secret is returned once."""
    if secret is None:
        secret = webhooks.new_secret()
    elif (problem := webhooks.secret_problem(secret)) is not None:
        raise InvalidWebhook(problem, field="secret")
    endpoint = WebhookEndpoint(
        url=normalize_url(url, mode=settings.mode),
        events=_events(events),
        secret_encrypted=webhook_box(settings).encrypt(secret),
        allow_patient_data=allow_patient_data,
        description=description,
        organization_id=organization_id,
        created_at=utcnow(),
    )
    repository.add_endpoint(session, endpoint)
    await session.flush()
    webhooks.ACTIVE_ENDPOINTS.clear()  # this process plans to it from the next flag on
    return AddedWebhook(endpoint=endpoint, secret=secret)


async def get_webhook(session: AsyncSession, endpoint_id: uuid.UUID) -> WebhookEndpoint:
    endpoint = await repository.endpoint(session, endpoint_id)
    if endpoint is None:
        raise WebhookNotFound(f"No webhook endpoint with id {endpoint_id}.")
    return endpoint


async def change_webhook(
    session: AsyncSession,
    endpoint_id: uuid.UUID,
    *,
    settings: Settings,
    url: str | None = None,
    events: Sequence[str] | None = None,
    active: bool | None = None,
    allow_patient_data: bool | None = None,
) -> WebhookEndpoint:
    """Change what is given; the secret stays (remove and add the endpoint to rotate it)."""
    endpoint = await get_webhook(session, endpoint_id)
    if url is not None:
        endpoint.url = normalize_url(url, mode=settings.mode)
    if events is not None:
        endpoint.events = _events(events)
    if active is not None:
        endpoint.active = active
    if allow_patient_data is not None:
        endpoint.allow_patient_data = allow_patient_data
    repository.add_endpoint(session, endpoint)
    await session.flush()
    webhooks.ACTIVE_ENDPOINTS.clear()
    return endpoint


async def remove_webhook(session: AsyncSession, endpoint_id: uuid.UUID) -> WebhookEndpoint:
    """Remove an endpoint; its deliveries still waiting go to the dead letters when due."""
    endpoint = await get_webhook(session, endpoint_id)
    await repository.delete_endpoint(session, endpoint)
    webhooks.ACTIVE_ENDPOINTS.clear()
    return endpoint


async def all_webhooks(session: AsyncSession) -> Sequence[WebhookEndpoint]:
    return await repository.endpoints(session)


async def troubled_deliveries(
    session: AsyncSession, *, dead: bool, limit: int, before_id: int | None = None
) -> tuple[Sequence[OutboxDelivery], int | None]:
    """A page of the dead letters, or of the deliveries being retried, newest first, and the
    id to pass as ``before_id`` for the next page (None on the last)."""
    # One row more than asked tells whether another page exists, without a count.
    found = await repository.troubled(session, dead=dead, limit=limit + 1, before_id=before_id)
    page = found[:limit]
    last_id = page[-1].id if page and len(found) > limit else None
    return page, last_id


async def recipient_labels(
    session: AsyncSession, deliveries: Sequence[OutboxDelivery]
) -> dict[int, str]:
    """Who each delivery goes to as an admin knows them: a webhook row holds its endpoint's
    id, which says nothing on the Admin page, so it is shown as the endpoint's URL."""
    urls = {str(endpoint.id): endpoint.url for endpoint in await repository.endpoints(session)}
    labels: dict[int, str] = {}
    for delivery in deliveries:
        assert delivery.id is not None  # stored rows
        if delivery.channel == "webhook":
            labels[delivery.id] = urls.get(
                delivery.recipient, f"a removed webhook endpoint ({delivery.recipient})"
            )
        else:
            labels[delivery.id] = delivery.recipient
    return labels


async def retry_delivery(session: AsyncSession, delivery_id: int) -> OutboxDelivery:
    """Send a dead (or waiting) delivery again now, with a fresh count of tries."""
    if not await repository.retry(session, delivery_id, now=utcnow()):
        existing = await repository.delivery(session, delivery_id)
        if existing is None:
            raise DeliveryNotFound(f"No delivery with id {delivery_id}.")
        raise AlreadyDelivered(f"Delivery {delivery_id} was delivered; it is not sent again.")
    found = await repository.delivery(session, delivery_id)
    assert found is not None  # just updated in this transaction
    return found
