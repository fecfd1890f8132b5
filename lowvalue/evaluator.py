"""One evaluator for every rule: the order's code, the setting, the patient, the clauses.

The outcome, from the steps (see ``trace``):

1. the order is not one the rule is about (type or code)      -> not low-value
2. the patient is outside the age or sex limits               -> not low-value
3. a "low-value when" clause is false                         -> not low-value
4. an excluded setting or an exemption applies                 -> not low-value (exempted)
5. anything above is unknown                                   -> could not decide (+ needs)
6. otherwise                                                   -> low-value

Unknown never turns into a guess either way: an exemption that might apply keeps the rule
undecided, and so does a missing birth date.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterable, Mapping
from datetime import date

from lowvalue.case import Case, Order, evaluation_date
from lowvalue.catalog import Catalog, PatientLimits, Rule, VariantName, default_catalog
from lowvalue.clauses import Verdict, check_clause, codings, order_codings
from lowvalue.errors import LowValueError
from lowvalue.history import HistoryRequest
from lowvalue.trace import Decision, Outcome, Step, StepResult

__all__ = ["evaluate", "evaluate_rule", "needed", "settle"]

logger = logging.getLogger(__name__)


def evaluate(
    case: Case,
    *,
    catalog: Catalog | None = None,
    variants: Mapping[str, VariantName] | None = None,
) -> list[Decision]:
    """Every rule's decision on every draft order of ``case``, orders in case order.

    ``variants`` picks ``sensitive`` or ``specific`` per rule id (the organization's choice);
    a rule not named runs its default variant. VariantError for an unknown rule or variant.
    """
    catalog = catalog or default_catalog()
    for rule_id, variant in (variants or {}).items():
        catalog.rule(rule_id).parts(variant)  # raises VariantError when it does not exist
    chosen = variants or {}
    return [
        _guarded(rule, case, order, variant=chosen.get(rule.id))
        for order in case.orders
        for rule in catalog.rules
    ]


def _guarded(rule: Rule, case: Case, order: Order, *, variant: VariantName | None) -> Decision:
    """One rule's decision, or, when the rule itself fails, an undecided one that says so.

    A fault in one rule (its data, or an EHR resource shaped in a way it did not foresee) must
    not take the other rules' answers with it: the caller still gets every other decision,
    and this one stays silent (undecided is never shown as low-value). The log names the
    rule and where it failed, never the exception's message, which may quote the chart.
    """
    try:
        return evaluate_rule(rule, case, order, variant=variant)
    except LowValueError:
        raise  # the case's fault (an order with no date), not the rule's: the caller says so
    except Exception as exc:  # a rule's fault must not fail the others (see docstring)
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        where = f"{frame.filename.rsplit('/', 1)[-1]}:{frame.lineno}"
        logger.error(
            "Rule %s v%s failed on a %s: %s at %s",
            rule.id,
            rule.version,
            order.get_resource_type(),
            type(exc).__name__,
            where,
        )
        return Decision(
            rule_id=rule.id,
            rule_version=rule.version,
            title=rule.title,
            order=f"{order.get_resource_type()}/{order.id or '?'}",
            evaluated_on=evaluation_date(order, case.encounter),
            outcome=Outcome.COULD_NOT_DECIDE,
            sources=rule.sources,
            failure=f"{type(exc).__name__} at {where}",
        )


def settle(
    decisions: list[Decision],
    case: Case,
    *,
    catalog: Catalog | None = None,
    variants: Mapping[str, VariantName] | None = None,
) -> list[Decision]:
    """``decisions`` with each undecided one judged again on ``case`` (which has gained
    history since); the decided ones stand. A decided rule rested on no missing fact, so the
    history added for the undecided ones cannot change it, and judging only these is a
    fraction of judging every rule again."""
    catalog = catalog or default_catalog()
    chosen = variants or {}
    orders = {f"{order.get_resource_type()}/{order.id or '?'}": order for order in case.orders}
    settled = []
    for decision in decisions:
        order = orders.get(decision.order)
        if decision.outcome is not Outcome.COULD_NOT_DECIDE or decision.failure or order is None:
            settled.append(decision)
            continue
        rule = catalog.rule(decision.rule_id)
        settled.append(_guarded(rule, case, order, variant=chosen.get(rule.id)))
    return settled


def needed(decisions: Iterable[Decision]) -> list[HistoryRequest]:
    """The searches all undecided decisions ask for, each once."""
    return list(dict.fromkeys(request for decision in decisions for request in decision.needs))


def evaluate_rule(
    rule: Rule, case: Case, order: Order, *, variant: VariantName | None = None
) -> Decision:
    """One rule on one draft order."""
    on = evaluation_date(order, case.encounter)
    parts = rule.parts(variant)
    base = {
        "rule_id": rule.id,
        "rule_version": rule.version,
        "title": rule.title,
        "order": f"{order.get_resource_type()}/{order.id or '?'}",
        "evaluated_on": on,
        "variant": parts.variant,
        "sources": rule.sources,
    }
    order_step = _order_step(rule, order, on)
    if order_step.result is StepResult.NOT_MATCHED:
        return Decision(outcome=Outcome.NOT_LOW_VALUE, steps=(order_step,), **base)  # type: ignore[arg-type]
    steps = [order_step, *_setting_steps(rule, case, on), *_patient_steps(parts.patient, case, on)]
    for clause in parts.when:
        verdict = check_clause(clause, case, on, order)
        result = {True: StepResult.MATCHED, False: StepResult.NOT_MATCHED, None: StepResult.UNKNOWN}
        steps.append(_step("when", clause.id, result[verdict.holds], clause.label, verdict))
    for clause in parts.unless:
        verdict = check_clause(clause, case, on, order)
        result = {True: StepResult.APPLIED, False: StepResult.NOT_APPLIED, None: StepResult.UNKNOWN}
        steps.append(_step("unless", clause.id, result[verdict.holds], clause.label, verdict))
    outcome, exempted_by = _outcome(steps)
    return Decision(outcome=outcome, exempted_by=exempted_by, steps=tuple(steps), **base)  # type: ignore[arg-type]


def _step(part: str, clause: str, result: StepResult, label: str, verdict: Verdict) -> Step:
    return Step(
        part=part,  # type: ignore[arg-type]
        clause=clause,
        result=result,
        detail=f"{label}: {verdict.detail}",
        needs=verdict.needs,
        unverified_code=verdict.match is not None and not verdict.match.entry.verified,
    )


def _outcome(steps: list[Step]) -> tuple[Outcome, str | None]:
    if any(step.result is StepResult.NOT_MATCHED for step in steps):
        return Outcome.NOT_LOW_VALUE, None
    applied = [step.clause for step in steps if step.result is StepResult.APPLIED]
    if applied:
        return Outcome.NOT_LOW_VALUE, applied[0]
    if any(step.result is StepResult.UNKNOWN for step in steps):
        return Outcome.COULD_NOT_DECIDE, None
    return Outcome.LOW_VALUE, None


def _order_step(rule: Rule, order: Order, on: date) -> Step:
    kind = order.get_resource_type()
    if kind not in rule.order.resource_types:
        wanted = " or ".join(rule.order.resource_types)
        return Step("order", "order", StepResult.NOT_MATCHED, f"a {kind}; the rule reads {wanted}")
    found = rule.order.codes.match(order_codings(order), on)
    if found is None:
        return Step(
            "order",
            "order",
            StepResult.NOT_MATCHED,
            f"no code of the order is in {rule.order.codes.label}",
        )
    if not found.in_force:
        return Step(
            "order",
            "order",
            StepResult.NOT_MATCHED,
            f"{found.describe()}: the code was not in force for this order",
        )
    return Step(
        "order",
        "order",
        StepResult.MATCHED,
        f"{found.describe()} is in {rule.order.codes.label}",
        unverified_code=not found.entry.verified,
        match=found,
    )


def _setting_steps(rule: Rule, case: Case, on: date) -> list[Step]:
    if not rule.excluded_settings:
        return []
    excluded = ", ".join(rule.excluded_settings)
    encounter = case.encounter_on(on)
    if encounter is None:
        request = HistoryRequest("Encounter", case.patient_id, "date", on, on)
        return [
            Step(
                "setting",
                "setting",
                StepResult.UNKNOWN,
                f"the case has no encounter; the rule excludes {excluded}",
                needs=() if case.covers(request) else (request,),
            )
        ]
    klass = [c.code for c in codings(_as_concept(encounter.class_fhir))]
    shown = "/".join(code or "?" for code in klass)
    if set(klass) & set(rule.excluded_settings):
        return [
            Step(
                "setting",
                "setting",
                StepResult.APPLIED,
                f"Encounter.class {shown} is excluded ({excluded})",
            )
        ]
    if not klass:
        return [
            Step(
                "setting",
                "setting",
                StepResult.UNKNOWN,
                f"the encounter has no class; the rule excludes {excluded}",
            )
        ]
    return [
        Step(
            "setting",
            "setting",
            StepResult.NOT_APPLIED,
            f"Encounter.class {shown} is not one of {excluded}",
        )
    ]


class _Concept:
    """Encounter.class is a Coding in R4, not a CodeableConcept: seen as one with one coding."""

    def __init__(self, coding: object) -> None:
        self.coding = [coding] if coding is not None else []


def _as_concept(coding: object) -> _Concept:
    return _Concept(coding)


def age_on(birth: date, on: date) -> int:
    """Whole years between ``birth`` and ``on`` (a birthday counts on its day)."""
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _patient_steps(limits: PatientLimits, case: Case, on: date) -> list[Step]:
    steps = []
    if limits.sex is not None:
        gender = case.patient.gender
        if gender not in {"male", "female"}:
            steps.append(
                Step(
                    "patient",
                    "sex",
                    StepResult.UNKNOWN,
                    f"the rule is for {limits.sex} patients; Patient.gender is "
                    f"{gender or 'absent'}",
                )
            )
        else:
            result = StepResult.MATCHED if gender == limits.sex else StepResult.NOT_MATCHED
            steps.append(Step("patient", "sex", result, f"{gender}; the rule is for {limits.sex}"))
    if limits.min_age is None and limits.max_age is None:
        return steps
    wanted = f"{limits.min_age if limits.min_age is not None else 0}" + (
        f"-{limits.max_age}" if limits.max_age is not None else "+"
    )
    birth = case.patient.birthDate
    if birth is None:
        steps.append(
            Step(
                "patient",
                "age",
                StepResult.UNKNOWN,
                f"the rule is for ages {wanted}; Patient.birthDate is absent",
            )
        )
        return steps
    age = age_on(birth, on)
    inside = (limits.min_age is None or limits.min_age <= age) and (
        limits.max_age is None or age <= limits.max_age
    )
    result = StepResult.MATCHED if inside else StepResult.NOT_MATCHED
    steps.append(Step("patient", "age", result, f"{age} on {on}; the rule is for ages {wanted}"))
    return steps
