"""A medication order that names its drug by reference is judged on the Medication's code."""

from __future__ import annotations

from fhir.resources.R4B.medication import Medication
from fhir.resources.R4B.medicationrequest import MedicationRequest

import lowvalue
from app.clinician.markers import with_medication_code
from tests.lowvalue.factories import condition, encounter, patient

AMOXICILLIN = {"coding": [{"system": lowvalue.SYSTEMS["atc"], "code": "J01CA04"}]}


def referencing(target: str) -> MedicationRequest:
    return MedicationRequest.model_validate(
        {
            "resourceType": "MedicationRequest",
            "id": "mr1",
            "status": "draft",
            "intent": "order",
            "subject": {"reference": "Patient/p1"},
            "authoredOn": "2026-05-01",
            "medicationReference": {"reference": target},
        }
    )


def medication(id: str) -> Medication:
    return Medication.model_validate({"resourceType": "Medication", "id": id, "code": AMOXICILLIN})


def test_an_order_naming_a_read_medication_is_judged_on_its_code() -> None:
    order = referencing("Medication/med-7")

    judged = with_medication_code(order, [medication("other"), medication("med-7")])

    assert judged.medicationCodeableConcept is not None
    assert order.medicationCodeableConcept is None  # the EHR's resource is left as sent
    case = lowvalue.case_from_resources(
        patient=patient(age=40),
        orders=[judged],
        encounter=encounter(),
        conditions=[condition("J06.9")],
        searched=(),
    )
    [antibiotic] = [d for d in lowvalue.evaluate(case) if d.rule_id == "antibiotics-viral-uri"]
    # Its code matched: the rule now asks only for the antibiotic history it looks back on.
    assert antibiotic.steps[0].result is lowvalue.StepResult.MATCHED


def test_an_order_whose_medication_was_not_read_is_left_as_it_is() -> None:
    order = referencing("Medication/not-read")

    assert with_medication_code(order, [medication("med-7")]) is order
