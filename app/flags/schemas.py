"""What the flag workflow accepts and returns over HTTP.

Inputs refuse unknown fields and bound every string, so a typo is an error a person can fix,
never a silently ignored field. Outputs hide a confidential or anonymous reporter's identity.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from app.flags.catalog import (
    AdministrativeSex,
    AgeBand,
    Anonymity,
    Driver,
    OrderIntent,
    OrderResourceType,
    OrderStatus,
    Priority,
    Reason,
    ReporterRole,
    Timing,
)
from app.flags.costs import Price
from app.flags.models import (
    EMAIL_MAX_LENGTH,
    FHIR_ID_MAX_LENGTH,
    MAX_TAGS,
    MESSAGE_MAX_LENGTH,
    NAME_MAX_LENGTH,
    NOTE_MAX_LENGTH,
    REFERENCE_MAX_LENGTH,
    TAG_MAX_LENGTH,
)
from app.flags.workflow import Status
from app.staff.schemas import StaffRef


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("must include a time zone offset, e.g. 2026-01-31T09:30:00Z")
    return value


AwareDatetime = Annotated[datetime, AfterValidator(_aware)]
FhirId = Annotated[
    str, Field(min_length=1, max_length=FHIR_ID_MAX_LENGTH, pattern=r"^[A-Za-z0-9\-.]+$")
]
Name = Annotated[str, Field(min_length=1, max_length=NAME_MAX_LENGTH)]
Reference = Annotated[str, Field(min_length=1, max_length=REFERENCE_MAX_LENGTH)]
Message = Annotated[str, Field(min_length=1, max_length=MESSAGE_MAX_LENGTH)]
Tag = Annotated[
    str, Field(min_length=1, max_length=TAG_MAX_LENGTH, pattern=r"^[a-z0-9][a-z0-9_-]*$")
]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def require_note_for_other(reason: Reason, note: str | None) -> None:
    """Reason "Other" says nothing by itself: the note is the reason, so it is required."""
    if reason is Reason.OTHER and not (note and note.strip()):
        raise ValueError("reason 'other' needs a note that says what the reason is")


# --- creating a flag (the clinician side) ------------------------------------------------------


Email = Annotated[
    str, Field(min_length=3, max_length=EMAIL_MAX_LENGTH, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
]


class ReporterIn(Input):
    fhir_user: Reference
    display: Name | None = None
    email: Email | None = None
    role: ReporterRole
    department: Name | None = None


class CodingIn(Input):
    system: Reference | None = None
    code: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    display: Name


class OrderSnapshot(Input):
    resource_type: OrderResourceType
    fhir_id: FhirId
    code: CodingIn
    status: OrderStatus
    intent: OrderIntent | None = None
    authored_on: AwareDatetime | None = None
    requester_role: Name | None = None


class EncounterSnapshot(Input):
    fhir_id: FhirId | None = None
    class_code: Annotated[str, Field(min_length=1, max_length=40)] | None = None
    type: Name | None = None
    department: Name | None = None
    start: AwareDatetime | None = None
    end: AwareDatetime | None = None


class PatientSnapshot(Input):
    fhir_id: FhirId
    age_band: AgeBand | None = None
    sex: AdministrativeSex | None = None


class CostEstimate(Input):
    amount: Annotated[Decimal, Field(ge=0, le=10_000_000, decimal_places=2)]
    currency: Literal["USD"] = "USD"
    source: Name
    year: Annotated[int, Field(ge=1990, le=2100)]

    @classmethod
    def of(cls, price: Price | None) -> CostEstimate | None:
        """The estimate a flag keeps for a looked-up price (None: no price known)."""
        if price is None:
            return None
        return cls(amount=price.amount, source=price.source, year=price.year)


HttpsUrl = Annotated[str, Field(max_length=REFERENCE_MAX_LENGTH, pattern=r"^https://\S+$")]


class RuleAgreementIn(Input):
    """A low-value rule (``lowvalue/``) that judged the flagged order low-value when it was
    flagged: its id and version, with its title and first source as they read then."""

    rule_id: Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[a-z0-9-]+$")]
    rule_version: Annotated[str, Field(min_length=1, max_length=32)]
    title: Name
    source_title: Annotated[str, Field(min_length=1, max_length=500)] | None = None
    source_url: HttpsUrl | None = None


class FlagCreate(Input):
    """A clinician's flag with the snapshot of EHR context it needs, and nothing more."""

    issuer: Reference
    idempotency_key: Annotated[
        str, Field(min_length=8, max_length=100, pattern=r"^[A-Za-z0-9_\-]+$")
    ]
    anonymity: Anonymity = Anonymity.IDENTIFIED
    reporter: ReporterIn
    patient: PatientSnapshot
    encounter: EncounterSnapshot | None = None
    order: OrderSnapshot
    timing: Timing
    reason: Reason
    driver: Driver | None = None
    note: Annotated[str, Field(max_length=NOTE_MAX_LENGTH)] | None = None
    estimated_cost: CostEstimate | None = None
    priority: Priority = Priority.NORMAL
    tags: Annotated[list[Tag], Field(max_length=MAX_TAGS)] = Field(default_factory=list)
    # Set by the server from its own evaluation, never taken from a client: None when no rule
    # was run on the order, [] when the rules ran and none found it low-value.
    rule_agreement: Annotated[list[RuleAgreementIn], Field(max_length=50)] | None = None

    @model_validator(mode="after")
    def _other_needs_a_note(self) -> FlagCreate:
        require_note_for_other(self.reason, self.note)
        return self


