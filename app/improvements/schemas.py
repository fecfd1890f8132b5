"""What the improvements API takes and returns (``/api/v1/improvements``)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, Field, model_validator

from app.flags.schemas import FlagSummary, Input, Message
from app.improvements.catalog import ImprovementStatus, Kind
from app.improvements.models import TICKET_MAX_LENGTH, TITLE_MAX_LENGTH

MAX_TARGETS = 50
MAX_LINKED_AT_ONCE = 500

Title = Annotated[str, Field(min_length=3, max_length=TITLE_MAX_LENGTH)]
RuleId = Annotated[str, Field(min_length=1, max_length=100)]


class TargetIn(Input):
    """An order code the improvement aims at, as a FHIR Coding's system and code."""

    system: Annotated[str, Field(min_length=1, max_length=500)]
    code: Annotated[str, Field(min_length=1, max_length=100)]


def _distinct_owners(owners: list[uuid.UUID]) -> None:
    if owners and (len(owners) != 2 or owners[0] == owners[1]):
        raise ValueError(
            "'owners' is the dyad: two different staff ids, the clinical lead first and the "
            "operational lead second (or leave it out while the improvement is proposed)"
        )


class ImprovementIn(Input):
    title: Title
    kind: Kind
    targets: list[TargetIn] = Field(default_factory=list, max_length=MAX_TARGETS)
    rules: list[RuleId] = Field(
        default_factory=list,
        max_length=MAX_TARGETS,
        description="Low-value rule ids from GET /cds-services/catalog.",
    )
    owners: list[uuid.UUID] = Field(
        default_factory=list,
        max_length=2,
        description="[clinical lead, operational lead]: staff ids; required from 'approved' on.",
    )
    notes: Message | None = None
    flag_ids: list[uuid.UUID] = Field(
        default_factory=list,
        max_length=MAX_LINKED_AT_ONCE,
        description="Flags to link at once (the flag it was started from and its siblings).",
    )
    organization: Annotated[str, Field(min_length=1, max_length=20)] | None = Field(
        default=None,
        description="For system-level staff: whose work it is (default: the organization of "
        "the first flag, else 'main'). Everyone else's work is their own organization's.",
    )

    @model_validator(mode="after")
    def _aims_at_something(self) -> ImprovementIn:
        if not self.targets and not self.rules:
            raise ValueError(
                "an improvement aims at order codes ('targets') or low-value rules ('rules'): "
                "give at least one, so its effect can be measured"
            )
        _distinct_owners(self.owners)
        return self


class ImprovementPatch(Input):
    """Change details; a field left out stays as it is, and ``null`` clears notes or the
    ticket reference."""

    title: Title | None = None
    notes: Message | None = Field(default=None, description="null clears the notes.")
    owners: list[uuid.UUID] | None = Field(default=None, max_length=2)
    ticket_reference: Annotated[str, Field(min_length=1, max_length=TICKET_MAX_LENGTH)] | None = (
        Field(
            default=None,
            description="The informatics team's ticket for the change request; null clears it.",
        )
    )

    @model_validator(mode="after")
    def _owners_are_a_dyad(self) -> ImprovementPatch:
        for required in ("title", "owners"):
            if required in self.model_fields_set and getattr(self, required) is None:
                raise ValueError(f"'{required}' cannot be cleared; give one or leave it out")
        if self.owners is not None:
            if not self.owners:
                raise ValueError("'owners' cannot be emptied; name the dyad or leave it out")
            _distinct_owners(self.owners)
        return self


class LinkIn(Input):
    flag_ids: list[uuid.UUID] = Field(min_length=1, max_length=MAX_LINKED_AT_ONCE)
    shareable_notes: list[uuid.UUID] = Field(
        default_factory=list,
        max_length=MAX_LINKED_AT_ONCE,
        description="Flags (among flag_ids) whose reporter note may be quoted in the change "
        "request to informatics; each is checked for patient and clinician data first.",
    )

    @model_validator(mode="after")
    def _shareable_among_linked(self) -> LinkIn:
        if not set(self.shareable_notes) <= set(self.flag_ids):
            raise ValueError("'shareable_notes' names flags that are not in 'flag_ids'")
        return self


