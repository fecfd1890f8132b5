"""FHIR R4 JSON for mock-transport tests: plain dicts, keyword overrides, no randomness."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import httpx

BASE = "https://ehr.example/fhir/R4"
TOKEN = "tok-3f9a7c1e-secret"
FHIR_JSON = "application/fhir+json"

Json = dict[str, Any]
Handler = Callable[[httpx.Request], httpx.Response]


def fhir_response(
    body: Json | None, status: int = 200, headers: dict[str, str] | None = None
) -> httpx.Response:
    return httpx.Response(status, json=body, headers={"Content-Type": FHIR_JSON, **(headers or {})})


def outcome(diagnostics: str, *, severity: str = "error", code: str = "processing") -> Json:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": severity, "code": code, "diagnostics": diagnostics}],
    }


def patient(id: str = "pat-1", **fields: Any) -> Json:
    return {
        "resourceType": "Patient",
        "id": id,
        "name": [{"family": "Testperson", "given": ["Ada"]}],
        "gender": "female",
        "birthDate": "1950-02-03",
        **fields,
    }


def encounter(id: str = "enc-1", *, patient_id: str = "pat-1", **fields: Any) -> Json:
    return {
        "resourceType": "Encounter",
        "id": id,
        "status": "in-progress",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
        "subject": {"reference": f"Patient/{patient_id}"},
        "period": {"start": "2025-03-10T09:00:00Z"},
        **fields,
    }


def medication_request(
    id: str,
    *,
    patient_id: str = "pat-1",
    encounter_id: str | None = "enc-1",
    status: str = "active",
    **fields: Any,
) -> Json:
    resource: Json = {
        "resourceType": "MedicationRequest",
        "id": id,
        "status": status,
        "intent": "order",
        "medicationCodeableConcept": {"text": "amoxicillin 500 mg capsule"},
        "subject": {"reference": f"Patient/{patient_id}"},
        "authoredOn": "2025-03-10T09:20:00Z",
    }
    if encounter_id is not None:
        resource["encounter"] = {"reference": f"Encounter/{encounter_id}"}
    return {**resource, **fields}


def service_request(
    id: str, *, patient_id: str = "pat-1", encounter_id: str | None = "enc-1", **fields: Any
) -> Json:
    resource: Json = {
        "resourceType": "ServiceRequest",
        "id": id,
        "status": "active",
        "intent": "order",
        "code": {"text": "MRI lumbar spine"},
        "subject": {"reference": f"Patient/{patient_id}"},
        "authoredOn": "2025-03-10T09:25:00Z",
    }
    if encounter_id is not None:
        resource["encounter"] = {"reference": f"Encounter/{encounter_id}"}
    return {**resource, **fields}


def condition(
    id: str,
    *,
    patient_id: str = "pat-1",
    encounter_id: str | None = "enc-1",
    category: str = "encounter-diagnosis",
    **fields: Any,
) -> Json:
    resource: Json = {
        "resourceType": "Condition",
        "id": id,
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/condition-category",
                        "code": category,
                    }
                ]
            }
        ],
        "code": {"text": "Low back pain"},
        "subject": {"reference": f"Patient/{patient_id}"},
        "recordedDate": "2025-03-10T09:10:00Z",
    }
    if encounter_id is not None:
        resource["encounter"] = {"reference": f"Encounter/{encounter_id}"}
    return {**resource, **fields}


def bundle(
    resources: Iterable[Json] = (),
    *,
    next_url: str | None = None,
    outcomes: Iterable[Json] = (),
    total: int | None = None,
) -> Json:
    entries: list[Json] = [
        {
            "fullUrl": f"{BASE}/{r['resourceType']}/{r['id']}",
            "resource": r,
            "search": {"mode": "match"},
        }
        for r in resources
    ]
    entries += [{"resource": o, "search": {"mode": "outcome"}} for o in outcomes]
    body: Json = {"resourceType": "Bundle", "type": "searchset", "entry": entries}
    if total is not None:
        body["total"] = total
    if next_url is not None:
        body["link"] = [{"relation": "next", "url": next_url}]
    return body
