"""Routing an EHR build to the informatics team: the change request.

When an improvement of a kind the informatics team builds (app/improvements/catalog.py) is
approved, ValueLoop sends an ``improvement.requested`` event to every webhook endpoint that
subscribed to it (the ticketing system's), through the outbox, in the approval's own
transaction: a rolled-back approval requests nothing, and a failed delivery is retried and
ends in the dead letters like any other (app/notifications/). The body is the improvement's
evidence, which holds no patient data (app/improvements/evidence.py), and a link to its page,
where the informatics owner signs in to see the same evidence. The ticket they open comes back
as the improvement's ``ticket_reference`` (PATCH /api/v1/improvements/{id}).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.improvements.catalog import KIND_LABELS, Kind
from app.improvements.evidence import evidence
from app.improvements.models import Improvement
from app.notifications import outbox, webhooks
from app.organizations import repository as organizations

EVENT = "improvement.requested"


async def change_request(
    session: AsyncSession, improvement: Improvement, *, dashboard_url: str
) -> dict[str, Any]:
    """The body of the change request (Standard Webhooks' ``data``)."""
    found = await evidence(session, improvement)
    organization = await organizations.by_id(session, improvement.organization_id)
    return {
        "improvement_id": str(improvement.id),
        "url": f"{dashboard_url}/dashboard/improvements/{improvement.id}",
        "title": improvement.title,
        "kind": improvement.kind,
        "kind_label": KIND_LABELS[Kind(improvement.kind)],
        "organization": organization.code if organization else None,
        "targets": list(improvement.targets),
        "rules": list(improvement.rules),
        "evidence": found.model_dump(mode="json"),
    }


async def request_change(
    session: AsyncSession, improvement: Improvement, *, dashboard_url: str
) -> int:
    """Put the change request in the outbox for every subscribed endpoint; how many."""
    data = await change_request(session, improvement, dashboard_url=dashboard_url)
    planned = await webhooks.plan_event(
        session, EVENT, data, organization_id=improvement.organization_id
    )
    await outbox.enqueue(session, planned)
    return len(planned)
