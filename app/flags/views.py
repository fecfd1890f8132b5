"""How a stored flag is shown to the quality team.

The one place that builds what a reader sees of a reporter (the rule itself is
:mod:`app.flags.anonymity`): a confidential or anonymous reporter's identity never leaves
here, whatever the caller's role.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from app.flags.anonymity import identity_hidden
from app.flags.catalog import (
    AdministrativeSex,
    AgeBand,
    Anonymity,
    OrderIntent,
    OrderResourceType,
    OrderStatus,
    ReporterRole,
)
from app.flags.costs import cents_to_amount
from app.flags.models import Flag, FlagEvent
from app.flags.owners import People
from app.flags.schemas import (
    Actor,
    Coding,
    Cost,
    Encounter,
    FlagDetail,
    FlagSummary,
    Order,
    Owner,
    Patient,
    Reporter,
    TimelineEvent,
)
from app.flags.workflow import Status, allowed_from
from app.kit import etags
from app.staff.schemas import StaffRef


def etag(flag: Flag) -> str:
    """The flag's entity tag (RFC 9110 section 8.8.3): changes whenever the flag does."""
    return etags.etag(flag.version)


def reporter(flag: Flag) -> Reporter:
    hidden = identity_hidden(flag.anonymity)
    return Reporter(
        anonymity=Anonymity(flag.anonymity),
        role=ReporterRole(flag.reporter_role),
        identity_hidden=hidden,
        fhir_user=None if hidden else flag.reporter_fhir_user,
        display=None if hidden else flag.reporter_display,
        email=None if hidden else flag.reporter_email,
        department=None if hidden else flag.reporter_department,
    )


def _person(people: People, staff_id: uuid.UUID) -> StaffRef:
    person = people.get(staff_id)
    if person is None:  # the foreign key keeps this from happening; say so rather than crash
        return StaffRef(id=staff_id, name="(not in the staff directory)", active=False)
    return StaffRef.of(person)


def owner(flag: Flag, people: People) -> Owner | None:
    """The flag's owner as people; ``people`` holds them (``owners.people_for``)."""
    if flag.owner_lead_id is None:
        return None
    if flag.owner_operational_lead_id is None:
        return Owner(kind="lead", lead=_person(people, flag.owner_lead_id))
    return Owner(
        kind="dyad",
        clinical_lead=_person(people, flag.owner_lead_id),
        operational_lead=_person(people, flag.owner_operational_lead_id),
    )


def _summary_fields(flag: Flag, people: People) -> dict[str, Any]:
    cost = None
    if flag.estimated_cost_cents is not None:
        cost = Cost(
            amount=cents_to_amount(flag.estimated_cost_cents),
            source=flag.cost_source,
            year=flag.cost_year,
        )
    return {
        "id": flag.id,
        "organization_id": flag.organization_id,
        "created_at": flag.created_at,
        "updated_at": flag.updated_at,
        "version": flag.version,
        "status": flag.status,
        "priority": flag.priority,
        "reason": flag.reason,
        "driver": flag.driver,
        "timing": flag.timing,
        "department": flag.department,
        "order": Order(
            resource_type=OrderResourceType(flag.order_resource_type),
            fhir_id=flag.order_fhir_id,
            code=Coding(
                system=flag.order_code_system, code=flag.order_code, display=flag.order_display
            ),
            status=OrderStatus(flag.order_status),
            intent=OrderIntent(flag.order_intent) if flag.order_intent else None,
            authored_on=flag.order_authored_on,
            requester_role=flag.order_requester_role,
        ),
        "reporter": reporter(flag),
        "owner": owner(flag, people),
        "estimated_cost": cost,
        "tags": list(flag.tags),
        "first_reply_at": flag.first_reply_at,
    }


def summary(flag: Flag, people: People) -> FlagSummary:
    return FlagSummary.model_validate(_summary_fields(flag, people))


def timeline_event(event: FlagEvent) -> TimelineEvent:
    assert event.id is not None, "events are read back after they are flushed"
    return TimelineEvent(
        id=event.id,
        at=event.at,
        kind=event.kind,
        actor=Actor(name=event.actor_name, role=event.actor_role, staff_id=event.actor_staff_id),
        from_status=Status(event.from_status) if event.from_status else None,
        to_status=Status(event.to_status) if event.to_status else None,
        body=event.body,
        visible_to_reporter=event.visible_to_reporter,
        details=event.details,
    )


def detail(flag: Flag, events: Sequence[FlagEvent], people: People) -> FlagDetail:
    return FlagDetail.model_validate(
        {
            **_summary_fields(flag, people),
            "issuer": flag.issuer,
            "patient": Patient(
                fhir_id=flag.patient_fhir_id,
                age_band=AgeBand(flag.patient_age_band) if flag.patient_age_band else None,
                sex=AdministrativeSex(flag.patient_sex) if flag.patient_sex else None,
            ),
            "encounter": Encounter(
                fhir_id=flag.encounter_fhir_id,
                class_code=flag.encounter_class,
                type=flag.encounter_type,
                department=flag.department,
                start=flag.encounter_start,
                end=flag.encounter_end,
            ),
            "note": flag.note,
            "duplicate_of": flag.duplicate_of_id,
            "rule_agreement": flag.rule_agreement,
            "allowed_transitions": allowed_from(Status(flag.status)),
            "timeline": [timeline_event(event) for event in events],
        }
    )
