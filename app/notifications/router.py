"""Admin endpoints for notifications: webhook endpoints (``/api/v1/webhooks``) and the
deliveries that failed (``/api/v1/deliveries``, the dead letters, with a retry)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from app.auth.dependencies import CanManageNotifications
from app.db import SessionDep
from app.notifications import service
from app.notifications.schemas import (
    DeliveryPage,
    DeliveryPublic,
    DeliveryState,
    WebhookChange,
    WebhookCreate,
    WebhookCreated,
    WebhookPublic,
)
from app.organizations import service as organizations

router = APIRouter(prefix="/api/v1", tags=["notifications"])

MAX_PAGE_SIZE = 200
MAX_ID = 2**63 - 1  # a BIGINT: a larger id names no delivery, and must not reach the database


@router.get("/webhooks")
async def list_webhooks(session: SessionDep, _: CanManageNotifications) -> list[WebhookPublic]:
    """Every webhook endpoint, without signing secrets."""
    return [WebhookPublic.of(endpoint) for endpoint in await service.all_webhooks(session)]


@router.post("/webhooks", status_code=201)
async def add_webhook(
    body: WebhookCreate, request: Request, session: SessionDep, _: CanManageNotifications
) -> WebhookCreated:
    """Add an endpoint; the response carries its signing secret, shown only this once."""
    added = await service.add_webhook(
        session,
        url=body.url,
        events=body.events,
        settings=request.app.state.settings,
        secret=body.secret.get_secret_value() if body.secret else None,
        allow_patient_data=body.allow_patient_data,
        description=body.description,
        organization_id=await organizations.id_of(session, body.organization),
    )
    return WebhookCreated(**WebhookPublic.of(added.endpoint).model_dump(), secret=added.secret)


@router.patch("/webhooks/{endpoint_id}")
async def change_webhook(
    endpoint_id: uuid.UUID,
    body: WebhookChange,
    request: Request,
    session: SessionDep,
    _: CanManageNotifications,
) -> WebhookPublic:
    """Change an endpoint's URL, events, or whether it is active or gets patient data."""
    endpoint = await service.change_webhook(
        session, endpoint_id, settings=request.app.state.settings, **body.model_dump()
    )
    return WebhookPublic.of(endpoint)


@router.delete("/webhooks/{endpoint_id}", status_code=204)
async def remove_webhook(
    endpoint_id: uuid.UUID, session: SessionDep, _: CanManageNotifications
) -> Response:
    """Remove an endpoint; nothing more is sent to it."""
    await service.remove_webhook(session, endpoint_id)
    return Response(status_code=204)


@router.get("/deliveries")
async def list_deliveries(
    session: SessionDep,
    _: CanManageNotifications,
    state: Annotated[
        DeliveryState,
        Query(description="dead: gave up (the dead letters); retrying: failed, tried again."),
    ] = DeliveryState.DEAD,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Page size.")] = 50,
    before: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="'next_before' of the previous page.")
    ] = None,
) -> DeliveryPage:
    """Deliveries that failed, newest first, without their content."""
    found, next_before = await service.troubled_deliveries(
        session, dead=state is DeliveryState.DEAD, limit=limit, before_id=before
    )
    labels = await service.recipient_labels(session, found)
    return DeliveryPage(
        items=[
            DeliveryPublic.of(delivery, recipient_label=labels[delivery.id])
            for delivery in found
            if delivery.id is not None
        ],
        next_before=next_before,
    )


@router.post("/deliveries/{delivery_id}/retry")
async def retry_delivery(
    delivery_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    session: SessionDep,
    _: CanManageNotifications,
) -> DeliveryPublic:
    """Send a dead (or waiting) delivery again now, with a fresh count of tries."""
    retried = await service.retry_delivery(session, delivery_id)
    labels = await service.recipient_labels(session, [retried])
    return DeliveryPublic.of(retried, recipient_label=labels[delivery_id])
