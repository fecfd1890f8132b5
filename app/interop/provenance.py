"""Who did what to a flag, as FHIR R4 Provenance (provenance.html, 4.0.1): one per timeline
event, so each entry keeps its own moment and actor.

==============  ===========================================================================
Provenance      from the timeline event
==============  ===========================================================================
target          the DetectedIssue and the Task; a reply's Communication too
recorded        when the event happened
activity        the event's kind (CodeSystem ``valueloop-flag-event``)
agent.type      ``author`` for the reporter's flag, ``performer`` for the team's actions
                (provenance-participant-type)
agent.who       the reporter's fhirUser and name for identified flags, else "Anonymous
                reporter" / "Confidential reporter"; staff by name and staff id
agent.role      the actor's role as text (physician, lead, analyst, ...)
==============  ===========================================================================

The anonymity rule decides the reporter's agent here, not the name stored on the event.
"""

from __future__ import annotations

from collections.abc import Sequence

from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.coding import Coding
from fhir.resources.R4B.provenance import Provenance, ProvenanceAgent
from fhir.resources.R4B.reference import Reference

from app.flags.models import EventKind, Flag, FlagEvent
from app.interop import references
from app.interop.codesystems import CodeSystemId, concept
from app.interop.communication import RESOURCE_TYPE as COMMUNICATION
from app.interop.communication import communication_id, is_reply
from app.interop.detected_issue import RESOURCE_TYPE as DETECTED_ISSUE
from app.interop.detected_issue import detected_issue_id
from app.interop.ids import resource_id
from app.interop.task import RESOURCE_TYPE as TASK
from app.interop.task import task_id

RESOURCE_TYPE = "Provenance"
PARTICIPANT_TYPES = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"


def _agent(base_url: str, flag: Flag, event: FlagEvent) -> ProvenanceAgent:
    by_reporter = event.kind == EventKind.CREATED
    who = (
        references.reporter_or_role(flag)
        if by_reporter
        else references.staff(base_url, event.actor_name, event.actor_staff_id)
    )
    code, display = ("author", "Author") if by_reporter else ("performer", "Performer")
    return ProvenanceAgent(
        type=CodeableConcept(coding=[Coding(system=PARTICIPANT_TYPES, code=code, display=display)]),
        role=[CodeableConcept(text=event.actor_role)] if event.actor_role else None,
        who=who,
    )


def _targets(flag: Flag, event: FlagEvent) -> list[Reference]:
    targets = [
        references.local(DETECTED_ISSUE, detected_issue_id(flag)),
        references.local(TASK, task_id(flag)),
    ]
    if is_reply(event):
        targets.append(references.local(COMMUNICATION, communication_id(flag, event)))
    return targets


def provenance(base_url: str, flag: Flag, event: FlagEvent) -> Provenance:
    return Provenance(
        id=resource_id(flag.id, RESOURCE_TYPE, event.id),
        target=_targets(flag, event),
        recorded=event.at,
        activity=concept(base_url, CodeSystemId.EVENT, event.kind),
        agent=[_agent(base_url, flag, event)],
    )


def provenances(base_url: str, flag: Flag, events: Sequence[FlagEvent]) -> list[Provenance]:
    """One Provenance per timeline event, oldest first."""
    return [provenance(base_url, flag, event) for event in events]
