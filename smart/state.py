"""What the app remembers between sending the browser to the authorization server and its
return, and the one check of that return (the callback).

RFC 6749 10.12 (CSRF): the ``state`` value binds the authorization response to the request
this app made. OAuth 2.0 Security BCP (RFC 9700) 2.1: "Clients MUST prevent Cross-Site
Request Forgery (CSRF)" and, unless they rely on PKCE, "one-time use CSRF tokens carried in
the state parameter that are securely bound to the user agent MUST be used". SMART App
Launch 2.x: state "SHOULD have at least 122 bits of entropy".

Inside an EHR iframe, cookies and browser storage may be refused, so nothing here lives in
the browser: the pending authorization is stored server-side under its ``state`` (the app
implements ``StateStore`` on its database, so whichever process receives the callback can
finish it). The browser binding is a random value the browser keeps in a cookie; only its
hash is stored, and the callback must present the same value.

Usage::

    pending = PendingAuthorization(state=new_state(), nonce=new_nonce(),
                                   pkce_verifier=pkce.verifier, redirect_uri=...,
                                   browser_binding_hash=binding_hash(cookie_value),
                                   expires_at=now + timedelta(minutes=10))
    await store.save(pending)
    # ... the browser comes back to redirect_uri ...
    callback = await accept_callback(store, query, browser_binding=cookie_or_none, now=now)
    # callback.code and callback.pending go on to the token request
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from smart.authorize import parse_authorization_response
from smart.errors import StateError

__all__ = [
    "AcceptedCallback",
    "PendingAuthorization",
    "StateStore",
    "accept_callback",
    "binding_hash",
    "new_nonce",
    "new_state",
]

_STATE_BYTES = 32  # 256 bits; SMART asks for at least 122


@dataclass(frozen=True, kw_only=True)
class PendingAuthorization:
    """One authorization request in flight. Secrets are kept out of ``repr``.

    An app adds what it needs back at the callback by subclassing (a frozen, keyword-only
    dataclass), e.g. the SMART ``launch`` value or the page to return to; ``StateStore`` and
    ``accept_callback`` hand the subclass back unchanged.

    - ``browser_binding_hash``: ``binding_hash`` of the value the starting browser keeps, or
      None when it was started without one;
    - ``expires_at``: timezone-aware; from this instant the state is refused.
    """

    state: str = field(repr=False)
    pkce_verifier: str = field(repr=False)
    nonce: str = field(repr=False)
    redirect_uri: str
    browser_binding_hash: str | None = field(repr=False)
    expires_at: datetime


P = TypeVar("P", bound=PendingAuthorization)


class StateStore(Protocol[P]):
    """Where pending authorizations wait for their callback.

    ``take`` is single use (RFC 9700 2.1, "one-time use"): it returns the pending
    authorization and deletes it in one step (e.g. ``DELETE ... WHERE state = :state
    RETURNING ...``), so a replayed callback finds nothing, even when two arrive at two
    processes at once. It returns expired entries too: ``accept_callback`` refuses them, and
    taking them spends them.
    """

    async def save(self, pending: P) -> None: ...

    async def take(self, state: str) -> P | None: ...


@dataclass(frozen=True)
class AcceptedCallback(Generic[P]):
    """A callback that passed every check: its code may now be exchanged (RFC 6749 4.1.3)."""

    code: str = field(repr=False)
    pending: P


def new_state() -> str:
    """A URL-safe random state with 256 bits of entropy (never derived from ``launch``)."""
    return secrets.token_urlsafe(_STATE_BYTES)


def new_nonce() -> str:
    """An OpenID Connect nonce (Core 3.1.2.1: it mitigates replay of an id_token)."""
    return secrets.token_urlsafe(_STATE_BYTES)


def binding_hash(value: str) -> str:
    """How a browser binding is kept (SHA-256, hex): the cookie's value never needs storing,
    and random values of this length need no slow hash."""
    return hashlib.sha256(value.encode()).hexdigest()


async def accept_callback(
    store: StateStore[P],
    params: Mapping[str, str],
    *,
    browser_binding: str | None,
    now: datetime,
    allow_missing_binding: bool = False,
) -> AcceptedCallback[P]:
    """Check the redirect back to ``redirect_uri`` against the authorization it answers.

    In this order, each failure a ``StateError`` with its ``reason``:

    1. ``missing``: the callback carries no state; nothing is taken;
    2. the pending authorization is taken from the store, so whatever follows, this state
       cannot be used again (RFC 9700 2.1 and 4.7.1: one-time use);
    3. ``unknown``: the store had nothing (never issued, or already used);
    4. ``expired``: ``now`` is at or past its ``expires_at`` (a leaked state is soon
       worthless);
    5. ``foreign``: the authorization is bound to a browser (RFC 9700 2.1, "securely bound
       to the user agent") and the callback presents another binding (compared in constant
       time), or none at all unless ``allow_missing_binding``.

    ``allow_missing_binding`` is for a browser that may have lost the binding: inside an EHR
    frame that blocks third-party cookies, the cookie that carries it is never stored. Such a
    callback is then accepted on the strength of the state (unpredictable, single use,
    short-lived; SMART App Launch 2.x) and of PKCE, which RFC 9700 2.1 lets a client rely on
    against CSRF. A binding that is presented must still match.

    Only then is the response itself read (``parse_authorization_response``): an ``error``
    is ``AuthorizationDenied``, a missing ``code`` a ``SmartError``. An error response is
    believed only once its state checks out, and it spends the state like any other.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    state = params.get("state") or None
    if state is None:
        raise StateError("missing", "The authorization response carries no state.")
    pending = await store.take(state)
    if pending is None:
        raise StateError("unknown", "No pending authorization has this state (or it was used).")
    if pending.expires_at.tzinfo is None:
        raise ValueError("PendingAuthorization.expires_at must be timezone-aware")
    if now >= pending.expires_at:
        raise StateError("expired", "The authorization took too long; start it again.")
    _check_binding(pending, browser_binding, allow_missing=allow_missing_binding)
    response = parse_authorization_response(params)
    return AcceptedCallback(code=response.code, pending=pending)


def _check_binding(
    pending: PendingAuthorization, presented: str | None, *, allow_missing: bool
) -> None:
    expected = pending.browser_binding_hash
    if expected is None or (presented is None and allow_missing):
        return
    if presented is None or not hmac.compare_digest(expected, binding_hash(presented)):
        raise StateError("foreign", "This authorization was started in another browser.")
