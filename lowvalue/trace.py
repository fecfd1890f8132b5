"""Decisions and their traces: which rule, which clause matched, which exemption applied.

A trace is a list of steps in the order the evaluator took them: the order's code, the
setting, the patient's age and sex, each "low-value when" clause, each exemption. Every step
says its result in words a reviewer can check against the chart, so a clinician who disagrees
with a card can see which fact it rested on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any, Literal

from lowvalue.catalog import Source
from lowvalue.codes import CodeMatch
from lowvalue.history import HistoryRequest

__all__ = ["Decision", "Outcome", "Part", "Step", "StepResult", "render_text"]

Part = Literal["order", "setting", "patient", "when", "unless"]


class Outcome(StrEnum):
    LOW_VALUE = "low-value"
    NOT_LOW_VALUE = "not-low-value"
    # The case lacks a fact the rule needs; ``Decision.needs`` lists the searches that would
    # supply it (empty when no search can, e.g. a Patient without birthDate).
    COULD_NOT_DECIDE = "could-not-decide"


class StepResult(StrEnum):
    MATCHED = "matched"
    NOT_MATCHED = "not matched"
    APPLIED = "applied"  # an exemption (or an excluded setting) holds: not low-value
    NOT_APPLIED = "did not apply"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Step:
    part: Part
    clause: str
    result: StepResult
    detail: str
    needs: tuple[HistoryRequest, ...] = ()
    unverified_code: bool = False
    # The catalog entry a code matched (order steps): what a caller needs beyond the words,
    # such as the entry's alternative.
    match: CodeMatch | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "part": self.part,
            "clause": self.clause,
            "result": self.result.value,
            "detail": self.detail,
            "needs": [request.query for request in self.needs],
            "unverified_code": self.unverified_code,
        }


@dataclass(frozen=True, slots=True)
class Decision:
    """One rule's verdict on one draft order, with the steps that led to it."""

    rule_id: str
    rule_version: str
    title: str
    order: str
    evaluated_on: date
    outcome: Outcome
    variant: str | None = None
    exempted_by: str | None = None
    steps: tuple[Step, ...] = ()
    sources: tuple[Source, ...] = field(default=())
    # Set when the rule itself failed (the exception's type and where, never its message):
    # the decision is then undecided and silent, and the others stand.
    failure: str | None = None

    @property
    def applicable(self) -> bool:
        """False when the order is not one this rule is about (its first step failed)."""
        return not (
            self.steps
            and self.steps[0].part == "order"
            and self.steps[0].result is StepResult.NOT_MATCHED
        )

    @property
    def needs(self) -> tuple[HistoryRequest, ...]:
        """The searches that would settle an undecided rule, each once."""
        if self.outcome is not Outcome.COULD_NOT_DECIDE:
            return ()
        return tuple(dict.fromkeys(request for step in self.steps for request in step.needs))

    @property
    def order_match(self) -> CodeMatch | None:
        """The order's code as the rule matched it, when it did (None otherwise)."""
        first = self.steps[0] if self.steps else None
        if first is None or first.part != "order" or first.result is not StepResult.MATCHED:
            return None
        return first.match

    @property
    def rests_on_unverified_code(self) -> bool:
        """A matched code is one the reference marks "(verify)": review before acting on it."""
        return any(step.unverified_code for step in self.steps)

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule_id,
            "rule_version": self.rule_version,
            "title": self.title,
            "variant": self.variant,
            "order": self.order,
            "evaluated_on": self.evaluated_on.isoformat(),
            "outcome": self.outcome.value,
            "exempted_by": self.exempted_by,
            "rests_on_unverified_code": self.rests_on_unverified_code,
            "needs": [request.query for request in self.needs],
            "steps": [step.to_json() for step in self.steps],
            "sources": [source.model_dump() for source in self.sources],
            "failure": self.failure,
        }


_HEADLINE = {
    Outcome.LOW_VALUE: "LOW-VALUE",
    Outcome.NOT_LOW_VALUE: "not low-value",
    Outcome.COULD_NOT_DECIDE: "could not decide",
}


def render_text(decision: Decision) -> str:
    """The decision as a few indented lines for a terminal or a log."""
    variant = f", {decision.variant} variant" if decision.variant else ""
    lines = [
        f"{decision.rule_id} v{decision.rule_version}{variant} on {decision.order}"
        f" (evaluated on {decision.evaluated_on}): {_HEADLINE[decision.outcome]}",
        f"  {decision.title}",
    ]
    for step in decision.steps:
        name = step.clause if step.part in {"order", "setting", "patient"} else step.part
        name = f"{name} {step.clause}" if step.part in {"when", "unless"} else name
        lines.append(f"  - {name}: {step.result.value}; {step.detail}")
    if decision.failure:
        lines.append(f"  the rule failed ({decision.failure}); the other rules still answered")
    if decision.exempted_by:
        lines.append(f"  exempted by: {decision.exempted_by}")
    for request in decision.needs:
        lines.append(f"  needs history: {request.query}")
    if decision.rests_on_unverified_code:
        lines.append("  note: rests on a code marked unverified in the catalog")
    lines.extend(f"  source: {source.title} <{source.url}>" for source in decision.sources)
    return "\n".join(lines)
