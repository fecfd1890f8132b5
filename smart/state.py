"""What the app remembers between sending the browser to the EHR and its return.

RFC 6749 10.12 (CSRF): the ``state`` value binds the authorization response to the request
this app made. SMART App Launch 2.x: "an opaque value used by the client to maintain state
between the request and callback ... it SHOULD have at least 122 bits of entropy".

Inside an EHR iframe, cookies and browser storage may be refused, so nothing here lives in
the browser: the pending launch is stored server-side under its ``state`` (the app
implements ``StateStore`` on its database, so whichever process receives the callback can
finish the launch). ``browser_binding`` is an optional extra for browsers that keep a
cookie: when the launch was started with one, the callback must present the same value.

Usage::

    pending = PendingLaunch(state=new_state(), nonce=new_nonce(), ...)
    await store.put(pending)
    # ... callback ...
    pending = check_pending(await store.take(response.state), now=now,
                            browser_binding=cookie_or_none)
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from smart.errors import StateError

__all__ = [
    "DEFAULT_MAX_AGE",
    "MemoryStateStore",
    "PendingLaunch",
    "StateStore",
    "check_pending",
    "new_nonce",
    "new_state",
]

# Long enough to sign in at the EHR, short enough that a leaked state is soon worthless.
DEFAULT_MAX_AGE = timedelta(minutes=10)
_STATE_BYTES = 32  # 256 bits; SMART asks for at least 122


@dataclass(frozen=True)
class PendingLaunch:
    """One authorization request in flight. Secrets are kept out of ``repr``.

    ``created_at`` must be timezone-aware (UTC), so processes on different machines agree.
    """

    state: str = field(repr=False)
    iss: str
    launch: str | None = field(repr=False)
    pkce_verifier: str = field(repr=False)
    nonce: str = field(repr=False)
    redirect_uri: str
    requested_scopes: tuple[str, ...]
    browser_binding: str | None = field(repr=False)
    created_at: datetime


class StateStore(Protocol):
    """Where pending launches wait for their callback.

    ``take`` is single use: it returns the launch and deletes it in one step (e.g.
    ``DELETE ... WHERE state = :state RETURNING ...``), so a replayed callback finds
    nothing, even when two arrive at two processes at once.
    """

    async def put(self, pending: PendingLaunch) -> None: ...

    async def take(self, state: str) -> PendingLaunch | None: ...


def new_state() -> str:
    """A URL-safe random state with 256 bits of entropy (never derived from ``launch``)."""
    return secrets.token_urlsafe(_STATE_BYTES)


def new_nonce() -> str:
    """An OpenID Connect nonce (Core 3.1.2.1: it mitigates replay of an id_token)."""
    return secrets.token_urlsafe(_STATE_BYTES)


def check_pending(
    pending: PendingLaunch | None,
    *,
    now: datetime,
    max_age: timedelta = DEFAULT_MAX_AGE,
    browser_binding: str | None,
) -> PendingLaunch:
    """The pending launch, if the callback may finish it; StateError otherwise.

    - ``unknown``: the store had nothing under this state (never issued, or already used);
    - ``expired``: older than ``max_age``;
    - ``foreign``: the launch was bound to a browser value and the callback brought none or
      another (compared in constant time). A launch started without a binding accepts any
      callback: inside an EHR iframe the browser may have refused the cookie that carries it.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if pending is None:
        raise StateError("unknown", "No pending launch has this state (unknown or already used).")
    if pending.created_at.tzinfo is None:
        raise ValueError("PendingLaunch.created_at must be timezone-aware")
    if now - pending.created_at > max_age:
        raise StateError("expired", "The launch took too long; start it again from the EHR.")
    if pending.browser_binding is not None and (
        browser_binding is None
        or not hmac.compare_digest(pending.browser_binding.encode(), browser_binding.encode())
    ):
        raise StateError("foreign", "This launch was started in another browser.")
    return pending


def _utcnow() -> datetime:
    return datetime.now(UTC)


class MemoryStateStore:
    """A ``StateStore`` in this process's memory, for tests and single-process use.

    Not for deployments with several processes: a callback that reaches another process
    would find nothing. Entries older than ``max_age`` are dropped as new ones arrive, so
    abandoned launches do not pile up.
    """

    def __init__(
        self, *, max_age: timedelta = DEFAULT_MAX_AGE, clock: Callable[[], datetime] = _utcnow
    ) -> None:
        self._max_age = max_age
        self._clock = clock
        self._pending: dict[str, PendingLaunch] = {}

    async def put(self, pending: PendingLaunch) -> None:
        now = self._clock()
        self._pending = {
            state: entry
            for state, entry in self._pending.items()
            if now - entry.created_at <= self._max_age
        }
        if pending.state in self._pending:
            raise ValueError("a pending launch with this state already exists")
        self._pending[pending.state] = pending

    async def take(self, state: str) -> PendingLaunch | None:
        # No await between the lookup and the delete: atomic within the event loop.
        return self._pending.pop(state, None)

    def __len__(self) -> int:
        return len(self._pending)
