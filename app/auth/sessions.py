"""Staff sessions for the dashboard: a browser signs in once (with an API token or through
the organisation's OpenID Connect provider) and then calls the same REST API with a cookie.

The cookie is ``__Host-`` prefixed, ``Secure; HttpOnly; SameSite=Strict``: no script can read
it, no other site's page can send it, and no subdomain can set it. Writes made with the cookie
must also carry the session's CSRF token in a header (OWASP "Cross-Site Request Forgery
Prevention", synchronizer token), which another site cannot read. Sessions end after
``staff_idle_minutes`` without use, after ``staff_session_hours`` in any case, on sign-out,
when the signed-in person is deactivated, and, for token sign-ins, when the token is revoked.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from app.auth import repository
from app.auth.errors import SessionEnded
from app.auth.models import Role, SignInMethod, StaffSession
from app.config import Settings
from app.kit.crypto import digest
from app.kit.time import utcnow
from app.staff import repository as staff_repository

COOKIE = "__Host-valueloop-staff"
CSRF_HEADER = "X-CSRF-Token"
# Writing last_seen_at on every request would turn each read into a write.
_TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class StartedSession:
    """A new session: ``secret`` goes into the cookie and is never stored."""

    record: StaffSession
    secret: str


def start(
    session: AsyncSession,
    *,
    name: str,
    role: Role,
    method: SignInMethod,
    settings: Settings,
    api_token_id: uuid.UUID | None = None,
    subject: str | None = None,
    staff_id: uuid.UUID | None = None,
    organization_id: uuid.UUID | None = None,
) -> StartedSession:
    now = utcnow()
    secret = secrets.token_urlsafe(32)
    record = StaffSession(
        secret_hash=digest(secret),
        name=name,
        role=role,
        method=method,
        api_token_id=api_token_id,
        subject=subject,
        staff_id=staff_id,
        organization_id=organization_id,
        created_at=now,
        expires_at=now + timedelta(hours=settings.staff_session_hours),
        last_seen_at=now,
    )
    session.add(record)
    return StartedSession(record=record, secret=secret)


async def resolve(session: AsyncSession, secret: str, *, settings: Settings) -> StaffSession:
    """The live session behind a cookie; SessionEnded for an unknown, expired, idle or
    revoked one (the dashboard then asks the user to sign in again)."""
    record = await repository.session_by_hash(session, digest(secret))
    now = utcnow()
    if record is None:
        raise SessionEnded("You are signed out. Sign in again to continue.")
    idle_limit = record.last_seen_at + timedelta(minutes=settings.staff_idle_minutes)
    if now >= record.expires_at or now >= idle_limit:
        raise SessionEnded("Your session has ended (time limit). Sign in again to continue.")
    if record.api_token_id is not None:
        token = await repository.by_id(session, record.api_token_id)
        if token is None or token.revoked_at is not None:
            raise SessionEnded(
                "The API token you signed in with was revoked. Sign in with a valid token."
            )
    await _follow_the_person(session, record)
    if now - record.last_seen_at >= _TOUCH_EVERY:
        record.last_seen_at = now
        session.add(record)
    return record


async def _follow_the_person(session: AsyncSession, record: StaffSession) -> None:
    """A person's session ends when they are deactivated, and carries their current role and
    organization (an admin's change applies at once, not at the next sign-in)."""
    if record.staff_id is None:
        return
    person = await staff_repository.by_id(session, record.staff_id)
    if person is None or not person.active:
        raise SessionEnded(
            "Your ValueLoop account has been deactivated, so you are signed out. Ask a "
            "ValueLoop administrator if this is a mistake."
        )
    current = (person.role, person.name, person.organization_id)
    if (record.role, record.name, record.organization_id) != current:
        record.role, record.name, record.organization_id = current
        session.add(record)


async def end(session: AsyncSession, secret: str) -> None:
    record = await repository.session_by_hash(session, digest(secret))
    if record is not None:
        await repository.delete_session(session, record)


def csrf_token(record: StaffSession, *, secret_key: str) -> str:
    """Derived from the session, so nothing more is stored and it dies with the session."""
    message = f"csrf|{record.id}|{record.secret_hash}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


def csrf_matches(record: StaffSession, presented: str | None, *, secret_key: str) -> bool:
    if not presented:
        return False
    return hmac.compare_digest(
        presented.encode(), csrf_token(record, secret_key=secret_key).encode()
    )


def idle_deadline(record: StaffSession, settings: Settings) -> datetime:
    return min(
        record.expires_at,
        record.last_seen_at + timedelta(minutes=settings.staff_idle_minutes),
    )


def set_cookie(response: Response, started: StartedSession, settings: Settings) -> None:
    response.set_cookie(
        COOKIE,
        started.secret,
        max_age=settings.staff_session_hours * 3600,
        path="/",
        secure=True,
        httponly=True,
        samesite="strict",
    )


def clear_cookie(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/", secure=True, httponly=True, samesite="strict")
