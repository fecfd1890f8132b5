"""A medication order that names its drug by reference is judged on that Medication's code,
whether the caller read it (the in-EHR launch) or the EHR bundled it with the draft orders."""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.medicationrequest import MedicationRequest

import lowvalue
from tests.lowvalue.factories import condition, encounter, patient

AMOXICILLIN = {"coding": [{"system": lowvalue.SYSTEMS["atc"], "code": "J01CA04"}]}


def referencing(target: str) -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "id": "mr1",
        "status": "draft",
        "intent": "order",
        "subject": {"reference": "Patient/p1"},
        "authoredOn": "2026-05-01",
        "medicationReference": {"reference": target},
    }


def medication(id: str) -> dict[str, Any]:
    return {"resourceType": "Medication", "id": id, "code": AMOXICILLIN}


def antibiotic_rule_on(case: lowvalue.Case) -> lowvalue.Decision:
    [decision] = [d for d in lowvalue.evaluate(case) if d.rule_id == "antibiotics-viral-uri"]
    return decision


def test_an_order_naming_a_read_medication_is_judged_on_its_code() -> None:
    order = referencing("Medication/med-7")

    case = lowvalue.case_from_resources(
        patient=patient(age=40),
        orders=[order],
        encounter=encounter(),
        conditions=[condition("J06.9")],
        medications=[medication("other"), medication("med-7")],
    )

    [judged] = case.orders
    assert isinstance(judged, MedicationRequest)
    assert judged.medicationCodeableConcept is not None
    assert "medicationCodeableConcept" not in order  # the EHR's resource is left as sent
    # Its code matched: the rule now asks only for the antibiotic history it looks back on.
    assert antibiotic_rule_on(case).steps[0].result is lowvalue.StepResult.MATCHED


def test_a_medication_bundled_with_the_draft_orders_is_read_not_judged() -> None:
    case = lowvalue.case_from_resources(
        patient=patient(age=40),
        orders=[medication("med-7"), referencing("https://ehr.test/fhir/Medication/med-7")],
        encounter=encounter(),
        conditions=[condition("J06.9")],
    )

    assert [order.id for order in case.orders] == ["mr1"]
    assert case.notes == ()
    assert antibiotic_rule_on(case).steps[0].result is lowvalue.StepResult.MATCHED


def test_an_order_whose_medication_was_not_read_is_left_as_it_is() -> None:
    case = lowvalue.case_from_resources(
        patient=patient(age=40),
        orders=[referencing("Medication/not-read")],
        medications=[medication("med-7")],
    )

    [judged] = case.orders
    assert isinstance(judged, MedicationRequest)
    assert judged.medicationCodeableConcept is None
    assert antibiotic_rule_on(case).steps[0].result is lowvalue.StepResult.NOT_MATCHED
