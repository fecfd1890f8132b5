"""From a low-value decision to a CDS Hooks 2.0 card (specification section "Card Attributes").

One card per draft order a rule finds low-value; none otherwise (silence is the default: a
service that adds noise gets switched off). The card names the service and the measure in its
summary, explains the matched clause and the exemptions checked in its detail, suggests
removing the draft order (or, when the catalog names one, ordering its alternative instead, e.g.
the identical generic of a branded drug), links to ValueLoop on that order, and offers override
reasons.
"""

from __future__ import annotations

import json
import re
import uuid

from app.cds.schemas import Action, Card, Coding, Link, Source, Suggestion
from lowvalue import Alternative, Decision, Rule, StepResult

SUMMARY_LIMIT = 140  # CDS Hooks 2.0: summary "SHOULD be <140 characters"
# The catalog's own code system for a card's topic: code = rule id (lowvalue/data/rules).
RULE_SYSTEM = "urn:valueloop:lowvalue-rule"
OVERRIDE_SYSTEM = "urn:valueloop:cds-override-reason"
# Why a clinician keeps an order a rule calls low-value; recorded with the feedback so the
# quality team sees where a rule misfires.
OVERRIDE_REASONS = (
    Coding(
        system=OVERRIDE_SYSTEM,
        code="exemption-not-recorded",
        display="An exemption applies that the chart does not show",
    ),
    Coding(
        system=OVERRIDE_SYSTEM,
        code="shared-decision",
        display="Discussed with the patient; ordered after a shared decision",
    ),
    Coding(system=OVERRIDE_SYSTEM, code="specialist-request", display="Requested by a specialist"),
    Coding(system=OVERRIDE_SYSTEM, code="protocol", display="Required by a protocol or pathway"),
    Coding(system=OVERRIDE_SYSTEM, code="other", display="Other"),
)


def summary_of(rule: Rule) -> str:
    text = f"ValueLoop: likely low-value care: {rule.title}"
    return text if len(text) < SUMMARY_LIMIT else text[: SUMMARY_LIMIT - 2].rstrip() + "…"


def detail_of(decision: Decision, rule: Rule) -> str:
    """Markdown: what the measure says, the facts it rested on, the exemptions checked."""
    lines = [rule.summary, "", f"Judged on {decision.evaluated_on.isoformat()} (the order's date):"]
    for step in decision.steps:
        if step.part == "when" and step.result is StepResult.MATCHED:
            lines.append(f"- Low-value when: {step.detail}")
        elif step.part == "unless":
            lines.append(f"- Exemption checked: {step.detail} ({step.result.value})")
    if decision.rests_on_unverified_code:
        lines.append("- Note: this rests on a code the catalog marks as not yet verified.")
    lines.append("")
    lines.extend(f"Source: [{source.title}]({source.url})" for source in rule.sources)
    return "\n".join(lines)


def alternative_of(decision: Decision) -> Alternative | None:
    """The catalog's alternative to the order's matched code (the generic of a branded drug)."""
    match = decision.order_match
    return match.entry.alternative if match is not None else None


def suggestion_for(decision: Decision, card_id: uuid.UUID) -> Suggestion:
    """Remove the draft order; when the catalog names an alternative, say to order it instead
    (CDS Hooks 2.0 "Action": the delete is the action, the alternative is in its words)."""
    alternative = alternative_of(decision)
    if alternative is None:
        label = "Remove this order"
        description = f"Remove the draft order {decision.order}."
    else:
        label = f"Order instead: {alternative.label}"
        description = (
            f"Remove the draft order {decision.order} and order {alternative.describe()} instead."
        )
    return Suggestion(
        label=label,
        uuid=uuid.uuid5(card_id, "remove"),
        isRecommended=True,
        actions=[Action(type="delete", description=description, resourceId=[decision.order])],
    )


def app_context_of(order: str, rule_id: str, card_id: uuid.UUID) -> str:
    """The SMART link's appContext: opaque to the EHR, which passes it to ValueLoop at launch
    (CDS Hooks 2.0 "Link"), so the app opens on the card's order."""
    return json.dumps({"order": order, "rule": rule_id, "card": str(card_id)})


_ORDER_TYPES = ("ServiceRequest", "MedicationRequest")
_FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


def order_in_app_context(app_context: str | None) -> str | None:
    """The order ('Type/id') of an appContext in the shape ``app_context_of`` writes; None
    for anything else (another service's appContext, or text that is not ours)."""
    try:
        value = json.loads(app_context) if app_context else None
    except ValueError:
        return None
    if not isinstance(value, dict) or not {"order", "rule", "card"} <= value.keys():
        return None
    order = value["order"]
    if not isinstance(order, str):
        return None
    resource_type, _, fhir_id = order.partition("/")
    return order if resource_type in _ORDER_TYPES and _FHIR_ID.match(fhir_id) else None


def card_for(decision: Decision, rule: Rule, *, base_url: str, indicator: str) -> Card:
    card_id = uuid.uuid4()
    # The SMART link opens ValueLoop on this order.
    app_context = app_context_of(decision.order, rule.id, card_id)
    return Card(
        uuid=card_id,
        summary=summary_of(rule),
        detail=detail_of(decision, rule),
        indicator="warning" if indicator == "warning" else "info",
        source=Source(
            label=f"ValueLoop low-value care rules: {rule.title}",
            url=str(rule.sources[0].url),
            topic=Coding(system=RULE_SYSTEM, code=rule.id, display=rule.title),
        ),
        suggestions=[suggestion_for(decision, card_id)],
        selectionBehavior="at-most-one",
        overrideReasons=list(OVERRIDE_REASONS),
        links=[
            Link(
                label="Open in ValueLoop",
                url=f"{base_url}/launch",
                type="smart",
                appContext=app_context,
            )
        ],
    )
