"""What the simulated authorization server remembers: launches, codes, tokens.

In memory on purpose: the simulator is one process, and a restart is a clean EHR.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class LaunchContext:
    """What the EHR binds to a ``launch`` value: who is charting what."""

    id: str
    user: str  # fhirUser, e.g. "Practitioner/pr-1"
    patient: str | None = None
    encounter: str | None = None
    fhir_context: tuple[dict[str, Any], ...] = ()
    need_patient_banner: bool = True
    smart_style_url: str | None = None
    intent: str | None = None
    tenant: str | None = None
    # CDS Hooks 2.0 "Link": a SMART link's appContext, handed to the app with its token.
    app_context: str | None = None
    created_at: datetime = field(default_factory=_now)


@dataclass(frozen=True)
class AuthorizationCode:
    code: str
    client_id: str
    redirect_uri: str
    code_challenge: str
    scopes: tuple[str, ...]
    context: LaunchContext
    nonce: str | None
    expires_at: datetime


@dataclass(frozen=True)
class AccessGrant:
    """An issued access token and everything the FHIR server checks against it."""

    access_token: str
    client_id: str
    scopes: tuple[str, ...]
    context: LaunchContext
    expires_at: datetime
    refresh_token: str | None = None

    @property
    def patient(self) -> str | None:
        return self.context.patient

    def active(self, now: datetime | None = None) -> bool:
        return (now or _now()) < self.expires_at


class GrantStore:
    """Launches, single-use codes, access and refresh tokens. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._launches: dict[str, LaunchContext] = {}
        self._codes: dict[str, AuthorizationCode] = {}
        self._access: dict[str, AccessGrant] = {}
        self._refresh: dict[str, AccessGrant] = {}

    def create_launch(self, **context: Any) -> LaunchContext:
        launch = LaunchContext(id=secrets.token_urlsafe(16), **context)
        with self._lock:
            self._launches[launch.id] = launch
        return launch

    def launch(self, launch_id: str, *, max_age: timedelta) -> LaunchContext | None:
        with self._lock:
            launch = self._launches.get(launch_id)
        if launch is None or _now() - launch.created_at > max_age:
            return None
        return launch

    def issue_code(self, **fields: Any) -> AuthorizationCode:
        code = AuthorizationCode(code=secrets.token_urlsafe(32), **fields)
        with self._lock:
            self._codes[code.code] = code
        return code

    def take_code(self, code: str) -> AuthorizationCode | None:
        """The code, once: a second exchange of the same code finds nothing (RFC 6749 4.1.2)."""
        with self._lock:
            return self._codes.pop(code, None)

    def issue_tokens(
        self,
        *,
        client_id: str,
        scopes: tuple[str, ...],
        context: LaunchContext,
        lifetime: timedelta,
        with_refresh: bool,
    ) -> AccessGrant:
        grant = AccessGrant(
            access_token=secrets.token_urlsafe(32),
            client_id=client_id,
            scopes=scopes,
            context=context,
            expires_at=_now() + lifetime,
            refresh_token=secrets.token_urlsafe(32) if with_refresh else None,
        )
        with self._lock:
            self._access[grant.access_token] = grant
            if grant.refresh_token:
                self._refresh[grant.refresh_token] = grant
        return grant

    def access(self, token: str) -> AccessGrant | None:
        """The live grant behind an access token; expired and unknown tokens alike are None."""
        with self._lock:
            grant = self._access.get(token)
        return grant if grant is not None and grant.active() else None

    def grant_for_access_token(self, token: str) -> AccessGrant | None:
        """The grant whether or not it expired (for introspection's ``active: false``)."""
        with self._lock:
            return self._access.get(token)

    def grant_for_refresh_token(self, token: str) -> AccessGrant | None:
        with self._lock:
            return self._refresh.get(token)

    def rotate(
        self, refresh_token: str, *, client_id: str, scopes: tuple[str, ...], lifetime: timedelta
    ) -> AccessGrant | None:
        """Exchange a refresh token once for new tokens (the old refresh token stops working)."""
        with self._lock:
            old = self._refresh.pop(refresh_token, None)
            if old is None or old.client_id != client_id:
                if old is not None:
                    self._refresh[refresh_token] = old
                return None
            grant = replace(
                old,
                access_token=secrets.token_urlsafe(32),
                scopes=scopes,
                expires_at=_now() + lifetime,
                refresh_token=secrets.token_urlsafe(32),
            )
            self._access[grant.access_token] = grant
            assert grant.refresh_token is not None
            self._refresh[grant.refresh_token] = grant
            return grant

    def expire_access_tokens(self) -> None:
        """Make every issued access token expired now (tests of refresh and re-launch)."""
        with self._lock:
            past = _now() - timedelta(seconds=1)
            self._access = {t: replace(g, expires_at=past) for t, g in self._access.items()}
