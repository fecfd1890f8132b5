"""Each reply to the reporter as a FHIR R4 Communication (communication.html, 4.0.1).

==============  ===========================================================================
Communication   from the reply (a timeline event of kind ``reply``)
==============  ===========================================================================
status          ``completed``: the reply was stored, and shown to the reporter in the app
category        ``reply`` (CodeSystem ``valueloop-flag-event``): a message to the reporter
subject         the patient the flagged order is for
partOf          the follow-up Task (R4: "part of this action")
about           the DetectedIssue
sent            when the team replied
recipient       the reporter's fhirUser, only for identified flags (else left out)
sender          the staff member, by name and staff id
payload         the reply's text (contentString)
==============  ===========================================================================

Internal comments are never exported: the reporter does not see them, and neither should a
receiver of the reporter's messages.
"""

from __future__ import annotations

from collections.abc import Sequence

from fhir.resources.R4B.communication import Communication, CommunicationPayload

from app.flags.models import EventKind, Flag, FlagEvent
from app.interop import references
from app.interop.codesystems import CodeSystemId, concept
from app.interop.detected_issue import RESOURCE_TYPE as DETECTED_ISSUE
from app.interop.detected_issue import detected_issue_id
from app.interop.ids import resource_id
from app.interop.task import RESOURCE_TYPE as TASK
from app.interop.task import task_id
from app.interop.text import fhir_string

RESOURCE_TYPE = "Communication"


def communication_id(flag: Flag, event: FlagEvent) -> str:
    return resource_id(flag.id, RESOURCE_TYPE, event.id)


def is_reply(event: FlagEvent) -> bool:
    return event.kind == EventKind.REPLY and event.visible_to_reporter


def communication(base_url: str, flag: Flag, event: FlagEvent) -> Communication:
    recipient = references.reporter(flag)
    body = fhir_string(event.body)
    return Communication(
        id=communication_id(flag, event),
        identifier=[references.flag_identifier(base_url, flag.id)],
        status="completed",
        category=[concept(base_url, CodeSystemId.EVENT, EventKind.REPLY)],
        subject=references.patient(flag),
        partOf=[references.local(TASK, task_id(flag))],
        about=[references.local(DETECTED_ISSUE, detected_issue_id(flag))],
        sent=event.at,
        recipient=[recipient] if recipient else None,
        sender=references.staff(base_url, event.actor_name, event.actor_staff_id),
        payload=[CommunicationPayload(contentString=body)] if body else None,
    )


def communications(base_url: str, flag: Flag, events: Sequence[FlagEvent]) -> list[Communication]:
    """One Communication per reply, oldest first."""
    return [communication(base_url, flag, event) for event in events if is_reply(event)]
