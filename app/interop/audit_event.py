"""The audit trail's rows as FHIR R4 AuditEvents (auditevent.html, 4.0.1), for the security
team's SIEM.

==========================  ===================================================================
our action                  type / subtype / action
==========================  ===================================================================
read                        audit-event-type ``rest`` / restful-interaction ``read`` / R
search                      ``rest`` / ``search-type`` / E (R4 AuditEventAction: a query is E)
create                      ``rest`` / ``create`` / C
update                      ``rest`` / ``update`` / U
export                      DICOM 110106 Export / - / R
sign_in, sign_out           DICOM 110114 User Authentication / 110122 Login, 110123 Logout / E
refuse                      DICOM 110113 Security Alert / - / E, outcome 4 (minor failure)
==========================  ===================================================================

recorded is the row's time; outcome is 0 (success) except for refusals: a row is written in the
transaction of the work it records, so a failed request leaves none. agent.who is the actor as
the trail names it (staff name and token or session id, a clinician's fhirUser, a CDS client's
issuer), requestor true, with its address as agent.network (type 2, IP address). source
observer is ValueLoop (security-source-type 4, application server). entity.what is the flag by
its registry id (as the DetectedIssue's identifier), the patient whose chart was read, or the
record named by type and id; a search or export adds its filters as entity.query (base64 JSON)
and the flags it listed. The request id has no AuditEvent element and stays in our CSV.
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from typing import Any

from fhir.resources.R4B.auditevent import (
    AuditEvent as FhirAuditEvent,
)
from fhir.resources.R4B.auditevent import (
    AuditEventAgent,
    AuditEventAgentNetwork,
    AuditEventEntity,
    AuditEventSource,
)
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.coding import Coding
from fhir.resources.R4B.reference import Reference

from app.audit.models import AuditEvent
from app.audit.repository import FLAG_ENTITY, PATIENT_ENTITY
from app.audit.service import AuditAction
from app.interop import references

AUDIT_TYPES = "http://terminology.hl7.org/CodeSystem/audit-event-type"
DICOM = "http://dicom.nema.org/resources/ontology/DCM"
RESTFUL = "http://hl7.org/fhir/restful-interaction"
ENTITY_TYPES = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
OBJECT_ROLES = "http://terminology.hl7.org/CodeSystem/object-role"
SOURCE_TYPES = "http://terminology.hl7.org/CodeSystem/security-source-type"
SUCCESS, MINOR_FAILURE = "0", "4"
# Details keys that list the flags a search or duplicate check showed (app/flags/router.py).
_LISTED_FLAGS = ("flag_ids", "duplicate_candidates")

_REST = Coding(system=AUDIT_TYPES, code="rest", display="RESTful Operation")
_USER_AUTHENTICATION = Coding(system=DICOM, code="110114", display="User Authentication")


@dataclass(frozen=True)
class _Kind:
    type: Coding
    subtype: Coding | None
    action: str  # AuditEventAction: C | R | U | D | E
    outcome: str = SUCCESS


def _rest(code: str, display: str, action: str) -> _Kind:
    return _Kind(_REST, Coding(system=RESTFUL, code=code, display=display), action)


_KINDS: dict[str, _Kind] = {
    AuditAction.READ: _rest("read", "read", "R"),
    AuditAction.SEARCH: _rest("search-type", "search type", "E"),
    AuditAction.CREATE: _rest("create", "create", "C"),
    AuditAction.UPDATE: _rest("update", "update", "U"),
    AuditAction.EXPORT: _Kind(Coding(system=DICOM, code="110106", display="Export"), None, "R"),
    AuditAction.SIGN_IN: _Kind(
        _USER_AUTHENTICATION, Coding(system=DICOM, code="110122", display="Login"), "E"
    ),
    AuditAction.SIGN_OUT: _Kind(
        _USER_AUTHENTICATION, Coding(system=DICOM, code="110123", display="Logout"), "E"
    ),
    AuditAction.REFUSE: _Kind(
        Coding(system=DICOM, code="110113", display="Security Alert"), None, "E", MINOR_FAILURE
    ),
}
# A row whose action this version does not know: a RESTful execute, said no more precisely.
_UNKNOWN = _Kind(_REST, None, "E")


def _entity_type(code: str, display: str) -> Coding:
    return Coding(system=ENTITY_TYPES, code=code, display=display)


def _flag_entity(base_url: str, flag_id: str, *, query: str | None = None) -> AuditEventEntity:
    return AuditEventEntity(
        what=Reference(identifier=references.flag_identifier(base_url, flag_id)),
        type=_entity_type("2", "System Object"),
        query=query,
    )


def _main_entity(base_url: str, event: AuditEvent) -> AuditEventEntity:
    """What the row is about: a flag, a patient's chart, or another record by type and id."""
    if event.entity_type == FLAG_ENTITY and event.entity_id:
        return _flag_entity(base_url, event.entity_id, query=_query(event))
    if event.entity_type == PATIENT_ENTITY and event.entity_id:
        return AuditEventEntity(
            what=Reference(reference=f"Patient/{event.entity_id}"),
            type=_entity_type("1", "Person"),
            role=Coding(system=OBJECT_ROLES, code="1", display="Patient"),
            query=_query(event),
        )
    named = f"{event.entity_type} {event.entity_id}" if event.entity_id else event.entity_type
    return AuditEventEntity(
        what=Reference(display=named), type=_entity_type("2", "System Object"), query=_query(event)
    )


def _query(event: AuditEvent) -> str | None:
    """A search's or an export's filters, as entity.query (base64Binary). sev-1: an entity has
    a name or a query, never both; ours have no name."""
    filters = (event.details or {}).get("filters")
    if not filters:  # none given: the search or export was of everything
        return None
    text = json.dumps(filters, ensure_ascii=False, sort_keys=True)
    return base64.b64encode(text.encode()).decode()


def _listed_flags(base_url: str, details: dict[str, Any] | None) -> list[AuditEventEntity]:
    """The flags a search or a duplicate check listed: what was disclosed, one entity each."""
    listed: list[AuditEventEntity] = []
    for key in _LISTED_FLAGS:
        for flag_id in (details or {}).get(key) or []:
            if _is_uuid(flag_id):
                listed.append(_flag_entity(base_url, flag_id))
    return listed


def _is_uuid(value: object) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _agent(event: AuditEvent) -> AuditEventAgent:
    return AuditEventAgent(
        type=CodeableConcept(text=event.actor_kind),
        role=[CodeableConcept(text=event.actor_role)],
        who=Reference(display=event.actor_id),
        requestor=True,
        network=AuditEventAgentNetwork(address=event.source_ip, type="2")
        if event.source_ip
        else None,
    )


def audit_event(base_url: str, event: AuditEvent) -> FhirAuditEvent:
    """One audit row as an AuditEvent; its id is the row's id."""
    kind = _KINDS.get(event.action, _UNKNOWN)
    return FhirAuditEvent(
        id=str(event.id),
        type=kind.type,
        subtype=[kind.subtype] if kind.subtype else None,
        action=kind.action,
        recorded=event.at,
        outcome=kind.outcome,
        agent=[_agent(event)],
        source=AuditEventSource(
            site=base_url,
            observer=Reference(display="ValueLoop"),
            type=[Coding(system=SOURCE_TYPES, code="4", display="Application Server")],
        ),
        entity=[_main_entity(base_url, event), *_listed_flags(base_url, event.details)],
    )
