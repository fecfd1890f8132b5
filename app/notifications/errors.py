"""Errors of notification management (webhook endpoints, the dead letters)."""

from __future__ import annotations

from app.errors import Conflict, NotFound, UnprocessableContent


class InvalidWebhook(UnprocessableContent):
    slug = "invalid-webhook"
    title = "Invalid webhook endpoint"


class WebhookNotFound(NotFound):
    slug = "webhook-not-found"
    title = "No such webhook endpoint"


class DeliveryNotFound(NotFound):
    slug = "delivery-not-found"
    title = "No such delivery"


class AlreadyDelivered(Conflict):
    slug = "already-delivered"
    title = "Already delivered"
