"""Opting out of (and back into) one kind of email through a signed link."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.kit.time import utcnow
from app.notifications.email import repository
from app.notifications.email.errors import ForgedUnsubscribeLink, MalformedUnsubscribeLink
from app.notifications.email.links import ForgedLink, MalformedLink, Subscription, verify
from app.notifications.email.models import KIND_DESCRIPTIONS


@dataclass(frozen=True)
class SubscriptionState:
    """What the unsubscribe page shows: whose email, which kind, and whether it is stopped."""

    email: str
    kind: str
    description: str
    opted_out: bool


def read_link(token: str, *, secret_key: str) -> Subscription:
    """The subscription a link names, or a problem that says why the link is no good."""
    try:
        return verify(token, secret_key=secret_key)
    except MalformedLink as exc:
        raise MalformedUnsubscribeLink(
            "This unsubscribe link is incomplete: it may have been cut short when it was "
            "copied. Open the link from the email again, or use the one in a newer email."
        ) from exc
    except ForgedLink as exc:
        raise ForgedUnsubscribeLink(
            "This unsubscribe link was not made by ValueLoop (or by another installation's "
            "key), so nothing was changed. Use the link from the email itself."
        ) from exc


async def _state(session: AsyncSession, subscription: Subscription) -> SubscriptionState:
    refused = await repository.opted_out(session, [subscription.email], subscription.kind)
    return SubscriptionState(
        email=subscription.email,
        kind=subscription.kind.value,
        description=KIND_DESCRIPTIONS[subscription.kind],
        opted_out=bool(refused),
    )


async def subscription_state(
    session: AsyncSession, token: str, *, secret_key: str
) -> SubscriptionState:
    return await _state(session, read_link(token, secret_key=secret_key))


async def unsubscribe(session: AsyncSession, token: str, *, secret_key: str) -> SubscriptionState:
    """Stop this kind of email to this address (again is harmless)."""
    subscription = read_link(token, secret_key=secret_key)
    await repository.add_opt_out(session, subscription.email, subscription.kind, utcnow())
    return await _state(session, subscription)


async def resubscribe(session: AsyncSession, token: str, *, secret_key: str) -> SubscriptionState:
    """Send this kind of email to this address again."""
    subscription = read_link(token, secret_key=secret_key)
    await repository.remove_opt_out(session, subscription.email, subscription.kind)
    return await _state(session, subscription)
