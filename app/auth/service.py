"""Issuing, checking and revoking API tokens."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import repository
from app.auth.errors import InvalidToken, TokenNotFound
from app.auth.models import ApiToken, Role
from app.kit.crypto import digest
from app.kit.time import utcnow

ISSUED_PREFIX = "vl_"  # marks ValueLoop tokens, so secret scanners can find leaked ones


@dataclass(frozen=True)
class IssuedToken:
    """A new token: ``secret`` is shown once and never stored."""

    record: ApiToken
    secret: str


def hash_token(secret: str) -> str:
    return digest(secret)


def issue(session: AsyncSession, *, name: str, role: Role, created_by: str) -> IssuedToken:
    secret = ISSUED_PREFIX + secrets.token_urlsafe(32)
    record = ApiToken(
        name=name,
        role=role,
        token_hash=hash_token(secret),
        token_prefix=secret[:10],
        created_at=utcnow(),
        created_by=created_by,
    )
    repository.add(session, record)
    return IssuedToken(record=record, secret=secret)


async def authenticate(session: AsyncSession, secret: str) -> ApiToken:
    """The live token behind ``secret``; unknown and revoked tokens are refused alike."""
    record = await repository.by_hash(session, hash_token(secret))
    if record is None or record.revoked_at is not None:
        raise InvalidToken(
            "This API token is not valid (unknown or revoked). Ask an admin for a new one "
            "(`valueloop tokens create`)."
        )
    return record


async def list_tokens(session: AsyncSession) -> Sequence[ApiToken]:
    return await repository.all_tokens(session)


async def revoke(session: AsyncSession, token_id: uuid.UUID) -> ApiToken:
    record = await repository.by_id(session, token_id)
    if record is None:
        raise TokenNotFound(f"No API token with id {token_id}.")
    if record.revoked_at is None:
        record.revoked_at = utcnow()
        repository.add(session, record)
    return record
