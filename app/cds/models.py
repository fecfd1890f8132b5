"""The tables of CDS client trust: the CDS clients (EHRs) allowed to call our CDS Hooks
services, and the token ids (``jti``) they have already used.

CDS Hooks 2.0, "Trusting CDS Clients": a CDS Service "SHOULD maintain an allowlist of the
``iss`` and ``jku`` fields to only the CDS Clients they trust". A ``CdsClient`` row is that
allow-list entry: its ``iss`` and where its public keys are (a JWKS URL, which is also the one
``jku`` we accept, or a JWKS given at registration).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.db import BigIntId, UTCDateTime
from app.organizations.models import DEFAULT_ORGANIZATION_ID

ISS_MAX_LENGTH = 500
URL_MAX_LENGTH = 500
JTI_MAX_LENGTH = 200
CODE_MAX_LENGTH = 100  # as flag.order_code


class CdsClient(SQLModel, table=True):
    """A CDS client allowed to call ValueLoop's CDS services; calls from any other are refused.

    Exactly one of ``jwks_url`` (fetched and cached) and ``jwks`` (stored at registration)
    says where its public keys are.
    """

    __tablename__ = "cds_client"
    __table_args__ = (
        sa.CheckConstraint(
            "(jwks_url IS NULL) <> (jwks IS NULL)", name="ck_cds_client_one_key_source"
        ),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    # Without a trailing slash: the spec's own example sends "https://fhir-ehr.example.com/".
    iss: str = Field(max_length=ISS_MAX_LENGTH, unique=True)
    name: str = Field(max_length=200)
    # Catches from this client's order-sign calls belong to this organization
    # (a plain id, as flag.organization_id).
    organization_id: uuid.UUID = Field(default=DEFAULT_ORGANIZATION_ID)
    jwks_url: str | None = Field(default=None, max_length=URL_MAX_LENGTH)
    # none_as_null: an absent JWKS is SQL NULL (the check constraint), not the JSON null.
    jwks: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON(none_as_null=True))
    active: bool = Field(default=True)
    created_at: datetime = Field(sa_type=UTCDateTime)


class CdsJwtSeen(SQLModel, table=True):
    """A ``jti`` a CDS client has used, kept until its token expires (CDS Hooks 2.0: ``jti``
    is "a nonce string value that uniquely identifies this authentication JWT (used to
    protect against replay attacks)"). The primary key is what refuses a second use."""

    __tablename__ = "cds_jwt_seen"

    iss: str = Field(max_length=ISS_MAX_LENGTH, primary_key=True)
    jti: str = Field(max_length=JTI_MAX_LENGTH, primary_key=True)
    # The token's exp plus the clock leeway: until then a replay would still pass exp.
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)


class IssuedCard(SQLModel, table=True):
    """A card a CDS service gave: what it was about, by ids only (no clinical text), so its
    feedback can be checked and counted. The uuid is the card's own (``Card.uuid``)."""

    __tablename__ = "cds_card"

    id: uuid.UUID = Field(primary_key=True)
    service_id: str = Field(max_length=64)
    hook_instance: uuid.UUID
    rule_id: str = Field(max_length=100)
    rule_version: str = Field(max_length=32)
    order_ref: str = Field(max_length=200)
    patient_id: str = Field(max_length=64)
    encounter_id: str | None = Field(default=None, max_length=64)
    user_id: str = Field(max_length=256)
    client_iss: str = Field(max_length=ISS_MAX_LENGTH)
    # The calling client's organization: its staff see the card's outcomes in Insights.
    organization_id: uuid.UUID
    suggestion_id: uuid.UUID
    issued_at: datetime = Field(sa_type=UTCDateTime, index=True)
    # What a "caught before" flag needs if the suggestion is accepted (app/cds/catches.py).
    snapshot: dict[str, Any] = Field(sa_type=sa.JSON)
    # The code of the draft order the rule's order clause matched: the daily counts' key, so
    # the card's feedback is counted on the same row as the card (None: given before counting).
    order_code_system: str | None = Field(default=None, max_length=ISS_MAX_LENGTH)
    order_code: str | None = Field(default=None, max_length=CODE_MAX_LENGTH)
    # Set by the first feedback counted for this card, in the same statement that tests it:
    # a card counts once as accepted or overridden, however often (or at once) it is reported.
    feedback_counted: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})


class CardFeedback(SQLModel, table=True):
    """What a clinician did with a card (CDS Hooks 2.0 "Feedback"), once per outcome time."""

    __tablename__ = "cds_feedback"
    __table_args__ = (
        sa.UniqueConstraint("card_id", "outcome_at", name="uq_cds_feedback_card_time"),
    )

    id: int | None = Field(default=None, sa_type=BigIntId, primary_key=True)
    card_id: uuid.UUID = Field(foreign_key="cds_card.id")
    outcome: str = Field(max_length=16)  # accepted | overridden
    accepted_suggestion: bool
    override_code: str | None = Field(default=None, max_length=64)
    override_display: str | None = Field(default=None, max_length=200)
    user_comment: str | None = Field(default=None, max_length=2000)
    outcome_at: datetime = Field(sa_type=UTCDateTime)
    received_at: datetime = Field(sa_type=UTCDateTime, index=True)
    # The "caught before" flag an accepted suggestion became.
    # Indexed: the Insights page tells catches from clinician flags by this link.
    flag_id: uuid.UUID | None = Field(default=None, foreign_key="flag.id", index=True)
    # The outcome that counted for its card in the daily counts (one per card at most): the
    # override reasons are read from these, so they add up to the overridden count.
    counted: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})


class CdsDailyCount(SQLModel, table=True):
    """How often a rule met an order code on one day (UTC), and what became of its cards.

    Counts only: no patient, encounter, user or order id, so the table can be kept, read and
    exported without touching PHI. It is the measure of whether a later change to an order
    set worked: the same rule and code, before and after the change went live.

    - ``evaluated``: draft orders whose code the rule's order clause matched (the rule was then
      judged on that order, whatever the outcome);
    - ``shown``: cards given;
    - ``accepted`` / ``overridden``: cards with that outcome, each card once (its first
      outcome), on the day the card was given, so a day's rates are about that day's cards.
    """

    __tablename__ = "cds_daily_count"

    # Whose calls: each organization's staff see their own counts (app.organizations.scope).
    organization_id: uuid.UUID = Field(primary_key=True)
    day: date = Field(primary_key=True)
    service_id: str = Field(max_length=64, primary_key=True)
    rule_id: str = Field(max_length=100, primary_key=True)
    order_code_system: str = Field(max_length=ISS_MAX_LENGTH, primary_key=True)
    order_code: str = Field(max_length=CODE_MAX_LENGTH, primary_key=True)
    evaluated: int = Field(default=0, sa_type=sa.BigInteger)
    shown: int = Field(default=0, sa_type=sa.BigInteger)
    accepted: int = Field(default=0, sa_type=sa.BigInteger)
    overridden: int = Field(default=0, sa_type=sa.BigInteger)
