"""What the clinician API (``/api/v1/clinician``) accepts and returns."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, model_validator

from app.flags.catalog import Anonymity, Driver, OrderResourceType, Reason, ReporterRole, Timing
from app.flags.models import NOTE_MAX_LENGTH
from app.flags.schemas import FhirId, Input, require_note_for_other


class ClinicianFlagIn(Input):
    """What the in-EHR page sends: which order, and why. The server reads the rest itself."""

    resource_type: OrderResourceType
    order_id: FhirId
    reason: Reason
    driver: Driver | None = None
    timing: Timing = Timing.BEFORE
    note: Annotated[str, Field(max_length=NOTE_MAX_LENGTH)] | None = None
    anonymity: Anonymity = Anonymity.IDENTIFIED
    reporter_role: ReporterRole
    idempotency_key: Annotated[
        str, Field(min_length=8, max_length=100, pattern=r"^[A-Za-z0-9_\-]+$")
    ]

    @model_validator(mode="after")
    def _other_needs_a_note(self) -> ClinicianFlagIn:
        require_note_for_other(self.reason, self.note)
        return self


class PatientBanner(BaseModel):
    name: str | None
    age_band: str | None
    sex: str | None
    mrn: str | None


class EncounterOut(BaseModel):
    fhir_id: str | None
    class_code: str | None
    type: str | None
    department: str | None
    start: datetime | None
    status: str | None


class LowValueMarker(BaseModel):
    """A low-value rule that judges the order low-value (``lowvalue/``, as CDS Hooks cards)."""

    rule_id: str
    label: str = Field(description="The rule's short title.")
    reason: str = Field(description="Why the rule calls it low-value, in plain words.")
    source_title: str
    source_url: str = Field(description="The published measure the rule comes from.")
    flag_reason: Reason = Field(description="The flag reason this rule stands for.")


class OrderOut(BaseModel):
    flagged_by_you: bool = Field(default=False, description="You flagged it in an earlier launch.")
    # An order no rule judges carries nothing extra: the key is left out, not null.
    low_value: list[LowValueMarker] | None = Field(
        default=None,
        exclude_if=lambda markers: markers is None,
        description="The rules that judge this order low-value; absent when none does.",
    )
    resource_type: str
    fhir_id: str
    display: str
    status: str
    intent: str | None
    authored_on: datetime | None
    requester: str | None
    category: str | None


class StyleOut(BaseModel):
    accent: str | None
    font_family: str | None


class SignedInOut(BaseModel):
    """Who the EHR says is using ValueLoop: the name flags carry when identified."""

    name: str | None
    email: str | None
    fhir_user: str | None


class ContextOut(BaseModel):
    signed_in: SignedInOut | None = Field(
        default=None,
        description="Who is signed in: from the EHR's fhirUser record, else the id_token.",
    )
    patient: PatientBanner | None
    encounter: EncounterOut | None
    orders: list[OrderOut]
    warnings: list[str]
    smart_style_url: str | None
    style: StyleOut | None = Field(
        default=None, description="The EHR's style hints that keep the page readable."
    )
    focus_order: str | None = Field(
        default=None,
        description="An order the EHR launched ValueLoop on (fhirContext), as 'Type/id'.",
    )


class FlagReceipt(BaseModel):
    created: bool
    flag_id: str
    status: str
    order_display: str
    receipt_token: str | None


class ReplyOut(BaseModel):
    id: int
    at: datetime
    author: str
    body: str
    unread: bool


class MyFlagOut(BaseModel):
    id: uuid.UUID
    created_at: datetime
    status: str
    reason: str
    order_display: str
    unread: int
    replies: list[ReplyOut]


class MyFlags(BaseModel):
    unread: int
    items: list[MyFlagOut]
