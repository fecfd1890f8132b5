"""History no rule could read is left out before parsing, and the decisions stay the same."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from lowvalue import CaseError, case_from_resources, default_catalog, evaluate
from tests.lowvalue.factories import (
    ON,
    all_history,
    condition,
    encounter,
    medication_request,
    patient,
    procedure,
    service_request,
)
from tests.lowvalue.test_rules_table import CASES

CATALOG = default_catalog()
# What a real record holds beside the few facts a rule is about.
NOISE = (
    procedure("cpt", "45378", on=ON - timedelta(days=200)),  # a colonoscopy
    service_request("cpt", "80061", id="lipids", on=ON - timedelta(days=90)),
    medication_request("atc", "C09AA03", id="lisinopril", on=ON - timedelta(days=60)),
    {
        "resourceType": "Encounter",
        "id": "old-visit",
        "status": "finished",
        "class": {"code": "AMB"},
        "subject": {"reference": "Patient/p1"},
        "period": {"start": (ON - timedelta(days=300)).isoformat()},
    },
)


def decisions(order: dict[str, Any], facts: dict[str, Any], *, only_for: Any) -> list[Any]:
    case = case_from_resources(
        patient=patient(age=facts.get("age", 70), sex=facts.get("sex", "male")),
        orders=[order],
        encounter=encounter(klass=facts.get("klass", "AMB")),
        conditions=[
            *(condition(code) for code in facts.get("diagnoses", ())),
            *facts.get("conditions", ()),
        ],
        history=[*facts.get("history", ()), *NOISE],
        searched=all_history(),
        only_for=only_for,
    )
    return [(d.rule_id, d.outcome, d.exempted_by) for d in evaluate(case, catalog=CATALOG)]


@pytest.mark.parametrize("rule_id", sorted(CASES))
@pytest.mark.parametrize("which", ["low-value case", "exempt case"])
def test_leaving_out_unread_history_changes_no_decision(rule_id: str, which: str) -> None:
    order, low_value, exempt = CASES[rule_id]
    facts = low_value if which == "low-value case" else exempt

    assert decisions(order, facts, only_for=CATALOG) == decisions(order, facts, only_for=None)


def test_history_no_rule_reads_is_not_even_parsed() -> None:
    # Broken in a way the parser refuses; nothing could read it, so it is never parsed.
    broken_colonoscopy = {**procedure("cpt", "45378", on=ON), "status": 7}
    arguments: dict[str, Any] = {
        "patient": patient(),
        "orders": [service_request("cpt", "82306")],
        "encounter": encounter(),
        "history": [broken_colonoscopy],
    }

    with pytest.raises(CaseError):
        case_from_resources(**arguments)
    case = case_from_resources(**arguments, only_for=CATALOG)

    assert case.history == ()


def test_history_a_rule_reads_is_kept_even_under_a_retired_code() -> None:
    prior_dxa = procedure("cpt", "77080", on=ON - timedelta(days=400))
    old_visit = NOISE[-1]

    kept = case_from_resources(
        patient=patient(sex="female"),
        orders=[service_request("cpt", "77080")],
        history=[prior_dxa, old_visit, condition("M81.0")],
        only_for=CATALOG,
    )

    # The DXA (a service clause's code), the Condition (diagnosis clauses read the history's
    # too) and, with no encounter in the case, the Encounter (the setting check reads it).
    assert sorted(r.get_resource_type() for r in kept.history) == [
        "Condition",
        "Encounter",
        "Procedure",
    ]
