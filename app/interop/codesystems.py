"""ValueLoop's own vocabularies as FHIR R4 CodeSystems (codesystem.html, 4.8), and the codings
that use them.

Every concept is read from the registry's catalog (``app.flags.catalog``, ``app.flags.workflow``,
``app.flags.models``): the labels people read become ``display``, the catalog's descriptions
(or, for statuses, the workflow's own rules) become ``definition``. Nothing here is a second
copy of a vocabulary; adding a reason to the catalog adds it to the published CodeSystem.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import TypeVar

from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.codesystem import CodeSystem, CodeSystemConcept
from fhir.resources.R4B.coding import Coding

from app.flags.catalog import DRIVER_LABELS, PRIORITY_LABELS, REASON_DESCRIPTIONS, REASON_LABELS
from app.flags.models import EVENT_KIND_DESCRIPTIONS, EVENT_KIND_LABELS
from app.flags.workflow import (
    END_STATES,
    OWNER_REQUIRED,
    REPLY_REQUIRED,
    STATUS_LABELS,
    Status,
    allowed_from,
)
from app.interop.urls import code_system_url

PUBLISHER = "ValueLoop"

_Value = TypeVar("_Value", bound=StrEnum)


class CodeSystemId(StrEnum):
    """The ids (and last path segment of the canonical URL) of the published CodeSystems."""

    REASON = "valueloop-flag-reason"
    DRIVER = "valueloop-flag-driver"
    STATUS = "valueloop-flag-status"
    PRIORITY = "valueloop-flag-priority"
    EVENT = "valueloop-flag-event"


@dataclass(frozen=True)
class Concept:
    code: str
    display: str
    definition: str | None = None


@dataclass(frozen=True)
class Vocabulary:
    """One CodeSystem's metadata and concepts, before it becomes a FHIR resource."""

    name: str  # CodeSystem.name: machine-friendly (cnl-0: starts with a capital, no spaces)
    title: str
    description: str
    concepts: tuple[Concept, ...]

    def concept(self, code: str) -> Concept | None:
        return next((concept for concept in self.concepts if concept.code == code), None)


def _concepts(
    labels: Mapping[_Value, str], definitions: Mapping[_Value, str] | None = None
) -> tuple[Concept, ...]:
    definitions = definitions or {}
    return tuple(
        Concept(code=value.value, display=label, definition=definitions.get(value))
        for value, label in labels.items()
    )


def _status_definition(status: Status) -> str:
    """What the workflow says of a status, in words: where it leads and what entering it
    needs (app/flags/workflow.py), so the definition cannot drift from the rules."""
    moves = ", ".join(STATUS_LABELS[target] for target in allowed_from(status))
    parts = [f"A flag's review is at '{STATUS_LABELS[status]}'; it can move to: {moves}."]
    if status in END_STATES:
        parts.append("The review has ended (it can be reopened).")
    if status in REPLY_REQUIRED:
        parts.append("Moving here needs a reply to the reporter.")
    if status in OWNER_REQUIRED:
        parts.append("Moving here needs an owner.")
    return " ".join(parts)


@cache
def vocabularies() -> dict[CodeSystemId, Vocabulary]:
    """Every published vocabulary, by id."""
    statuses = {status: _status_definition(status) for status in Status}
    return {
        CodeSystemId.REASON: Vocabulary(
            "ValueLoopFlagReason",
            "ValueLoop flag reason",
            "Why the reporting clinician judged the order low-value.",
            _concepts(REASON_LABELS, REASON_DESCRIPTIONS),
        ),
        CodeSystemId.DRIVER: Vocabulary(
            "ValueLoopFlagDriver",
            "ValueLoop suspected driver",
            "What probably led to the low-value order, from the published barriers to "
            "reducing overuse.",
            _concepts(DRIVER_LABELS),
        ),
        CodeSystemId.STATUS: Vocabulary(
            "ValueLoopFlagStatus",
            "ValueLoop flag review status",
            "Where the quality team's review of a flag stands.",
            _concepts(STATUS_LABELS, statuses),
        ),
        CodeSystemId.PRIORITY: Vocabulary(
            "ValueLoopFlagPriority",
            "ValueLoop flag priority",
            "How soon the quality team means to work a flag (its own triage, not the "
            "patient's clinical urgency).",
            _concepts(PRIORITY_LABELS),
        ),
        CodeSystemId.EVENT: Vocabulary(
            "ValueLoopFlagEvent",
            "ValueLoop flag timeline event",
            "What an entry of a flag's timeline records: the reporter's flag and the quality "
            "team's actions on it.",
            _concepts(EVENT_KIND_LABELS, EVENT_KIND_DESCRIPTIONS),
        ),
    }


def coding(base_url: str, system: CodeSystemId, code: str) -> Coding:
    """A Coding (R4 2.24.0.13) of ``code``; a code the catalog no longer knows keeps its code
    without a display rather than failing the export."""
    concept = vocabularies()[system].concept(code)
    return Coding(
        system=code_system_url(base_url, system),
        code=code,
        display=concept.display if concept else None,
    )


def concept(base_url: str, system: CodeSystemId, code: str) -> CodeableConcept:
    """A CodeableConcept (R4 2.24.0.12) of one of our codes, with its label as text."""
    found = coding(base_url, system, code)
    return CodeableConcept(coding=[found], text=found.display)


def code_system(base_url: str, system: CodeSystemId) -> CodeSystem:
    """The CodeSystem resource: status active, content complete (R4 4.8.1: every concept is
    here), case-sensitive codes."""
    vocabulary = vocabularies()[system]
    return CodeSystem(
        id=system.value,
        url=code_system_url(base_url, system),
        name=vocabulary.name,
        title=vocabulary.title,
        status="active",
        experimental=False,
        publisher=PUBLISHER,
        description=vocabulary.description,
        caseSensitive=True,
        content="complete",
        count=len(vocabulary.concepts),
        concept=[
            CodeSystemConcept(code=item.code, display=item.display, definition=item.definition)
            for item in vocabulary.concepts
        ],
    )
