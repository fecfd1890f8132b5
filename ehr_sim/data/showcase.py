"""A patient made for the CDS Hooks demo, added after the seeded ones when asked for
(``SimSettings.showcase_patient``, ``valueloop ehr-sim --showcase-patient``).

Robin Ashgrove417, 46, is in clinic today (the encounter is in progress) with low back pain
that started five days ago: their first, with no red flag (no cancer, injury, fever or
neurological sign) anywhere in the record. A lumbar MRI ordered now is the textbook low-value
order (imaging within six weeks of a first low back pain diagnosis), and so is a vitamin D
level (no risk condition), while a physical therapy referral is not. The seeded patients vary
with the seed; this one is always the same, so the demo can name them.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from ehr_sim.data import codes as c
from ehr_sim.data.generator import fhir_instant
from ehr_sim.store import Resource

PATIENT_ID = "pat-showcase-back-pain"
ENCOUNTER_ID = "enc-showcase-back-pain"
NAME = "Robin Ashgrove417"
_CLINIC = "loc-primary-care-north"


def _clinician(resources: list[Resource]) -> dict[str, str]:
    """A doctor of the clinic (the seeded health system staffs it), as the attender."""
    for role in resources:
        locations = [place.get("reference") for place in role.get("location", [])]
        if role["resourceType"] == "PractitionerRole" and f"Location/{_CLINIC}" in locations:
            return dict(role["practitioner"])
    return {"reference": "Practitioner/prac-00001"}


def back_pain_patient(resources: list[Resource], now: datetime) -> list[Resource]:
    """The showcase patient's Patient, today's Encounter and its diagnosis, dated from ``now``."""
    clinician = _clinician(resources)
    born = date(now.year - 46, 1, 1) + timedelta(days=40)
    start = now - timedelta(minutes=25)
    onset = now - timedelta(days=5)
    subject = {"reference": f"Patient/{PATIENT_ID}", "display": NAME}
    diagnosis_codes = [c.LOW_BACK_PAIN.icd10.coding()]
    if c.LOW_BACK_PAIN.snomed is not None:
        diagnosis_codes.append(c.LOW_BACK_PAIN.snomed.coding())
    patient: Resource = {
        "resourceType": "Patient",
        "id": PATIENT_ID,
        "identifier": [
            {
                "use": "usual",
                "type": {
                    "coding": [{"system": c.IDENTIFIER_TYPE, "code": "MR"}],
                    "text": "MRN",
                },
                "system": c.MRN_SYSTEM,
                "value": "8999001",
            }
        ],
        "active": True,
        "name": [{"use": "official", "family": "Ashgrove417", "given": ["Robin"]}],
        "gender": "female",
        "birthDate": born.isoformat(),
        "generalPractitioner": [clinician],
    }
    encounter: Resource = {
        "resourceType": "Encounter",
        "id": ENCOUNTER_ID,
        "status": "in-progress",
        "class": c.AMBULATORY.coding(),
        "type": [_type(c.OFFICE_VISIT)],
        "subject": subject,
        "participant": [{"individual": clinician}],
        "period": {"start": fhir_instant(start)},
        "location": [{"location": {"reference": f"Location/{_CLINIC}"}, "status": "active"}],
        "diagnosis": [{"condition": {"reference": "Condition/cond-showcase-back-pain"}, "rank": 1}],
        "reasonReference": [{"reference": "Condition/cond-showcase-back-pain"}],
    }
    condition: Resource = {
        "resourceType": "Condition",
        "id": "cond-showcase-back-pain",
        "clinicalStatus": _status(c.CONDITION_CLINICAL, "active"),
        "verificationStatus": _status(c.CONDITION_VERIFICATION, "confirmed"),
        "category": [_status(c.CONDITION_CATEGORY, "encounter-diagnosis")],
        "code": {"coding": diagnosis_codes, "text": c.LOW_BACK_PAIN.icd10.display},
        "subject": subject,
        "encounter": {"reference": f"Encounter/{ENCOUNTER_ID}"},
        "onsetDateTime": fhir_instant(onset),
        "recordedDate": fhir_instant(start + timedelta(minutes=10)),
    }
    return [patient, encounter, condition]


def _type(visit: c.VisitType) -> dict[str, Any]:
    concept: dict[str, Any] = {"text": visit.text}
    if visit.code is not None:
        concept["coding"] = [visit.code.coding()]
    return concept


def _status(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}
