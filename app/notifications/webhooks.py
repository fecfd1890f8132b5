"""Webhooks the Standard Webhooks way: what a flag event's payload holds, and the channel that
signs and sends it.

Signing is the ``standardwebhooks`` library's (Standard Webhooks 1.0, "Signature scheme"):
``webhook-id`` is the outbox row's idempotency key (the same on every retry, so a receiver
recognises a repeat), ``webhook-timestamp`` the time of this try, ``webhook-signature``
``v1,`` + base64 HMAC-SHA256 over ``id.timestamp.body`` with the endpoint's ``whsec_`` secret.

Payloads are minimum necessary (HIPAA 45 CFR 164.502(b)): what happened to which flag, and a
link to it in the dashboard, where a person signs in to see more. The patient's id, the order's
text and the reporter's note go only to an endpoint created with ``allow_patient_data``.
"""

from __future__ import annotations

import base64
import json
import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from standardwebhooks.webhooks import Webhook

from app.flags.models import Flag
from app.kit.crypto import SecretBox
from app.kit.expiring import ExpiringCache
from app.kit.time import utcnow
from app.notifications import repository
from app.notifications.channels import Delivery, DeliveryFailed, PlannedDelivery

CHANNEL = "webhook"
SECRET_PREFIX = "whsec_"  # noqa: S105 (the format's prefix, not a secret)
SECRET_BYTES = 32
# Standard Webhooks, "Symmetric signatures": secrets between 24 and 64 bytes.
SECRET_MIN_BYTES, SECRET_MAX_BYTES = 24, 64
# Events an endpoint can subscribe to: what happens to flags, and the change requests of
# improvement work for the informatics team (app/improvements/routing.py).
EVENTS = (
    "flag.created",
    "flag.status_changed",
    "flag.replied",
    "flag.assigned",
    "improvement.requested",
)
# Failures that will not go away by sending again: the receiver refused the request itself.
# 408 (timeout) and 429 (slow down) say "later", so they are retried like 5xx.
_RETRYABLE_CLIENT_ERRORS = frozenset({408, 429})


@dataclass(frozen=True)
class Subscriber:
    """What planning needs of an active endpoint (its URL and secret are read at delivery)."""

    endpoint_id: uuid.UUID
    events: frozenset[str]
    patient_data: bool
    organization_id: uuid.UUID | None  # None: every organization's events

    def hears(self, event: str, organization_id: uuid.UUID) -> bool:
        """Subscribed to ``event``, and to events of that organization."""
        return event in self.events and self.organization_id in (None, organization_id)


# The active endpoints, read again after 5 s (app/kit/expiring.py): every flag write plans its
# webhooks. The process that changes an endpoint clears it (app/notifications/service.py).
ACTIVE_ENDPOINTS: ExpiringCache[str, tuple[Subscriber, ...]] = ExpiringCache(
    ttl_seconds=5.0, max_entries=1
)


async def subscribers(session: AsyncSession) -> tuple[Subscriber, ...]:
    """Every active endpoint, as of at most ``ACTIVE_ENDPOINTS.ttl_seconds`` ago."""
    found = ACTIVE_ENDPOINTS.get("active")
    if found is None:
        found = tuple(
            Subscriber(
                endpoint.id,
                frozenset(endpoint.events),
                endpoint.allow_patient_data,
                endpoint.organization_id,
            )
            for endpoint in await repository.active_endpoints(session)
        )
        ACTIVE_ENDPOINTS.put("active", found)
    return found


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_problem(secret: str) -> str | None:
    """Why ``secret`` is not a usable signing secret, or None when it is."""
    if not secret.startswith(SECRET_PREFIX):
        return f"A webhook secret starts with '{SECRET_PREFIX}' followed by base64."
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except ValueError:
        return f"After '{SECRET_PREFIX}' a webhook secret is base64 (A-Z, a-z, 0-9, + and /)."
    if not SECRET_MIN_BYTES <= len(key) <= SECRET_MAX_BYTES:
        return (
            f"A webhook secret holds {SECRET_MIN_BYTES} to {SECRET_MAX_BYTES} random bytes "
            f"(this one holds {len(key)}); leave it out to have one generated."
        )
    return None


