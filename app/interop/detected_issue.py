"""A flag as a FHIR R4 DetectedIssue (detectedissue.html, 4.0.1): "an actual or potential
clinical issue with or between one or more active or proposed clinical actions", here an
order a clinician called low-value.

=================  ===========================================================================
DetectedIssue      from the flag
=================  ===========================================================================
identifier         the flag's id (system ``{base}/fhir/sid/flag``)
status             ``cancelled`` when the review ended as not low-value or duplicate (the issue
                   no longer stands, or stands on another flag); ``amended`` when the team
                   reclassified the reason or driver; ``final`` otherwise
code               the reason (CodeSystem ``valueloop-flag-reason``)
severity           left out: its ValueSet (high | moderate | low) grades harm to the patient,
                   and nothing on a flag grades that (priority is the team's own triage)
patient            ``Patient/{patient_fhir_id}``
identifiedDateTime when the flag was submitted
author             the reporter's fhirUser, only for identified flags
implicated         the order, ``{ServiceRequest|MedicationRequest}/{id}`` with its name
evidence           the low-value rules that agreed at flag time (by title and source)
detail             the reporter's note
mitigation         the team's actions: each status change (action = the status reached) and
                   each reply to the reporter, with its date and who acted
extension          suspected driver; estimated cost (amount, source, year)
=================  ===========================================================================
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.detectedissue import (
    DetectedIssue,
    DetectedIssueEvidence,
    DetectedIssueMitigation,
)
from fhir.resources.R4B.extension import Extension
from fhir.resources.R4B.money import Money

from app.flags.costs import cents_to_amount
from app.flags.models import EventKind, Flag, FlagEvent
from app.flags.workflow import Status
from app.interop import references
from app.interop.codesystems import CodeSystemId, concept
from app.interop.ids import resource_id
from app.interop.text import fhir_string
from app.interop.urls import extension_url

RESOURCE_TYPE = "DetectedIssue"
# Reference prices and organizations' own prices are in US dollars (app/flags/costs.py).
CURRENCY = "USD"
DRIVER_EXTENSION = "flag-suspected-driver"
COST_EXTENSION = "flag-estimated-cost"

# The ends of a review after which the issue does not stand (on this flag).
_WITHDRAWN = frozenset({Status.NOT_LOW_VALUE, Status.DUPLICATE})


def detected_issue_id(flag: Flag) -> str:
    return resource_id(flag.id, RESOURCE_TYPE)


def status(flag: Flag, events: Sequence[FlagEvent]) -> str:
    """DetectedIssue.status (ObservationStatus, required binding)."""
    if flag.status in _WITHDRAWN:
        return "cancelled"
    if any(event.kind == EventKind.RECLASSIFICATION for event in events):
        return "amended"
    return "final"


def _mitigation(base_url: str, event: FlagEvent) -> DetectedIssueMitigation | None:
    """One action the team took, or None for an event that is not one (the flag itself,
    internal comments, assignments, priority and tags, reclassification)."""
    if event.kind == EventKind.STATUS_CHANGE and event.to_status:
        action = concept(base_url, CodeSystemId.STATUS, event.to_status)
    elif event.kind == EventKind.REPLY:
        action = concept(base_url, CodeSystemId.EVENT, event.kind)
    else:
        return None
    return DetectedIssueMitigation(
        action=action,
        date=event.at,
        author=references.staff(base_url, event.actor_name, event.actor_staff_id),
    )


def _evidence(flag: Flag) -> list[DetectedIssueEvidence] | None:
    """The rules that judged the order low-value when it was flagged (app/rules)."""
    rules: list[dict[str, Any]] = flag.rule_agreement or []
    found = [
        DetectedIssueEvidence(code=[CodeableConcept(text=text)])
        for rule in rules
        if (text := fhir_string(_rule_text(rule)))
    ]
    return found or None


def _rule_text(rule: dict[str, Any]) -> str:
    title, source = rule.get("title") or "", rule.get("source_title") or ""
    return f"{title} ({source})" if title and source else title or source


def _extensions(base_url: str, flag: Flag) -> list[Extension] | None:
    found: list[Extension] = []
    if flag.driver:
        found.append(
            Extension(
                url=extension_url(base_url, DRIVER_EXTENSION),
                valueCodeableConcept=concept(base_url, CodeSystemId.DRIVER, flag.driver),
            )
        )
    if flag.estimated_cost_cents is not None:
        found.append(_cost(base_url, flag, cents_to_amount(flag.estimated_cost_cents)))
    return found or None


def _cost(base_url: str, flag: Flag, amount: Decimal) -> Extension:
    """A complex extension (R4 2.4.0.1): the amount, and where the price comes from."""
    parts = [Extension(url="amount", valueMoney=Money(value=amount, currency=CURRENCY))]
    if source := fhir_string(flag.cost_source):
        parts.append(Extension(url="source", valueString=source))
    if flag.cost_year is not None:
        parts.append(Extension(url="year", valueInteger=flag.cost_year))
    return Extension(url=extension_url(base_url, COST_EXTENSION), extension=parts)


def detected_issue(base_url: str, flag: Flag, events: Sequence[FlagEvent]) -> DetectedIssue:
    """The flag as a DetectedIssue; ``events`` is its timeline, oldest first."""
    mitigations = [found for event in events if (found := _mitigation(base_url, event))]
    return DetectedIssue(
        id=detected_issue_id(flag),
        identifier=[references.flag_identifier(base_url, flag.id)],
        status=status(flag, events),
        code=concept(base_url, CodeSystemId.REASON, flag.reason),
        patient=references.patient(flag),
        identifiedDateTime=flag.created_at,
        author=references.reporter(flag),
        implicated=[references.order(flag)],
        evidence=_evidence(flag),
        detail=fhir_string(flag.note),
        mitigation=mitigations or None,
        extension=_extensions(base_url, flag),
    )
