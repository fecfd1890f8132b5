"""A rule that fails never takes the other rules' answers with it, and its log quotes no chart."""

from __future__ import annotations

import logging
from typing import Any

import pytest

import lowvalue
from lowvalue import Outcome, case_from_resources, evaluate, render_text
from lowvalue import evaluator as evaluator_module
from tests.lowvalue.factories import (
    all_history,
    condition,
    encounter,
    patient,
    service_request,
)

SECRET = "Synthetic Jane Doe MRN 000-111"


@pytest.fixture
def vitamin_d_rule_breaks(monkeypatch: pytest.MonkeyPatch) -> None:
    """The vitamin D rule raises, with patient data in the message, as a careless rule might."""
    order_step = evaluator_module._order_step

    def failing(rule: Any, order: Any, on: Any) -> Any:
        if rule.id == "vitamin-d-testing":
            raise ValueError(f"cannot read {SECRET}")
        return order_step(rule, order, on)

    monkeypatch.setattr(evaluator_module, "_order_step", failing)


def two_orders() -> lowvalue.Case:
    return case_from_resources(
        patient=patient(age=58),
        orders=[
            service_request("cpt", "72148", id="mri"),
            service_request("cpt", "82306", id="vitd"),
        ],
        encounter=encounter(),
        conditions=[condition("M54.50")],
        searched=all_history(),
    )


@pytest.mark.usefixtures("vitamin_d_rule_breaks")
def test_a_failing_rule_is_undecided_and_the_other_rules_still_answer(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR, logger="lowvalue"):
        decisions = evaluate(two_orders())

    by_rule = {(d.rule_id, d.order): d for d in decisions}
    assert by_rule[("low-back-pain-imaging", "ServiceRequest/mri")].outcome is Outcome.LOW_VALUE
    failed = [d for d in decisions if d.failure]
    # Once per order: the broken rule fails on both, and every other rule still decided.
    assert {(d.rule_id, d.order) for d in failed} == {
        ("vitamin-d-testing", "ServiceRequest/mri"),
        ("vitamin-d-testing", "ServiceRequest/vitd"),
    }
    assert all(d.outcome is Outcome.COULD_NOT_DECIDE and not d.needs for d in failed)
    assert len(decisions) == 2 * len(lowvalue.default_catalog().rules)
    assert failed[0].failure is not None
    assert failed[0].failure.startswith("ValueError at ")
    assert "the rule failed" in render_text(failed[0])


@pytest.mark.usefixtures("vitamin_d_rule_breaks")
def test_a_failing_rule_is_logged_by_name_without_its_message(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR, logger="lowvalue"):
        evaluate(two_orders())

    assert "vitamin-d-testing" in caplog.text
    assert "ValueError" in caplog.text
    assert SECRET not in caplog.text
    assert "Synthetic" not in caplog.text
    assert all(SECRET not in str(record.args) for record in caplog.records)
