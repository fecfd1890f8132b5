"""Synthetic FHIR R4 cases for the rule tests: plain functions with keyword overrides."""

from __future__ import annotations

from datetime import date
from typing import Any

from lowvalue import SYSTEMS, Case, HistoryRequest, case_from_resources

ON = date(2026, 5, 1)
HISTORY_TYPES = ("Procedure", "ServiceRequest", "Observation", "MedicationRequest", "Condition")


def concept(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": SYSTEMS[system], "code": code}]}


def patient(*, age: int = 70, sex: str = "male", on: date = ON) -> dict[str, Any]:
    born = date(on.year - age, 1, 1) if on.month > 1 else date(on.year - age - 1, 1, 1)
    return {"resourceType": "Patient", "id": "p1", "birthDate": born.isoformat(), "gender": sex}


def encounter(*, klass: str = "AMB", start: date = ON) -> dict[str, Any]:
    return {
        "resourceType": "Encounter",
        "id": "e1",
        "status": "in-progress",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": klass},
        "subject": {"reference": "Patient/p1"},
        "period": {"start": start.isoformat()},
    }


def service_request(
    system: str = "cpt", code: str = "72148", *, on: date | None = ON, id: str = "sr1", **extra: Any
) -> dict[str, Any]:
    resource = {
        "resourceType": "ServiceRequest",
        "id": id,
        "status": "draft",
        "intent": "order",
        "subject": {"reference": "Patient/p1"},
        "code": concept(system, code),
        **extra,
    }
    if on is not None:
        resource["authoredOn"] = on.isoformat()
    return resource


def medication_request(
    system: str = "atc", code: str = "J01CA04", *, on: date = ON, id: str = "mr1", **extra: Any
) -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "id": id,
        "status": "draft",
        "intent": "order",
        "subject": {"reference": "Patient/p1"},
        "authoredOn": on.isoformat(),
        "medicationCodeableConcept": concept(system, code),
        **extra,
    }


def condition(code: str, *, onset: date | None = ON, id: str | None = None, active: bool = True):
    resource: dict[str, Any] = {
        "resourceType": "Condition",
        "id": id or f"c-{code.replace('.', '')}-{onset}",
        "subject": {"reference": "Patient/p1"},
        "code": concept("icd10cm", code),
        "clinicalStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "code": "active" if active else "resolved",
                }
            ]
        },
    }
    if onset is not None:
        resource["onsetDateTime"] = onset.isoformat()
    return resource


def procedure(system: str, code: str, *, on: date, id: str = "proc1") -> dict[str, Any]:
    return {
        "resourceType": "Procedure",
        "id": id,
        "status": "completed",
        "subject": {"reference": "Patient/p1"},
        "code": concept(system, code),
        "performedDateTime": on.isoformat(),
    }


def all_history() -> tuple[HistoryRequest, ...]:
    """Searches that cover every date: the case holds the patient's whole history."""
    return tuple(HistoryRequest(kind, "p1") for kind in HISTORY_TYPES)


def make_case(
    order: dict[str, Any] | None = None,
    *,
    diagnoses: tuple[str, ...] = (),
    conditions: tuple[dict[str, Any], ...] = (),
    age: int = 70,
    sex: str = "male",
    klass: str = "AMB",
    history: tuple[dict[str, Any], ...] = (),
    complete_history: bool = True,
    with_encounter: bool = True,
) -> Case:
    """A case on ``ON``: ``diagnoses`` are active conditions dated that day."""
    return case_from_resources(
        patient=patient(age=age, sex=sex),
        orders=[order or service_request()],
        encounter=encounter(klass=klass) if with_encounter else None,
        conditions=[*(condition(code) for code in diagnoses), *conditions],
        history=history,
        searched=all_history() if complete_history else (),
    )
