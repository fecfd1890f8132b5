"""What ValueLoop reads of an EHR order (ServiceRequest or MedicationRequest), and how it
shows one to a person.

:class:`OrderView` declares only the elements ValueLoop uses. Submitting a flag validates the
EHR's JSON straight into it (``FhirClient.read_as``): the full R4B model cost about 1 ms of CPU
per order, most of a flag's budget (bench/README.md). The order list of the in-EHR page,
which already holds R4B models, reads them into the same view, so one function summarises
every order.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Annotated, Any, Protocol

from fhir.resources.R4B.resource import Resource
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field


class _Coding(Protocol):
    @property
    def system(self) -> Any: ...
    @property
    def code(self) -> Any: ...
    @property
    def display(self) -> Any: ...


class Concept(Protocol):
    """A CodeableConcept: an R4B model or :class:`ConceptView` alike."""

    @property
    def coding(self) -> Sequence[_Coding] | None: ...
    @property
    def text(self) -> Any: ...


def concept_text(concept: Concept | None) -> str | None:
    """What a person should read for a code: real EHRs put it in coding.display or text."""
    if concept is None:
        return None
    for coding in concept.coding or []:
        if coding.display:
            return str(coding.display)
    if concept.text:
        return str(concept.text)
    for coding in concept.coding or []:
        if coding.code:
            return str(coding.code)
    return None


def codings(concept: Concept | None) -> list[tuple[str | None, str | None]]:
    return [
        (str(c.system) if c.system else None, str(c.code) if c.code else None)
        for c in (concept.coding or [] if concept else [])
    ]


_YEAR_OR_MONTH = re.compile(r"\d{4}(-\d{2})?")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _fhir_date_time(value: object) -> object:
    """FHIR dateTime (R4 datatypes.html#dateTime) as an aware datetime, or None.

    A day alone is read as its start (UTC); a year or a month alone says too little to place
    an order in time and is read as unknown.
    """
    if isinstance(value, datetime) or value is None:
        return value
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=UTC)
    if isinstance(value, str) and _YEAR_OR_MONTH.fullmatch(value):
        return None
    if isinstance(value, str) and _DAY.fullmatch(value):
        return datetime.combine(date.fromisoformat(value), time(), tzinfo=UTC)
    return value  # a full dateTime, for pydantic to parse


def _zoned(value: datetime | None) -> datetime | None:
    # FHIR: "If hours and minutes are specified, a timezone offset SHALL be populated".
    if value is not None and value.tzinfo is None:
        raise ValueError("a dateTime with a time must have a timezone offset")
    return value


class _View(BaseModel):
    # from_attributes: R4B models (attribute names = JSON names) validate into views too.
    model_config = ConfigDict(extra="ignore", frozen=True, from_attributes=True)


class CodingView(_View):
    system: str | None = None
    code: str | None = None
    display: str | None = None


class ConceptView(_View):
    coding: list[CodingView] | None = None
    text: str | None = None


class ReferenceView(_View):
    reference: str | None = None
    display: str | None = None


class OrderView(_View):
    """The elements of a ServiceRequest or MedicationRequest that ValueLoop reads."""

    id: str
    status: str
    intent: str | None = None
    code: ConceptView | None = None
    medication_concept: ConceptView | None = Field(None, alias="medicationCodeableConcept")
    medication_reference: ReferenceView | None = Field(None, alias="medicationReference")
    category: list[ConceptView] | None = None
    authored_on: Annotated[
        datetime | None, BeforeValidator(_fhir_date_time), AfterValidator(_zoned)
    ] = Field(None, alias="authoredOn")
    requester: ReferenceView | None = None
    subject: ReferenceView | None = None
    encounter: ReferenceView | None = None

    @classmethod
    def of(cls, resource: Resource) -> OrderView:
        """The view of an order already parsed into its R4B model."""
        return cls.model_validate(resource, from_attributes=True)

    @property
    def concept(self) -> ConceptView | None:
        return self.code if self.code is not None else self.medication_concept


@dataclass(frozen=True)
class OrderSummary:
    resource_type: str
    fhir_id: str
    display: str
    status: str
    intent: str | None
    authored_on: datetime | None
    requester: str | None
    category: str | None
    code_system: str | None
    code: str | None


def summarize_order(resource_type: str, order: OrderView) -> OrderSummary:
    concept = order.concept
    display = concept_text(concept)
    if display is None and order.medication_reference is not None:
        display = order.medication_reference.display or order.medication_reference.reference
    system, code = next(iter(codings(concept)), (None, None))
    return OrderSummary(
        resource_type=resource_type,
        fhir_id=order.id,
        display=display or "Unnamed order",
        status=order.status,
        intent=order.intent,
        authored_on=order.authored_on,
        requester=order.requester.display if order.requester else None,
        category=concept_text(order.category[0]) if order.category else None,
        code_system=system,
        code=code,
    )
