"""The quality team's follow-up of a flag as a FHIR R4 Task (task.html, 4.0.1).

Task.intent is ``order``: every flag must be reviewed and its loop closed (the registry's
rule, app/flags/workflow.py), so the follow-up is an authorized demand for action, not a
``plan`` someone may or may not carry out (R4 TaskIntent). Task.businessStatus carries our
exact status; Task.status (required, TaskStatus) is its nearest FHIR state:

==============  =============  ================================================================
our status      Task.status    why
==============  =============  ================================================================
submitted       requested      waiting for the team to pick it up
triaged         received       the team has it and is judging whether to act
accepted        accepted       the owner agreed to act, has not yet acted
action_taken    in-progress    acted; the loop with the reporter is not closed yet
needs_info      on-hold        paused, waiting for the reporter's answer
closed          completed      acted and the reporter told
not_low_value   rejected       the team decided not to act on it
duplicate       cancelled      not worked here: the original flag carries the work
==============  =============  ================================================================

Task.priority is left out: RequestPriority (routine | urgent | asap | stat) is clinical
urgency, and our priority is the team's triage; it travels as an extension instead. The
owner is one lead, or a dyad as a contained CareTeam (Task.owner is 0..1); both by name with
their staff ids, never with invented FHIR ids.
"""

from __future__ import annotations

import uuid

from fhir.resources.R4B.careteam import CareTeam, CareTeamParticipant
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.extension import Extension
from fhir.resources.R4B.reference import Reference
from fhir.resources.R4B.task import Task

from app.flags.models import Flag
from app.flags.owners import People
from app.flags.workflow import Status
from app.interop import references
from app.interop.codesystems import CodeSystemId, coding, concept
from app.interop.detected_issue import RESOURCE_TYPE as DETECTED_ISSUE
from app.interop.detected_issue import detected_issue_id
from app.interop.ids import resource_id
from app.interop.urls import extension_url

RESOURCE_TYPE = "Task"
PRIORITY_EXTENSION = "flag-priority"
_DYAD = "owners"  # the contained CareTeam's local id

TASK_STATUS: dict[Status, str] = {
    Status.SUBMITTED: "requested",
    Status.TRIAGED: "received",
    Status.ACCEPTED: "accepted",
    Status.ACTION_TAKEN: "in-progress",
    Status.NEEDS_INFO: "on-hold",
    Status.CLOSED: "completed",
    Status.NOT_LOW_VALUE: "rejected",
    Status.DUPLICATE: "cancelled",
}


def task_id(flag: Flag) -> str:
    return resource_id(flag.id, RESOURCE_TYPE)


def _person(base_url: str, people: People, staff_id: uuid.UUID) -> Reference:
    person = people.get(staff_id)
    name = person.name if person is not None else "(not in the staff directory)"
    return references.staff(base_url, name, person.id if person is not None else None)


def _owner(base_url: str, flag: Flag, people: People) -> tuple[Reference | None, list[CareTeam]]:
    """Task.owner, and the contained CareTeam it points at when the owner is a dyad."""
    if flag.owner_lead_id is None:
        return None, []
    lead = _person(base_url, people, flag.owner_lead_id)
    if flag.owner_operational_lead_id is None:
        return lead, []
    operational = _person(base_url, people, flag.owner_operational_lead_id)
    dyad = CareTeam(
        id=_DYAD,
        status="active",
        name="Clinical and operational lead dyad",
        participant=[
            CareTeamParticipant(role=[CodeableConcept(text="Clinical lead")], member=lead),
            CareTeamParticipant(
                role=[CodeableConcept(text="Operational lead")], member=operational
            ),
        ],
    )
    return Reference(reference=f"#{_DYAD}", type="CareTeam", display=dyad.name), [dyad]


def _status_reason(flag: Flag) -> CodeableConcept | None:
    if flag.status == Status.DUPLICATE and flag.duplicate_of_id is not None:
        return CodeableConcept(text=f"Duplicate of flag {flag.duplicate_of_id}")
    if flag.status == Status.NEEDS_INFO:
        return CodeableConcept(text="Waiting for the reporter's answer")
    return None


def task(base_url: str, flag: Flag, people: People) -> Task:
    """The flag's follow-up; ``people`` holds its owners (``owners.people_for``)."""
    owner, contained = _owner(base_url, flag, people)
    return Task(
        id=task_id(flag),
        contained=contained or None,
        identifier=[references.flag_identifier(base_url, flag.id)],
        status=TASK_STATUS[Status(flag.status)],
        statusReason=_status_reason(flag),
        businessStatus=concept(base_url, CodeSystemId.STATUS, flag.status),
        intent="order",
        description="Review the low-value flag and close the loop with the reporter.",
        focus=references.local(DETECTED_ISSUE, detected_issue_id(flag)),
        for_fhir=references.patient(flag),
        authoredOn=flag.created_at,
        lastModified=flag.updated_at,
        requester=references.reporter(flag),
        owner=owner,
        extension=[
            Extension(
                url=extension_url(base_url, PRIORITY_EXTENSION),
                valueCoding=coding(base_url, CodeSystemId.PRIORITY, flag.priority),
            )
        ],
    )