# --- working a flag (the quality team) ---------------------------------------------------------


class OwnerIn(Input):
    """Either one lead, or a clinical + operational dyad: staff ids from GET /api/v1/staff,
    each an active person."""

    lead: uuid.UUID | None = Field(default=None, description="A staff id.")
    clinical_lead: uuid.UUID | None = Field(default=None, description="A staff id.")
    operational_lead: uuid.UUID | None = Field(default=None, description="A staff id.")

    @model_validator(mode="after")
    def _one_lead_or_a_dyad(self) -> OwnerIn:
        dyad = (self.clinical_lead, self.operational_lead)
        if self.lead is not None and any(dyad):
            raise ValueError("give either 'lead', or 'clinical_lead' with 'operational_lead'")
        if self.lead is None and not all(dyad):
            raise ValueError(
                "a dyad needs both 'clinical_lead' and 'operational_lead' (or give one 'lead')"
            )
        if self.lead is None and self.clinical_lead == self.operational_lead:
            raise ValueError("a dyad is two people: 'clinical_lead' and 'operational_lead' differ")
        return self


class TransitionIn(Input):
    to: Status
    reply: Message | None = Field(
        default=None,
        description="Message to the reporter; required when moving to closed, not_low_value, "
        "duplicate or needs_info.",
    )
    comment: Message | None = Field(
        default=None, description="Internal note, not shown to the reporter."
    )
    owner: OwnerIn | None = Field(
        default=None, description="Assign in the same step (accepted needs an owner)."
    )
    duplicate_of: uuid.UUID | None = Field(
        default=None, description="Required when moving to duplicate."
    )
    reply_shareable: bool = Field(
        default=False,
        description="The reply may be quoted in the transparency report (checked for patient "
        "and clinician data first: 422 when it seems to hold some).",
    )

    @model_validator(mode="after")
    def _shareable_needs_a_reply(self) -> TransitionIn:
        if self.reply_shareable and self.reply is None:
            raise ValueError("'reply_shareable' goes with a 'reply'; give one or leave it out")
        return self


class MessageIn(Input):
    body: Message


class ReplyIn(MessageIn):
    shareable: bool = Field(
        default=False,
        description="May be quoted in the transparency report, with no patient or clinician "
        "names (checked first: 422 when the text seems to hold some).",
    )


class ClassificationIn(Input):
    """The quality team's reading of why the order is low-value and what drove it."""

    reason: Reason | None = Field(default=None, description="The reason as the team reads it.")
    driver: Driver | None = Field(
        default=None, description="The suspected driver as the team reads it."
    )
    clear_driver: bool = Field(
        default=False, description="Set true to record that the driver is not known."
    )
    comment: Message | None = Field(
        default=None, description="Why, for the team (internal, not shown to the reporter)."
    )

    @model_validator(mode="after")
    def _something_to_change(self) -> ClassificationIn:
        if self.clear_driver and self.driver is not None:
            raise ValueError("give 'driver' or 'clear_driver', not both")
        if self.reason is None and self.driver is None and not self.clear_driver:
            raise ValueError("give 'reason', 'driver' or 'clear_driver' to change")
        return self


class FlagPatch(Input):
    priority: Priority | None = None
    tags: Annotated[list[Tag], Field(max_length=MAX_TAGS)] | None = None

    @model_validator(mode="after")
    def _something_to_change(self) -> FlagPatch:
        if self.priority is None and self.tags is None:
            raise ValueError("give 'priority' or 'tags' to change")
        return self


# --- what the API returns ----------------------------------------------------------------------


class Owner(BaseModel):
    """Who owns a flag: ``lead`` for one lead, or both dyad members; each a staff member."""

    kind: Literal["lead", "dyad"]
    lead: StaffRef | None = None
    clinical_lead: StaffRef | None = None
    operational_lead: StaffRef | None = None


class Reporter(BaseModel):
    anonymity: Anonymity
    role: ReporterRole
    identity_hidden: bool
    fhir_user: str | None = None
    display: str | None = None
    email: str | None = None
    department: str | None = None


