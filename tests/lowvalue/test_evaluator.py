"""The evaluator's behaviour beyond single rules: dates, code drift, settings, history, variants."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from fhir.resources.R4B.resource import Resource

from lowvalue import (
    Case,
    CaseError,
    Decision,
    HistoryRequest,
    Outcome,
    StepResult,
    VariantError,
    case_from_resources,
    evaluate,
    evaluate_with_history,
    render_text,
)
from lowvalue.case import parse_resource as parse
from tests.lowvalue.factories import (
    ON,
    condition,
    encounter,
    make_case,
    patient,
    procedure,
    service_request,
)


def decision_for(rule_id: str, case: Case, **kwargs: Any) -> Decision:
    (found,) = [d for d in evaluate(case, **kwargs) if d.rule_id == rule_id]
    return found


def test_a_back_pain_mri_in_the_first_six_weeks_is_low_value():
    case = make_case(
        service_request("cpt", "72148"), conditions=(condition("M54.50", onset=ON - timedelta(30)),)
    )

    found = decision_for("low-back-pain-imaging", case)

    assert found.outcome is Outcome.LOW_VALUE
    assert [s.clause for s in found.steps if s.result is StepResult.MATCHED] == [
        "order",
        "early-low-back-pain",
    ]


def test_a_back_pain_mri_after_six_weeks_of_pain_is_not_low_value():
    case = make_case(
        service_request("cpt", "72148"), conditions=(condition("M54.50", onset=ON - timedelta(60)),)
    )

    assert decision_for("low-back-pain-imaging", case).outcome is Outcome.NOT_LOW_VALUE


def test_a_retired_chest_xray_code_is_recognised_on_an_order_from_its_time():
    old = date(2016, 3, 1)
    surgery = service_request("cpt", "66984", id="s", on=old, occurrenceDateTime="2016-03-10")
    case = case_from_resources(
        patient=patient(age=60, on=old),
        orders=[service_request("cpt", "71020", on=old)],
        encounter=encounter(start=old),
        history=[surgery],
        searched=[HistoryRequest("ServiceRequest", "p1"), HistoryRequest("Procedure", "p1")],
    )

    found = decision_for("preop-chest-xray", case)

    assert found.outcome is Outcome.LOW_VALUE
    assert "71020" in found.steps[0].detail


def test_a_retired_chest_xray_code_on_a_recent_order_is_not_recognised():
    case = make_case(service_request("cpt", "71020"))

    found = decision_for("preop-chest-xray", case)

    assert found.outcome is Outcome.NOT_LOW_VALUE
    assert "not in force on 2026-05-01" in found.steps[0].detail


def test_a_retired_back_pain_code_counts_when_it_was_recorded_before_its_retirement():
    case = make_case(
        service_request("cpt", "62311", on=date(2016, 6, 1)),
        conditions=(condition("M54.5", onset=date(2016, 5, 1)),),
    )

    assert decision_for("spinal-injection-low-back-pain", case).outcome is Outcome.LOW_VALUE


def test_the_new_headache_code_is_not_read_before_it_existed():
    order = service_request("cpt", "70450", on=date(2019, 6, 1))
    case = make_case(order, conditions=(condition("R51.9", onset=date(2019, 6, 1)),))

    assert decision_for("headache-head-imaging", case).outcome is Outcome.NOT_LOW_VALUE


def test_age_is_counted_on_the_order_date_not_today():
    # 74 when the PSA was ordered in 2020, 80 today: the 2020 order was not low-value.
    then = date(2020, 5, 1)
    case = case_from_resources(
        patient={
            "resourceType": "Patient",
            "id": "p1",
            "birthDate": "1945-06-01",
            "gender": "male",
        },
        orders=[service_request("cpt", "84153", on=then)],
    )

    found = decision_for("psa-screening-older-men", case)

    assert found.outcome is Outcome.NOT_LOW_VALUE
    assert found.evaluated_on == then
    assert "74 on 2020-05-01" in found.steps[2].detail


def test_without_authored_on_the_encounter_start_is_the_evaluation_date():
    case = case_from_resources(
        patient=patient(age=80),
        orders=[service_request("cpt", "84153", on=None)],
        encounter=encounter(start=date(2024, 2, 3)),
    )

    assert decision_for("psa-screening-older-men", case).evaluated_on == date(2024, 2, 3)


def test_an_order_with_no_date_at_all_is_refused_rather_than_dated_today():
    case = case_from_resources(patient=patient(), orders=[service_request(on=None)])

    with pytest.raises(CaseError, match="no date to evaluate it on"):
        evaluate(case)


def test_a_diagnosis_recorded_after_the_order_is_not_read():
    case = make_case(
        service_request("cpt", "83090"), conditions=(condition("D51.0", onset=ON + timedelta(5)),)
    )

    assert decision_for("homocysteine-testing", case).outcome is Outcome.LOW_VALUE


@pytest.mark.parametrize("klass", ["EMER", "IMP", "ACUTE"])
def test_a_preop_test_in_the_ed_or_hospital_is_not_low_value(klass):
    surgery = service_request("cpt", "66984", id="s", occurrenceDateTime="2026-05-10")
    case = make_case(service_request("cpt", "94010"), klass=klass, history=(surgery,))

    found = decision_for("preop-spirometry", case)

    assert found.outcome is Outcome.NOT_LOW_VALUE
    assert found.exempted_by == "setting"


def test_a_preop_test_without_surgery_history_asks_for_it():
    case = make_case(service_request("cpt", "71046"), complete_history=False)

    found = decision_for("preop-chest-xray", case)

    assert found.outcome is Outcome.COULD_NOT_DECIDE
    assert [request.query for request in found.needs] == [
        "ServiceRequest?patient=p1&occurrence=ge2026-05-01&occurrence=le2026-05-31",
        "Procedure?patient=p1&date=ge2026-05-01&date=le2026-05-31",
    ]


def test_a_repeat_dxa_without_history_asks_for_two_years_of_it():
    case = make_case(service_request("cpt", "77080"), sex="female", complete_history=False)

    found = decision_for("dxa-repeat-within-two-years", case)

    assert found.outcome is Outcome.COULD_NOT_DECIDE
    assert [request.query for request in found.needs] == [
        "Procedure?patient=p1&date=ge2024-05-01&date=le2026-04-30",
        "ServiceRequest?patient=p1&authored=ge2024-05-01&authored=le2026-04-30",
    ]


def test_a_prior_dxa_found_in_partial_history_decides_without_more():
    prior = procedure("cpt", "77080", on=ON - timedelta(100))
    case = make_case(
        service_request("cpt", "77080"), sex="female", history=(prior,), complete_history=False
    )

    assert decision_for("dxa-repeat-within-two-years", case).outcome is Outcome.LOW_VALUE


class FakeHistory:
    """An in-memory HistorySource that records what it was asked."""

    def __init__(self, resources: list[dict[str, Any]]) -> None:
        self.resources = resources
        self.asked: list[str] = []

    async def search(self, request: HistoryRequest) -> list[Resource]:
        self.asked.append(request.query)
        kind = request.resource_type
        return [parse(r) for r in self.resources if r["resourceType"] == kind]


async def test_evaluate_with_history_fetches_what_is_missing_and_decides():
    source = FakeHistory([procedure("cpt", "77080", on=ON - timedelta(300))])
    case = make_case(service_request("cpt", "77080"), sex="female", complete_history=False)

    decisions, grown = await evaluate_with_history(case, source)

    (dxa,) = [d for d in decisions if d.rule_id == "dxa-repeat-within-two-years"]
    assert dxa.outcome is Outcome.LOW_VALUE
    assert "Procedure?patient=p1&date=ge2024-05-01&date=le2026-04-30" in source.asked
    assert len(grown.history) == 1


async def test_evaluate_with_history_decides_not_low_value_when_history_is_empty():
    source = FakeHistory([])
    case = make_case(service_request("cpt", "71046"), complete_history=False)

    decisions, _ = await evaluate_with_history(case, source)

    (xray,) = [d for d in decisions if d.rule_id == "preop-chest-xray"]
    assert xray.outcome is Outcome.NOT_LOW_VALUE
    assert len(source.asked) == 2


class Unreachable(Exception):
    pass


class FailingHistory:
    async def search(self, request: HistoryRequest) -> list[Resource]:
        raise Unreachable(request.query)


async def test_a_history_search_that_fails_raises_its_own_error_and_nothing_is_judged():
    case = make_case(service_request("cpt", "71046"), complete_history=False)

    with pytest.raises(Unreachable):
        await evaluate_with_history(case, FailingHistory())


def test_a_man_of_72_is_low_value_only_under_the_sensitive_psa_variant():
    case = make_case(service_request("cpt", "84153"), age=72)

    specific = decision_for("psa-screening-older-men", case)
    sensitive = decision_for(
        "psa-screening-older-men", case, variants={"psa-screening-older-men": "sensitive"}
    )

    assert (specific.outcome, specific.variant) == (Outcome.NOT_LOW_VALUE, "specific")
    assert (sensitive.outcome, sensitive.variant) == (Outcome.LOW_VALUE, "sensitive")


def test_an_unknown_variant_is_refused():
    with pytest.raises(VariantError, match="no-such-rule"):
        evaluate(make_case(), variants={"no-such-rule": "sensitive"})


def test_a_missing_birth_date_leaves_an_age_rule_undecided_without_a_search():
    case = case_from_resources(
        patient={"resourceType": "Patient", "id": "p1", "gender": "male"},
        orders=[service_request("cpt", "84153")],
    )

    found = decision_for("psa-screening-older-men", case)

    assert found.outcome is Outcome.COULD_NOT_DECIDE
    assert found.needs == ()


def test_the_trace_names_the_exemption_that_applied_and_those_that_did_not():
    case = make_case(service_request("cpt", "70450"), diagnoses=("G43.909", "G40.909"))

    found = decision_for("headache-head-imaging", case)
    text = render_text(found)

    assert found.exempted_by == "seizure"
    assert "unless seizure: applied" in text
    assert "unless cancer: did not apply" in text


def test_a_decision_on_an_unverified_code_says_so():
    case = make_case(service_request("cpt", "95816"), diagnoses=("R51.9",))

    assert decision_for("headache-eeg", case).rests_on_unverified_code
