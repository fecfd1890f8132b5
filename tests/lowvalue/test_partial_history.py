"""History that comes back in part, or not at all for one search: what was seen counts, what
was not seen proves nothing, and the other searches and rules still count."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fhir.resources.R4B.resource import Resource

from lowvalue import (
    HistoryRequest,
    IncompleteHistory,
    Outcome,
    case_from_resources,
    default_catalog,
    evaluate_with_history,
)
from lowvalue.case import parse_resource
from tests.lowvalue.factories import (
    ON,
    condition,
    encounter,
    make_case,
    medication_request,
    patient,
    procedure,
    service_request,
)

PRIOR_DXA = procedure("cpt", "77080", on=ON - timedelta(days=300))


class CutShort:
    """Every search answers with ``found`` and says it could not read every page."""

    def __init__(self, found: list[dict[str, Any]]) -> None:
        self.found = found
        self.asked: list[str] = []

    async def search(self, request: HistoryRequest) -> list[Resource]:
        self.asked.append(request.query)
        kind = [parse_resource(r) for r in self.found if r["resourceType"] == request.resource_type]
        raise IncompleteHistory(kind)


class ProceduresFail:
    """Procedure searches fail; every other search answers, empty and complete."""

    async def search(self, request: HistoryRequest) -> list[Resource]:
        if request.resource_type == "Procedure":
            raise ConnectionError("EHR down for Procedure")
        return []


def the(decisions: list[Any], rule_id: str) -> Any:
    """The rule's decision on the order it is about."""
    [found] = [d for d in decisions if d.rule_id == rule_id and d.applicable]
    return found


async def test_an_absence_in_a_search_cut_short_decides_nothing_and_is_not_asked_again():
    source = CutShort([])
    case = make_case(service_request("cpt", "77080"), sex="female", complete_history=False)

    decisions, _ = await evaluate_with_history(case, source)

    assert the(decisions, "dxa-repeat-within-two-years").outcome is Outcome.COULD_NOT_DECIDE
    assert len(source.asked) == len(set(source.asked))


async def test_what_a_search_cut_short_did_find_still_counts():
    source = CutShort([PRIOR_DXA])
    case = make_case(service_request("cpt", "77080"), sex="female", complete_history=False)

    decisions, grown = await evaluate_with_history(case, source)

    assert the(decisions, "dxa-repeat-within-two-years").outcome is Outcome.LOW_VALUE
    assert grown.searched == ()  # nothing it gave counts as a complete answer


async def test_with_on_failure_a_failed_search_silences_only_its_rules():
    failures: list[tuple[str, str]] = []
    case = case_from_resources(
        patient=patient(age=40),
        orders=[service_request("cpt", "71046", id="xray"), medication_request(id="amox")],
        encounter=encounter(),
        conditions=[condition("J06.9")],
    )

    decisions, _ = await evaluate_with_history(
        case, ProceduresFail(), on_failure=lambda r, e: failures.append((r.resource_type, str(e)))
    )

    # The pre-op X-ray looks ahead for a booked surgery in ServiceRequests and Procedures; the
    # Procedure search failed, so it stays undecided. The antibiotic for a cold needed only
    # the MedicationRequest search, which answered: it is decided.
    assert the(decisions, "preop-chest-xray").outcome is Outcome.COULD_NOT_DECIDE
    assert the(decisions, "antibiotics-viral-uri").outcome is Outcome.LOW_VALUE
    assert failures == [("Procedure", "EHR down for Procedure")]


async def test_after_history_arrives_only_the_undecided_rules_are_judged_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from lowvalue import evaluate
    from lowvalue import evaluator as evaluator_module

    calls: list[str] = []
    judge = evaluator_module.evaluate_rule

    def counting(rule: Any, case: Any, order: Any, *, variant: Any = None) -> Any:
        calls.append(rule.id)
        return judge(rule, case, order, variant=variant)

    monkeypatch.setattr(evaluator_module, "evaluate_rule", counting)
    source = CutShort([PRIOR_DXA])
    case = make_case(service_request("cpt", "77080"), sex="female", complete_history=False)

    decisions, grown = await evaluate_with_history(case, source)

    rules = len(default_catalog().rules)
    undecided_first = len(calls) - rules
    assert 0 < undecided_first < rules  # the second round judged only the undecided ones
    # And they are the decisions a full judgement of the grown case gives.
    assert [(d.rule_id, d.outcome) for d in decisions] == [
        (d.rule_id, d.outcome) for d in evaluate(grown)
    ]