class Coding(BaseModel):
    system: str | None
    code: str | None
    display: str


class Order(BaseModel):
    resource_type: OrderResourceType
    fhir_id: str
    code: Coding
    status: OrderStatus
    intent: OrderIntent | None = None
    authored_on: datetime | None = None
    requester_role: str | None = None


class Encounter(BaseModel):
    fhir_id: str | None
    class_code: str | None
    type: str | None
    department: str | None
    start: datetime | None
    end: datetime | None


class Patient(BaseModel):
    fhir_id: str
    age_band: AgeBand | None
    sex: AdministrativeSex | None


class Cost(BaseModel):
    amount: Decimal
    currency: Literal["USD"] = "USD"
    source: str | None
    year: int | None


class Actor(BaseModel):
    name: str
    role: str
    staff_id: uuid.UUID | None = Field(
        default=None, description="The staff member who acted, when it was one."
    )


class TimelineEvent(BaseModel):
    id: int
    at: datetime
    kind: str
    actor: Actor
    from_status: Status | None = None
    to_status: Status | None = None
    body: str | None = None
    visible_to_reporter: bool
    details: dict[str, object] | None = None


class FlagSummary(BaseModel):
    id: uuid.UUID
    organization_id: uuid.UUID = Field(
        description="The organization of the EHR the flag came from (GET /api/v1/organizations)."
    )
    created_at: datetime
    updated_at: datetime
    version: int
    status: Status
    priority: Priority
    reason: Reason
    driver: Driver | None
    timing: Timing
    department: str | None
    order: Order
    reporter: Reporter
    owner: Owner | None
    estimated_cost: Cost | None
    tags: list[str]
    first_reply_at: datetime | None


class RuleAgreement(BaseModel):
    rule_id: str
    rule_version: str
    title: str
    source_title: str | None
    source_url: str | None


class FlagDetail(FlagSummary):
    issuer: str
    patient: Patient
    encounter: Encounter
    note: str | None
    duplicate_of: uuid.UUID | None
    rule_agreement: list[RuleAgreement] | None = Field(
        default=None,
        description="The low-value rules that judged the order low-value when it was flagged; "
        "[] when the rules ran and none did, null when no rule was run on it.",
    )
    allowed_transitions: list[Status]
    timeline: list[TimelineEvent]


class FlagPage(BaseModel):
    items: list[FlagSummary]
    next_cursor: str | None = Field(
        description="Pass as 'cursor' for the next page; null on the last page."
    )


# --- the catalog -------------------------------------------------------------------------------


class CatalogEntry(BaseModel):
    value: str
    label: str
    description: str | None = None


class StatusEntry(BaseModel):
    value: Status
    label: str
    allowed_transitions: list[Status]
    reply_required: bool = Field(description="Moving here needs a reply to the reporter.")
    owner_required: bool = Field(description="Moving here needs an owner.")
    end_state: bool


class Catalog(BaseModel):
    """The registry's vocabularies with the labels people read, and the workflow's rules."""

    reasons: list[CatalogEntry]
    drivers: list[CatalogEntry]
    statuses: list[StatusEntry]
    reporter_roles: list[CatalogEntry]
    priorities: list[CatalogEntry]


# --- bulk changes and the dashboard's other views ---------------------------------------------

MAX_BULK_ITEMS = 200


class BulkItem(Input):
    id: uuid.UUID
    version: Annotated[int, Field(ge=1, description="The version the change is based on.")]


BulkItems = Annotated[list[BulkItem], Field(min_length=1, max_length=MAX_BULK_ITEMS)]


def _distinct_ids(items: list[BulkItem]) -> None:
    seen: set[uuid.UUID] = set()
    for item in items:
        if item.id in seen:
            raise ValueError(f"flag {item.id} is listed twice")
        seen.add(item.id)


class BulkTransitionIn(TransitionIn):
    """One move applied to many flags at once: all of them, or (on any problem) none."""

    items: BulkItems

    @model_validator(mode="after")
    def _each_flag_once(self) -> BulkTransitionIn:
        _distinct_ids(self.items)
        return self


class BulkOwnerIn(Input):
    items: BulkItems
    owner: OwnerIn

    @model_validator(mode="after")
    def _each_flag_once(self) -> BulkOwnerIn:
        _distinct_ids(self.items)
        return self


class BulkResult(BaseModel):
    items: list[FlagSummary]


class FlagList(BaseModel):
    items: list[FlagSummary]


class FilterOption(BaseModel):
    value: str = Field(description="What to pass as the filter's value.")
    label: str


class FilterOptions(BaseModel):
    """The values flags actually carry, for filter choices: departments, and services as
    ``order_code`` values (``system|code``)."""

    departments: list[FilterOption]
    services: list[FilterOption]