class ImprovementTransitionIn(Input):
    to: ImprovementStatus
    go_live: date | None = Field(default=None, description="Required with 'live'.")
    reply: Message | None = Field(
        default=None,
        description="Required with 'live': what changed, sent to every linked reporter.",
    )
    reason: Message | None = Field(default=None, description="Required with 'declined'.")


class Target(BaseModel):
    system: str
    code: str


class Person(BaseModel):
    id: uuid.UUID
    name: str


class Owners(BaseModel):
    clinical_lead: Person
    operational_lead: Person


class ImprovementSummary(BaseModel):
    id: uuid.UUID
    organization_id: uuid.UUID
    created_at: datetime
    updated_at: datetime
    version: int
    title: str
    kind: Kind
    status: ImprovementStatus
    targets: list[Target]
    rules: list[str]
    owners: Owners | None
    go_live: date | None
    ticket_reference: str | None
    requested_at: datetime | None
    flag_count: int
    cost_at_stake: Decimal = Field(
        description="The estimated cost of the linked flags' orders, in USD (flags without a "
        "price count nothing)."
    )


class ImprovementList(BaseModel):
    items: list[ImprovementSummary]


class Count(BaseModel):
    value: str
    count: int


class Evidence(BaseModel):
    """What the linked flags say, without patient data: the change request's body."""

    flag_count: int
    cost_at_stake: Decimal
    reasons: list[Count]
    drivers: list[Count]
    departments: list[Count]
    example_notes: list[str] = Field(
        description="Reporter notes the team marked shareable when linking (checked first)."
    )


class ImprovementEvent(BaseModel):
    at: datetime
    kind: str
    label: str
    actor_name: str
    actor_role: str
    from_status: ImprovementStatus | None
    to_status: ImprovementStatus | None
    body: str | None
    details: dict[str, Any] | None


class ImprovementDetail(ImprovementSummary):
    notes: str | None
    declined_reason: str | None
    evidence: Evidence
    flags: list[FlagSummary]
    timeline: list[ImprovementEvent]


class WindowOut(BaseModel):
    from_: date = Field(alias="from")
    to: date
    days: int
    flags: int

    model_config = {"populate_by_name": True}


class RuleHitWindow(BaseModel):
    evaluated: int
    hits: int
    per_1000: float | None


class RuleHits(BaseModel):
    """Rule hits per 1,000 evaluated orders, from the CDS service's daily counts."""

    before: RuleHitWindow
    after: RuleHitWindow
    rate_ratio: float | None
    ci95: list[float] | None
    enough_data: bool


class WeekPoint(BaseModel):
    week: date
    flags: int


class EffectOut(BaseModel):
    go_live: date
    before: WindowOut
    after: WindowOut
    rate_ratio: float | None
    ci95: list[float] | None
    enough_data: bool
    min_events: int = Field(description="Events needed in each window for a ratio.")
    min_after_days: int = Field(description="Days after go-live needed for a ratio.")
    annual_cost_at_stake: Decimal = Field(
        description="The estimated cost of a year of the flagged orders on the targets at the "
        "rate before go-live (the before window's cost x 365 / its days), in USD: a floor, as "
        "only flagged orders with a known price count."
    )
    rule_hits: RuleHits | None = Field(
        description="Null when the CDS service has not evaluated orders of the targets."
    )
    weekly: list[WeekPoint] = Field(description="Flags per week, for the run chart.")
    median_before: float | None = Field(description="The median weekly flags before go-live.")


class Label(BaseModel):
    value: str
    label: str


class StatusChoice(Label):
    allowed_transitions: list[str]


class RuleChoice(BaseModel):
    id: str
    title: str


class ImprovementCatalog(BaseModel):
    kinds: list[Label]
    statuses: list[StatusChoice]
    rules: list[RuleChoice]
