"""Tables of the SMART launch: launches in flight and app sessions.

Everything a later request needs lives here, not in process memory, so a launch can start on
one app process and finish on another. Secrets are stored encrypted (tokens, client secrets,
PKCE verifiers) or hashed (state values, session handles), never in the clear.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

import smart
from app.db import UTCDateTime
from app.ehrs.models import URL_MAX_LENGTH
from app.launch.identity import EMAIL_MAX_LENGTH, NAME_MAX_LENGTH


@dataclass(frozen=True, kw_only=True)
class PendingLaunch(smart.PendingAuthorization):
    """A launch in flight as the code sees it: what ``smart`` checks at the callback, and
    what the launch needs after it (stored as a ``PendingLaunchRecord``)."""

    issuer: str
    launch: str | None = field(repr=False)
    requested_scopes: tuple[str, ...]


class PendingLaunchRecord(SQLModel, table=True):
    """An authorization request in flight: single use, ten minutes at most."""

    __tablename__ = "pending_launch"

    state_hash: str = Field(primary_key=True, max_length=64)
    issuer: str = Field(max_length=URL_MAX_LENGTH)
    launch: str | None = Field(default=None, max_length=URL_MAX_LENGTH)
    pkce_verifier_encrypted: str = Field(max_length=1000)
    nonce: str = Field(max_length=100)
    redirect_uri: str = Field(max_length=URL_MAX_LENGTH)
    requested_scopes: list[str] = Field(sa_type=sa.JSON)
    browser_binding_hash: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime)


class AppSession(SQLModel, table=True):
    """One launch's session: the EHR context and its (encrypted) tokens.

    The browser holds only an opaque handle; its SHA-256 is the lookup key here.
    """

    __tablename__ = "app_session"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    handle_hash: str = Field(max_length=64, unique=True)
    ehr_id: uuid.UUID = Field(foreign_key="registered_ehr.id")
    issuer: str = Field(max_length=URL_MAX_LENGTH)
    patient_id: str | None = Field(default=None, max_length=64)
    encounter_id: str | None = Field(default=None, max_length=64)
    fhir_user: str | None = Field(default=None, max_length=URL_MAX_LENGTH)
    # Who is signed in, as a person: from the fhirUser resource when the EHR gives it, else
    # from the verified id_token's ``name`` and ``email`` claims (``app.launch.identity``).
    reporter_name: str | None = Field(default=None, max_length=NAME_MAX_LENGTH)
    reporter_email: str | None = Field(default=None, max_length=EMAIL_MAX_LENGTH)
    fhir_context: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    granted_scopes: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    need_patient_banner: bool = Field(default=True)
    smart_style_url: str | None = Field(default=None, max_length=URL_MAX_LENGTH)
    tenant: str | None = Field(default=None, max_length=200)
    # A launch from a CDS card's SMART link: the link's appContext, as the EHR relayed it
    # (``smart.LaunchContext.app_context``); ``app.cds.cards`` knows its shape.
    app_context: str | None = Field(default=None, max_length=smart.APP_CONTEXT_MAX_LENGTH)
    access_token_encrypted: str = Field(max_length=8000)
    refresh_token_encrypted: str | None = Field(default=None, max_length=8000)
    access_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # What a flag snapshots of the launch's patient and encounter, kept from the context read
    # (``app.clinician.context.FlagContext``), so a flag re-reads only its order from the EHR.
    flag_context: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    created_at: datetime = Field(sa_type=UTCDateTime)
    last_seen_at: datetime = Field(sa_type=UTCDateTime)
    # Counts token refreshes. Refreshes are serialised by a row lock, not by this number, so
    # the many small writes a session makes (last_seen_at) never conflict with each other.
    version: int = Field(default=1)
