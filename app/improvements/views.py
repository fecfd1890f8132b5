"""Improvements as the API shows them (stored rows to response schemas)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from app.flags.costs import cents_to_amount
from app.flags.owners import People
from app.flags.schemas import FlagSummary
from app.improvements.catalog import ImprovementStatus, Kind
from app.improvements.models import (
    EVENT_KIND_LABELS,
    NOT_SENT_LABEL,
    Improvement,
    ImprovementEventKind,
)
from app.improvements.models import ImprovementEvent as StoredEvent
from app.improvements.repository import AtStake
from app.improvements.schemas import (
    Evidence,
    ImprovementDetail,
    ImprovementEvent,
    ImprovementSummary,
    Owners,
    Person,
    Target,
)


def _owners(improvement: Improvement, people: People) -> Owners | None:
    clinical = people.get(improvement.clinical_lead_id) if improvement.clinical_lead_id else None
    operational = (
        people.get(improvement.operational_lead_id) if improvement.operational_lead_id else None
    )
    if clinical is None or operational is None:
        return None
    return Owners(
        clinical_lead=Person(id=clinical.id, name=clinical.name),
        operational_lead=Person(id=operational.id, name=operational.name),
    )


def owner_ids(improvements: Sequence[Improvement]) -> list[uuid.UUID]:
    return [
        staff_id
        for improvement in improvements
        for staff_id in (improvement.clinical_lead_id, improvement.operational_lead_id)
        if staff_id is not None
    ]


def summary(improvement: Improvement, stake: AtStake, people: People) -> ImprovementSummary:
    return ImprovementSummary(
        id=improvement.id,
        organization_id=improvement.organization_id,
        created_at=improvement.created_at,
        updated_at=improvement.updated_at,
        version=improvement.version,
        title=improvement.title,
        kind=Kind(improvement.kind),
        status=ImprovementStatus(improvement.status),
        targets=[Target(**target) for target in improvement.targets],
        rules=list(improvement.rules),
        owners=_owners(improvement, people),
        go_live=improvement.go_live,
        ticket_reference=improvement.ticket_reference,
        requested_at=improvement.requested_at,
        flag_count=stake.flags,
        cost_at_stake=cents_to_amount(stake.cost_cents),
    )


def _label(stored: StoredEvent) -> str:
    kind = ImprovementEventKind(stored.kind)
    if kind is ImprovementEventKind.CHANGE_REQUESTED and not (stored.details or {}).get(
        "endpoints"
    ):
        return NOT_SENT_LABEL
    return EVENT_KIND_LABELS[kind]


def timeline_event(stored: StoredEvent) -> ImprovementEvent:
    return ImprovementEvent(
        at=stored.at,
        kind=stored.kind,
        label=_label(stored),
        actor_name=stored.actor_name,
        actor_role=stored.actor_role,
        from_status=ImprovementStatus(stored.from_status) if stored.from_status else None,
        to_status=ImprovementStatus(stored.to_status) if stored.to_status else None,
        body=stored.body,
        details=stored.details,
    )


def detail(
    improvement: Improvement,
    *,
    people: People,
    evidence: Evidence,
    flags: Sequence[FlagSummary],
    events: Sequence[StoredEvent],
) -> ImprovementDetail:
    stake = AtStake(flags=evidence.flag_count, cost_cents=int(evidence.cost_at_stake * 100))
    return ImprovementDetail(
        **summary(improvement, stake, people).model_dump(),
        notes=improvement.notes,
        declined_reason=improvement.declined_reason,
        evidence=evidence,
        flags=list(flags),
        timeline=[timeline_event(stored) for stored in events],
    )
