"""Each clause kind checked against a case: true, false, or unknown with the history needed.

Diagnoses come from the encounter's and the problem list's Conditions (and any Conditions in
the history). Like the published measures marked "decidable from one encounter", an absent
diagnosis is believed absent: the problem list is the record of chronic conditions. Services
(prior tests, booked surgeries, earlier prescriptions) are history: their absence is only
believed when the case holds a search covering the whole window.

Nothing dated after the evaluation date is read: re-evaluating a 2016 order must not see a
diagnosis recorded in 2020.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.resource import Resource
from fhir.resources.R4B.servicerequest import ServiceRequest

from lowvalue.case import Case, Order, as_date
from lowvalue.catalog import Clause, DiagnosisClause, ServiceClause
from lowvalue.codes import CodeMatch, Coding
from lowvalue.history import HistoryRequest

__all__ = ["Verdict", "check_clause", "codings", "order_codings"]

# Statuses that mean "this did not happen" (R4 value sets for each resource's status).
_NOT_DONE = {"entered-in-error", "revoked", "not-done", "cancelled", "stopped"}
_NOT_TRUE = {"refuted", "entered-in-error"}


@dataclass(frozen=True, slots=True)
class Verdict:
    """``holds`` True, False, or None (unknown: ``needs`` says which searches decide it)."""

    holds: bool | None
    detail: str
    needs: tuple[HistoryRequest, ...] = ()
    match: CodeMatch | None = None


def codings(concept: Any) -> list[Coding]:
    """The system/code pairs of a CodeableConcept (R4B model), or none."""
    return [Coding(c.system, c.code) for c in (getattr(concept, "coding", None) or [])]


def order_codings(order: Order) -> list[Coding]:
    """A ServiceRequest's code; a MedicationRequest's medicationCodeableConcept, or the code of
    the contained Medication its medicationReference points to."""
    if isinstance(order, ServiceRequest):
        return codings(order.code)
    if order.medicationCodeableConcept is not None:
        return codings(order.medicationCodeableConcept)
    target = _reference(order.medicationReference).lstrip("#")
    for contained in order.contained or []:
        if contained.get_resource_type() == "Medication" and contained.id == target:
            return codings(getattr(contained, "code", None))
    return []


def _reference(reference: Any) -> str:
    text = getattr(reference, "reference", None)
    return text if isinstance(text, str) else ""


def _code_text(resource: Resource) -> Any:
    if resource.get_resource_type() == "MedicationRequest":
        return getattr(resource, "medicationCodeableConcept", None)
    return getattr(resource, "code", None)


def _status(resource: Resource) -> str | None:
    status = getattr(resource, "status", None)
    return status if isinstance(status, str) else None


def _start(period: Any) -> date | None:
    return None if period is None else as_date(period.start)


def _service_date(resource: Resource, param: str | None) -> date | None:
    """The date a history resource is searched by (``history.DATE_PARAMS``)."""
    kind = resource.get_resource_type()
    r: Any = resource
    if kind == "Procedure":
        return as_date(r.performedDateTime) or as_date(
            r.performedPeriod and r.performedPeriod.start
        )
    if kind == "Observation":
        return as_date(r.effectiveDateTime) or as_date(
            r.effectivePeriod and r.effectivePeriod.start
        )
    if kind == "ServiceRequest" and param == "occurrence":
        return as_date(r.occurrenceDateTime) or as_date(
            r.occurrencePeriod and r.occurrencePeriod.start
        )
    if kind in {"ServiceRequest", "MedicationRequest"}:
        return as_date(r.authoredOn)
    return None


def _condition_span(condition: Condition, case: Case, on: date) -> tuple[date, date] | None:
    """The days a condition was present, as far as the record says: from onset (or recorded
    date) to abatement, or to ``on`` while active. An undated one counts as present on ``on``
    when it is active or an encounter diagnosis of this encounter."""
    start = as_date(condition.onsetDateTime) or as_date(condition.recordedDate)
    if start is None and condition.onsetPeriod is not None:
        start = as_date(condition.onsetPeriod.start)
    status = codings(condition.clinicalStatus)
    active = not status or any(c.code in {"active", "recurrence", "relapse"} for c in status)
    this_encounter = (
        case.encounter is not None
        and case.encounter.id is not None
        and _reference(condition.encounter).rsplit("/", 1)[-1] == case.encounter.id
    )
    if start is None:
        return (on, on) if active or this_encounter else None
    if start > on:
        return None
    end = as_date(condition.abatementDateTime)
    return (start, on if active else end or start)


def _conditions(case: Case) -> Iterator[Condition]:
    seen: set[str] = set()
    for condition in (*case.conditions, *case.history):
        if not isinstance(condition, Condition):
            continue
        if condition.id is not None:
            if condition.id in seen:
                continue
            seen.add(condition.id)
        if not any(c.code in _NOT_TRUE for c in codings(condition.verificationStatus)):
            yield condition


def _check_diagnosis(clause: DiagnosisClause, case: Case, on: date) -> Verdict:
    hits: list[tuple[date, date, CodeMatch]] = []
    for condition in _conditions(case):
        found_span = _condition_span(condition, case, on)
        if found_span is None:
            continue
        found = clause.codes.match(codings(condition.code), found_span[0])
        if found is not None and found.in_force:
            hits.append((found_span[0], found_span[1], found))
    if clause.window is not None:
        low = on + timedelta(days=clause.window.from_days)
        high = on + timedelta(days=clause.window.to_days)
        hits = [hit for hit in hits if hit[0] <= high and low <= hit[1]]
    if not hits:
        span = (
            ""
            if clause.window is None
            else f" within {_days(clause.window.from_days, clause.window.to_days)}"
        )
        return Verdict(False, f"no {clause.codes.label} diagnosis{span}")
    first = min(hits, key=lambda hit: hit[0])
    seen = f"{first[2].describe()} from {first[0]}"
    if clause.first_within_days is None:
        return Verdict(True, seen, match=first[2])
    limit = on - timedelta(days=clause.first_within_days)
    if first[0] < limit:
        return Verdict(
            False,
            f"first {clause.codes.label} diagnosis {seen}, more than "
            f"{clause.first_within_days} days before {on}",
        )
    request = HistoryRequest("Condition", case.patient_id)
    if not case.covers(request):
        return Verdict(
            None,
            f"{seen}; whether an earlier one exists needs the condition history",
            needs=(request,),
        )
    return Verdict(
        True, f"first diagnosis {seen}, within {clause.first_within_days} days", match=first[2]
    )


def _window(clause: DiagnosisClause) -> str:
    assert clause.window is not None
    return _days(clause.window.from_days, clause.window.to_days)


def _days(low: int, high: int) -> str:
    if high <= 0:
        return f"{-low} days before" if high == 0 else f"{-high}-{-low} days before"
    return f"{high} days after" if low == 0 else f"{low}..{high} days around"


def _check_service(clause: ServiceClause, case: Case, on: date, order: Order) -> Verdict:
    low = on + timedelta(days=clause.window.from_days)
    high = on + timedelta(days=clause.window.to_days)
    requests = [
        HistoryRequest(kind, case.patient_id, _param(kind, clause), low, high)
        for kind in clause.resource_types
    ]
    for request in requests:
        for resource in case.history:
            if (
                resource.get_resource_type() != request.resource_type
                or _status(resource) in _NOT_DONE
            ):
                continue
            if (
                resource.get_resource_type() == order.get_resource_type()
                and resource.id == order.id
            ):
                continue  # the draft order itself is not its own history
            when = _service_date(resource, request.date_param)
            if when is None or not low <= when <= high:
                continue
            found = clause.codes.match(codings(_code_text(resource)), when)
            if found is not None and found.in_force:
                where = f"{request.resource_type}/{resource.id or '?'}"
                return Verdict(True, f"{where}: {found.describe()} on {when}", match=found)
    window = _days(clause.window.from_days, clause.window.to_days)
    missing = tuple(request for request in requests if not case.covers(request))
    if missing:
        return Verdict(
            None,
            f"no {clause.codes.label} in the history given; it does not cover "
            f"{low}..{high} ({window})",
            needs=missing,
        )
    return Verdict(False, f"no {clause.codes.label} {low}..{high} ({window})")


def _param(kind: str, clause: ServiceClause) -> str:
    if kind == "ServiceRequest":
        return "occurrence" if clause.window.to_days > 0 else "authored"
    return {"Procedure": "date", "Observation": "date", "MedicationRequest": "authoredon"}[kind]


def check_clause(clause: Clause, case: Case, on: date, order: Order) -> Verdict:
    if isinstance(clause, DiagnosisClause):
        return _check_diagnosis(clause, case, on)
    return _check_service(clause, case, on, order)
