"""Errors of email notifications, as problem details (app/errors.py)."""

from __future__ import annotations

from app.errors import BadRequest, Forbidden


class MalformedUnsubscribeLink(BadRequest):
    slug = "malformed-unsubscribe-link"
    title = "Unsubscribe link is incomplete"


class ForgedUnsubscribeLink(Forbidden):
    slug = "invalid-unsubscribe-link"
    title = "Unsubscribe link is not valid"