def payload(
    flag: Flag,
    event: str,
    details: Mapping[str, Any],
    *,
    at: datetime,
    dashboard_url: str,
    patient_data: bool,
) -> dict[str, Any]:
    """The body for one endpoint (Standard Webhooks' ``type``, ``timestamp``, ``data``)."""
    data: dict[str, Any] = {
        "flag_id": str(flag.id),
        "url": f"{dashboard_url}/dashboard/flags/{flag.id}",
        "status": flag.status,
        "reason": flag.reason,
        "driver": flag.driver,
    }
    if event == "flag.status_changed":
        data["from_status"] = details.get("from_status")
    if event == "flag.assigned":
        data["owner"] = {key: details[key] for key in sorted(details) if details[key] is not None}
    if patient_data:
        data["patient_id"] = flag.patient_fhir_id
        data["order"] = flag.order_display
        data["note"] = flag.note
    return {"type": event, "timestamp": at.isoformat(), "data": data}


async def plan(
    session: AsyncSession,
    flag: Flag,
    event: str,
    details: Mapping[str, Any],
    *,
    dashboard_url: str,
) -> list[PlannedDelivery]:
    """One delivery per active endpoint subscribed to ``event``."""
    now = utcnow()
    return [
        PlannedDelivery(
            channel=CHANNEL,
            recipient=str(subscriber.endpoint_id),
            event=event,
            payload=payload(
                flag,
                event,
                details,
                at=now,
                dashboard_url=dashboard_url,
                patient_data=subscriber.patient_data,
            ),
            flag_id=flag.id,
        )
        for subscriber in await subscribers(session)
        if subscriber.hears(event, flag.organization_id)
    ]


async def plan_event(
    session: AsyncSession, event: str, data: Mapping[str, Any], *, organization_id: uuid.UUID
) -> list[PlannedDelivery]:
    """One delivery of an organization's event that is not about one flag (an improvement's
    change request) per active endpoint subscribed to it. ``data`` must hold no patient data:
    it goes to every such subscriber, whatever its ``allow_patient_data``."""
    body = {"type": event, "timestamp": utcnow().isoformat(), "data": dict(data)}
    return [
        PlannedDelivery(
            channel=CHANNEL, recipient=str(subscriber.endpoint_id), event=event, payload=body
        )
        for subscriber in await subscribers(session)
        if subscriber.hears(event, organization_id)
    ]


def signed_headers(secret: str, *, message_id: str, at: datetime, body: bytes) -> dict[str, str]:
    """The Standard Webhooks headers for one try."""
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id=message_id, timestamp=at, data=body),
    }


class WebhookChannel:
    """Sends a delivery to its endpoint through the app's one outbound HTTP client."""

    name = CHANNEL

    def __init__(
        self, factory: async_sessionmaker[AsyncSession], http: httpx.AsyncClient, box: SecretBox
    ) -> None:
        self._factory = factory
        self._http = http
        self._box = box

    async def deliver(self, delivery: Delivery) -> None:
        url, secret = await self._endpoint(delivery.recipient)
        body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
        headers = signed_headers(
            secret, message_id=delivery.idempotency_key, at=utcnow(), body=body
        )
        try:
            response = await self._http.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            # The type only: httpx messages can quote the URL, which may hold a token.
            raise DeliveryFailed(f"could not reach the endpoint ({type(exc).__name__})") from exc
        status = response.status_code
        if 200 <= status < 300:
            return
        # Never the response body: a receiver may echo what it got.
        retryable = not (400 <= status < 500) or status in _RETRYABLE_CLIENT_ERRORS
        raise DeliveryFailed(f"the endpoint answered HTTP {status}", retryable=retryable)

    async def _endpoint(self, recipient: str) -> tuple[str, str]:
        try:
            endpoint_id = uuid.UUID(recipient)
        except ValueError as exc:
            raise DeliveryFailed("not a webhook endpoint id", retryable=False) from exc
        async with self._factory() as session:
            endpoint = await repository.endpoint(session, endpoint_id)
        if endpoint is None:
            raise DeliveryFailed("the webhook endpoint was removed", retryable=False)
        if not endpoint.active:
            raise DeliveryFailed("the webhook endpoint is switched off", retryable=False)
        return endpoint.url, self._box.decrypt(endpoint.secret_encrypted)


def subscribed(events: Sequence[str]) -> list[str]:
    """The events in their canonical order, each once; unknown ones are the caller's error."""
    return [event for event in EVENTS if event in set(events)]
