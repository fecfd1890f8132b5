"""Which of the launch's orders the low-value rules judge low-value, for the in-EHR page.

The same catalog, evaluator and organization variants (``app.rules.variants``) as the
CDS Hooks service, so the page marks an order exactly when a card would be given for it. Rules
short of history read it from the EHR, only when one asks and all searches at once
(``lowvalue.evaluate_with_history``). A search that fails, or that the client stopped paging,
leaves the rules that wanted it undecided, so their orders are not marked: a marker is never a
guess, and the page never fails for want of one.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from fhir.resources.R4B.encounter import Encounter

import lowvalue
from app.clinician.schemas import LowValueMarker
from app.rules.history import FhirHistory, history_failure_logger
from app.rules.reasons import reason_for
from fhir_client import FhirClient, LaunchContextData

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Judged:
    """Per order ("Type/id") the rules ran on, the decisions that found it low-value (none:
    the rules ran and none did). Orders with no date to judge them by are not in it."""

    low_value: dict[str, list[lowvalue.Decision]]

    def markers(self) -> dict[str, list[LowValueMarker]]:
        return {
            order: [marker_of(decision) for decision in decisions]
            for order, decisions in self.low_value.items()
            if decisions
        }

    def found(self) -> dict[str, list[tuple[str, str]]]:
        """What a flag records: per judged order, the (rule id, rule version) that agreed."""
        return {
            order: [(decision.rule_id, decision.rule_version) for decision in decisions]
            for order, decisions in self.low_value.items()
        }


def marker_of(decision: lowvalue.Decision) -> LowValueMarker:
    rule = lowvalue.default_catalog().rule(decision.rule_id)
    source = rule.sources[0]
    return LowValueMarker(
        rule_id=rule.id,
        label=rule.title,
        reason=rule.summary,
        source_title=source.title,
        source_url=source.url,
        flag_reason=reason_for(rule.id),
    )


def _judgeable(order: lowvalue.Order, encounter: Encounter | None) -> bool:
    """Whether a rule can judge the order: it needs the order's id and date (or its
    encounter's date)."""
    if not order.id:
        return False
    try:
        lowvalue.evaluation_date(order, encounter)
    except lowvalue.CaseError:
        return False
    return True


async def judge_orders(
    fhir: FhirClient, data: LaunchContextData, variants: Mapping[str, lowvalue.VariantName]
) -> Judged:
    """Every rule on every order of the launch, with the history the rules ask for."""
    every: list[lowvalue.Order] = [*data.service_requests, *data.medication_requests]
    orders = [order for order in every if _judgeable(order, data.encounter)]
    if not orders:
        return Judged(low_value={})
    case = lowvalue.case_from_resources(
        patient=data.patient,
        orders=orders,
        encounter=data.encounter,
        conditions=data.conditions,
        medications=data.medications,  # what medicationReference names (the launch read them)
    )
    decisions, _ = await lowvalue.evaluate_with_history(
        case,
        FhirHistory(fhir),
        variants=variants,
        # A failed search leaves only the rules that wanted it unmarked; the others speak.
        on_failure=history_failure_logger(logger, "In-EHR page"),
    )
    low_value: dict[str, list[lowvalue.Decision]] = {
        f"{order.get_resource_type()}/{order.id}": [] for order in orders
    }
    for decision in decisions:
        if decision.outcome is lowvalue.Outcome.LOW_VALUE:
            low_value[decision.order].append(decision)
    return Judged(low_value=low_value)
