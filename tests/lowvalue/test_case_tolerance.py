"""What real EHRs send that a strict R4 reader would refuse: elements R4 does not define, and
draft orders of types no rule reads. Both are read around, and said in ``Case.notes``."""

from __future__ import annotations

import pytest

from lowvalue import Case, CaseError, Outcome, case_from_resources, evaluate
from tests.lowvalue.factories import all_history, encounter, patient, service_request


def test_an_element_r4_does_not_define_is_left_out_and_named_without_its_value() -> None:
    order = service_request("cpt", "82306", legacyNote={"text": "Synthetic Jane Doe"})

    case = case_from_resources(patient=patient(), orders=[order], encounter=encounter())

    assert case.orders[0].id == "sr1"
    [note] = case.notes
    assert "draft order 1" in note
    assert "legacyNote" in note
    assert "Jane" not in note


def test_a_left_out_element_does_not_change_the_decision() -> None:
    plain = case_from_resources(
        patient=patient(), orders=[service_request("cpt", "82306")], searched=all_history()
    )
    with_extra = case_from_resources(
        patient=patient(),
        orders=[service_request("cpt", "82306", legacyNote={"text": "x"})],
        searched=all_history(),
    )

    def outcomes(case: Case) -> list[tuple[str, Outcome]]:
        return [(d.rule_id, d.outcome) for d in evaluate(case)]

    assert outcomes(plain) == outcomes(with_extra)
    assert ("vitamin-d-testing", Outcome.LOW_VALUE) in outcomes(with_extra)


def test_a_draft_order_of_a_type_no_rule_reads_is_left_unjudged() -> None:
    diet = {
        "resourceType": "NutritionOrder",
        "id": "diet-1",
        "status": "draft",
        "intent": "order",
        "patient": {"reference": "Patient/p1"},
        "dateTime": "2026-05-01",
    }

    case = case_from_resources(patient=patient(), orders=[diet, service_request()])

    assert [order.id for order in case.orders] == ["sr1"]
    assert any("NutritionOrder" in note and "not judged" in note for note in case.notes)


def test_a_missing_required_element_is_still_refused_by_name() -> None:
    order = service_request()
    del order["status"]

    with pytest.raises(CaseError, match=r"draft order 1 is not valid FHIR R4: status"):
        case_from_resources(patient=patient(), orders=[order])
