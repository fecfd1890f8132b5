"""API tokens for the quality team: stored hashed, shown once, revocable."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from app.db import UTCDateTime


class Role(StrEnum):
    """Quality-team roles, from least to most powerful."""

    LEAD = "lead"
    ANALYST = "analyst"
    ADMIN = "admin"


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_token"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(max_length=100)
    role: str = Field(max_length=20)
    # SHA-256 of the token: tokens carry 256 random bits, so a fast hash is enough and lookups
    # stay one indexed read per request.
    token_hash: str = Field(max_length=64, unique=True)
    # The first characters of the token, so an admin can tell tokens apart without the secret.
    token_prefix: str = Field(max_length=16)
    created_at: datetime = Field(sa_type=UTCDateTime)
    created_by: str = Field(max_length=100)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # A person's token acts as them (their role, their name on the timeline) and stops working
    # when they are deactivated; None is a named service token (an integration, a script).
    staff_id: uuid.UUID | None = Field(default=None, foreign_key="staff.id", index=True)
    # A service token's organization (None: system level). A person's token follows the
    # person's organization instead.
    organization_id: uuid.UUID | None = Field(default=None, foreign_key="organization.id")


class SignInMethod(StrEnum):
    API_TOKEN = "api_token"  # noqa: S105 - the name of a sign-in method, not a secret
    OIDC = "oidc"


class StaffSession(SQLModel, table=True):
    """A staff member signed in to the dashboard (a browser session, held in an HttpOnly
    cookie). Stored server-side so any app process can check it and sign-out is immediate."""

    __tablename__ = "staff_session"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    # SHA-256 of the cookie's 256-bit secret, as for API tokens.
    secret_hash: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    role: str = Field(max_length=20)
    method: str = Field(max_length=20)
    # Sessions opened with an API token end when the token is revoked.
    api_token_id: uuid.UUID | None = Field(default=None, foreign_key="api_token.id", index=True)
    # OpenID Connect: the provider's issuer and the user's subject.
    subject: str | None = Field(default=None, max_length=500)
    # The person signed in (OpenID Connect, or a token that belongs to a person): the session
    # ends when they are deactivated.
    staff_id: uuid.UUID | None = Field(default=None, foreign_key="staff.id", index=True)
    # Whose flags the session sees (None: every organization's); follows the person.
    organization_id: uuid.UUID | None = Field(default=None, foreign_key="organization.id")
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    last_seen_at: datetime = Field(sa_type=UTCDateTime)


class OidcSignIn(SQLModel, table=True):
    """A staff sign-in waiting for the identity provider's redirect: state (hashed, single
    use), the PKCE verifier and nonce, and where to go afterwards."""

    __tablename__ = "oidc_sign_in"

    state_hash: str = Field(max_length=64, primary_key=True)
    pkce_verifier_encrypted: str = Field(max_length=1000)
    nonce: str = Field(max_length=200)
    next_path: str = Field(max_length=500)
    # SHA-256 of a value in this browser's sign-in cookie: the callback must come back to the
    # browser that started the sign-in (RFC 6749 10.12, login CSRF).
    browser_binding_hash: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
