"""Every rule in the catalog, once low-value and once not: the measure as the reference says it.

Each row is a synthetic case for the rule's order; the exempt case differs from the low-value
one by the one fact the reference names (an exemption, or a condition that is missing).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from lowvalue import Outcome, default_catalog, evaluate
from tests.lowvalue.factories import (
    ON,
    condition,
    make_case,
    medication_request,
    procedure,
    service_request,
)

SURGERY = service_request(
    "cpt", "66984", id="surgery", on=ON, occurrenceDateTime=(ON + timedelta(days=14)).isoformat()
)
LBP_TODAY = (condition("M54.50", onset=ON - timedelta(days=10)),)
PRIOR_DXA = procedure("cpt", "77080", on=ON - timedelta(days=400))
PRIOR_PAP = procedure("cpt", "88142", on=ON - timedelta(days=900))

# rule id: (order, low-value case, exempt or not-matching case; "order" replaces the order)
CASES: dict[str, tuple[dict[str, Any], dict[str, Any], dict[str, Any]]] = {
    "vitamin-d-testing": (service_request("cpt", "82306"), {}, {"diagnoses": ("N18.3",)}),
    "low-back-pain-imaging": (
        service_request("cpt", "72148"),
        {"conditions": LBP_TODAY},
        {"conditions": LBP_TODAY, "diagnoses": ("C50.911",)},
    ),
    "psa-screening-older-men": (
        service_request("cpt", "84153"),
        {"age": 76},
        {"age": 76, "diagnoses": ("R97.20",)},
    ),
    "preop-chest-xray": (
        service_request("cpt", "71046"),
        {"history": (SURGERY,)},
        {"history": (SURGERY,), "diagnoses": ("R06.02",)},
    ),
    "preop-echocardiogram": (
        service_request("cpt", "93306"),
        {"history": (SURGERY,)},
        {"history": (SURGERY,), "klass": "IMP"},
    ),
    "preop-stress-test": (
        service_request("cpt", "93015"),
        {"history": (SURGERY,)},
        {"history": ()},
    ),
    "preop-spirometry": (
        service_request("cpt", "94010"),
        {"history": (SURGERY,)},
        {"history": (SURGERY,), "klass": "EMER"},
    ),
    "preop-routine-labs": (
        service_request("cpt", "80053"),
        {"history": (SURGERY,)},
        {"history": (SURGERY,), "diagnoses": ("E11.9",)},
    ),
    "headache-head-imaging": (
        service_request("cpt", "70450"),
        {"diagnoses": ("G43.909",)},
        {"diagnoses": ("G43.909", "S06.0X0A")},
    ),
    "syncope-head-imaging": (
        service_request("cpt", "70551"),
        {"diagnoses": ("R55",)},
        {"diagnoses": ("R55",), "conditions": (condition("Z86.73", onset=None),)},
    ),
    "headache-eeg": (
        service_request("cpt", "95816"),
        {"diagnoses": ("R51.9",)},
        {"diagnoses": ("R51.9", "G40.909")},
    ),
    "sinusitis-ct": (
        service_request("cpt", "70486"),
        {"diagnoses": ("J01.90",)},
        {"diagnoses": ("J01.90",), "conditions": (condition("J32.9", onset=ON - timedelta(200)),)},
    ),
    "antibiotics-viral-uri": (
        medication_request("atc", "J01CA04"),
        {"diagnoses": ("J06.9",)},
        {"diagnoses": ("J06.9", "H66.90")},
    ),
    "antibiotics-acute-bronchitis": (
        medication_request("atc", "J01FA10"),
        {"diagnoses": ("J20.9",)},
        {
            "diagnoses": ("J20.9",),
            "history": (medication_request("atc", "J01CA04", on=ON - timedelta(10), id="old"),),
        },
    ),
    "t3-testing-hypothyroidism": (
        service_request("cpt", "84481"),
        {"diagnoses": ("E03.9",)},
        {"diagnoses": ()},
    ),
    "homocysteine-testing": (service_request("cpt", "83090"), {}, {"diagnoses": ("D51.0",)}),
    "hypercoagulability-testing-provoked-vte": (
        service_request("cpt", "81240"),
        {"diagnoses": ("I82.401", "Z79.3")},
        {"diagnoses": ("I82.401",)},
    ),
    "pth-ckd-early": (
        service_request("cpt", "83970"),
        {"diagnoses": ("N18.31",)},
        {"diagnoses": ("N18.31", "Z99.2")},
    ),
    "dxa-repeat-within-two-years": (
        service_request("cpt", "77080"),
        {"history": (PRIOR_DXA,), "sex": "female"},
        {"history": (PRIOR_DXA,), "sex": "female", "diagnoses": ("Z79.52",)},
    ),
    "dxa-women-under-65": (
        service_request("cpt", "77080"),
        {"sex": "female", "age": 55},
        {"sex": "female", "age": 55, "diagnoses": ("Z79.811",)},
    ),
    "cervical-screening-over-65": (
        service_request("cpt", "88142"),
        {"sex": "female", "age": 70, "history": (PRIOR_PAP,)},
        {"sex": "female", "age": 70, "history": (PRIOR_PAP,), "diagnoses": ("R87.610",)},
    ),
    "carotid-imaging-without-symptoms": (
        service_request("cpt", "93880"),
        {"diagnoses": ("R55",)},
        {"diagnoses": ("G45.9",)},
    ),
    "knee-arthroscopy-osteoarthritis": (
        service_request("cpt", "29881"),
        {"diagnoses": ("M17.11",)},
        {"diagnoses": ("M17.11", "S83.241A")},
    ),
    "spinal-injection-low-back-pain": (
        service_request("cpt", "62323"),
        {"diagnoses": ("M54.50",)},
        {"diagnoses": ("M54.50", "M54.16")},
    ),
    "vertebroplasty-osteoporotic-fracture": (
        service_request("cpt", "22513"),
        {"diagnoses": ("M80.08XA",)},
        {"diagnoses": ("M80.08XA", "C90.00")},
    ),
    "benzodiazepines-older-adults": (
        medication_request("atc", "N05BA06"),
        {"age": 70},
        {"age": 60},
    ),
    "branded-drug-with-generic": (
        medication_request("rxnorm", "214003"),
        {},
        # No exemption: ordering the generic itself is the case the rule leaves alone.
        {"order": medication_request("rxnorm", "197321")},
    ),
}


def decision(rule_id: str, rule_order: dict[str, Any], **kwargs: Any):
    case = make_case(kwargs.pop("order", rule_order), **kwargs)
    (found,) = [d for d in evaluate(case) if d.rule_id == rule_id]
    return found


def test_every_rule_in_the_catalog_has_a_case():
    assert sorted(rule.id for rule in default_catalog().rules) == sorted(CASES)


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_the_rule_finds_its_low_value_case(rule_id):
    order, low_value, _ = CASES[rule_id]

    found = decision(rule_id, order, **low_value)

    assert found.outcome is Outcome.LOW_VALUE, "\n".join(step.detail for step in found.steps)


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_the_rule_leaves_its_exempt_case_alone(rule_id):
    order, _, exempt = CASES[rule_id]

    found = decision(rule_id, order, **exempt)

    assert found.outcome is Outcome.NOT_LOW_VALUE, "\n".join(step.detail for step in found.steps)


def test_only_the_rule_for_the_order_fires():
    case = make_case(service_request("cpt", "84153"), age=80)

    fired = [d.rule_id for d in evaluate(case) if d.outcome is not Outcome.NOT_LOW_VALUE]

    assert fired == ["psa-screening-older-men"]
