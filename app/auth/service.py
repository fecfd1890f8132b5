"""Issuing, checking and revoking API tokens.

A token belongs to a person in the staff directory (it acts with their name and their current
role, and stops working when they are deactivated) or is a named service token (an
integration or script, with the role it was given).
"""

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
from app.staff import repository as staff_repository
from app.staff.errors import StaffDeactivated, StaffNotFound
from app.staff.models import Staff

ISSUED_PREFIX = "vl_"  # marks ValueLoop tokens, so secret scanners can find leaked ones


@dataclass(frozen=True)
class IssuedToken:
    """A new token: ``secret`` is shown once and never stored."""

    record: ApiToken
    secret: str


def hash_token(secret: str) -> str:
    return digest(secret)


@dataclass(frozen=True)
class TokenHolder:
    """Who a live token speaks for: its person (name and role from the directory), or the
    service it was named for."""

    token: ApiToken
    staff: Staff | None

    @property
    def name(self) -> str:
        return self.staff.name if self.staff else self.token.name

    @property
    def role(self) -> Role:
        return Role(self.staff.role if self.staff else self.token.role)

    @property
    def organization_id(self) -> uuid.UUID | None:
        """Whose flags it sees: its person's organization, or the service token's own."""
        return self.staff.organization_id if self.staff else self.token.organization_id


def issue(
    session: AsyncSession,
    *,
    name: str,
    role: Role,
    created_by: str,
    staff: Staff | None = None,
    organization_id: uuid.UUID | None = None,
) -> IssuedToken:
    """A new token; ``staff`` ties it to a person, whose name, role and organization it then
    carries. A service token sees ``organization_id``'s flags, or every organization's."""
    if staff is not None and not staff.active:
        raise StaffDeactivated(f"{staff.name} is deactivated; reactivate them first.")
    secret = ISSUED_PREFIX + secrets.token_urlsafe(32)
    record = ApiToken(
        name=staff.name if staff else name,
        role=Role(staff.role) if staff else role,
        staff_id=staff.id if staff else None,
        organization_id=staff.organization_id if staff else organization_id,
        token_hash=hash_token(secret),
        token_prefix=secret[:10],
        created_at=utcnow(),
        created_by=created_by,
    )
    repository.add(session, record)
    return IssuedToken(record=record, secret=secret)


async def issue_for(
    session: AsyncSession,
    *,
    name: str | None,
    role: Role | None,
    staff_id: uuid.UUID | None,
    created_by: str,
    organization_id: uuid.UUID | None = None,
) -> IssuedToken:
    """A token for the person ``staff_id`` names, or a service token named ``name`` (of
    ``organization_id``, or the system level)."""
    if staff_id is None:
        if name is None or role is None:
            raise ValueError("a service token needs a name and a role (TokenCreate checks this)")
        return issue(
            session, name=name, role=role, created_by=created_by, organization_id=organization_id
        )
    staff = await staff_repository.by_id(session, staff_id)
    if staff is None:
        raise StaffNotFound(f"No staff member with id {staff_id}.")
    return issue(
        session, name=staff.name, role=Role(staff.role), created_by=created_by, staff=staff
    )


async def authenticate(session: AsyncSession, secret: str) -> TokenHolder:
    """The live token behind ``secret`` and its person; unknown and revoked tokens are refused
    alike, and a deactivated person's tokens with a 403 that says so."""
    record = await repository.by_hash(session, hash_token(secret))
    if record is None or record.revoked_at is not None:
        raise InvalidToken(
            "This API token is not valid (unknown or revoked). Ask an admin for a new one "
            "(`valueloop tokens create`)."
        )
    staff = None
    if record.staff_id is not None:
        staff = await staff_repository.by_id(session, record.staff_id)
        if staff is None or not staff.active:
            raise StaffDeactivated(
                "This API token belongs to a staff member who has been deactivated, so it no "
                "longer works. Ask a ValueLoop administrator to reactivate them or issue a "
                "service token."
            )
    return TokenHolder(token=record, staff=staff)


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
