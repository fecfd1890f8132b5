"""Moving an improvement along its workflow (app/improvements/catalog.py), with what each move
does beyond the status:

- approving an EHR build sends the informatics team its change request (routing.py), once;
- going live records the go-live date and closes every linked loop: each linked flag's
  reporter gets the reply ("your flag contributed to this change") through the flag's usual
  reply path (so the reporter's email and the webhooks follow, app/notifications/), and each
  flag still under review moves on to "action taken" with it (closing.py);
- declining keeps the reason; a declined improvement can be proposed again.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.flags.review import Actor
from app.improvements import closing, repository, routing
from app.improvements.catalog import (
    OWNERS_REQUIRED,
    ROUTED_TO_INFORMATICS,
    ImprovementStatus,
    Kind,
    allowed_from,
)
from app.improvements.errors import (
    ImprovementNotFound,
    ImprovementRequirementMissing,
    InvalidImprovementTransition,
)
from app.improvements.models import Improvement, ImprovementEventKind
from app.improvements.schemas import ImprovementTransitionIn
from app.improvements.service import Versions, check_version, event
from app.kit.time import utcnow


def _check(improvement: Improvement, change: ImprovementTransitionIn, today: date) -> None:
    """Refuse a move the workflow does not allow, or one without what it needs."""
    current, target = ImprovementStatus(improvement.status), change.to
    allowed = allowed_from(current)
    if target not in allowed:
        choices = ", ".join(status.value for status in allowed) or "nothing (it is finished)"
        raise InvalidImprovementTransition(
            f"An improvement in status '{current.value}' cannot move to '{target.value}'. "
            f"From '{current.value}' it can move to: {choices}.",
            allowed_transitions=[status.value for status in allowed],
        )
    if target in OWNERS_REQUIRED and improvement.clinical_lead_id is None:
        raise ImprovementRequirementMissing(
            f"Moving an improvement to '{target.value}' needs its owners: set 'owners' (the "
            "clinical lead and the operational lead) first."
        )
    live = target is ImprovementStatus.LIVE
    if live and (change.go_live is None or change.reply is None):
        raise ImprovementRequirementMissing(
            "Going live needs 'go_live' (the date the change went live) and 'reply' (what "
            "changed, sent to every reporter of a linked flag)."
        )
    # A date is a day where the organization is; the latest calendar day anywhere is at
    # most one ahead of UTC's, so "today" there is never refused.
    if live and change.go_live is not None and change.go_live > today + timedelta(days=1):
        raise ImprovementRequirementMissing(
            f"'go_live' ({change.go_live}) is in the future: move the improvement to live on "
            "or after the day the change goes live."
        )
    if not live and (change.go_live is not None or change.reply is not None):
        raise ImprovementRequirementMissing("'go_live' and 'reply' only go with a move to 'live'.")
    declined = target is ImprovementStatus.DECLINED
    if declined != (change.reason is not None):
        raise ImprovementRequirementMissing(
            "Declining needs a 'reason' (it stays on the timeline)."
            if declined
            else "'reason' only goes with a move to 'declined'."
        )


async def transition(
    session: AsyncSession,
    improvement_id: uuid.UUID,
    change: ImprovementTransitionIn,
    *,
    actor: Actor,
    dashboard_url: str,
    if_match: Versions = None,
) -> Improvement:
    """Move the improvement, with everything the move does, in the caller's transaction."""
    improvement = await repository.lock(session, improvement_id)
    if improvement is None:
        raise ImprovementNotFound(f"No improvement with id {improvement_id}.")
    check_version(improvement, if_match)
    now = utcnow()
    _check(improvement, change, now.date())
    from_status = improvement.status
    # Claim the improvement before anything else is written: a move made by someone else
    # since it was read is refused here (on SQLite, whose reads take no lock, this write waits
    # for theirs), so a go-live's replies are never sent twice.
    improvement.status = change.to
    improvement.updated_at = now
    improvement.declined_reason = change.reason
    await repository.save(session, improvement)
    details: dict[str, Any] = {}
    if change.to is ImprovementStatus.LIVE:
        assert change.go_live is not None  # checked above
        assert change.reply is not None
        improvement.go_live = change.go_live
        details["go_live"] = change.go_live.isoformat()
        details |= await closing.close_loops(session, improvement, change.reply, actor=actor)
    repository.add(
        session,
        event(
            improvement,
            actor,
            ImprovementEventKind.STATUS_CHANGE,
            now,
            from_status=from_status,
            to_status=change.to.value,
            body=change.reply or change.reason,
            details=details or None,
        ),
    )
    if change.to is ImprovementStatus.APPROVED:
        await _route(session, improvement, actor=actor, dashboard_url=dashboard_url)
    await repository.save(session, improvement)
    return improvement


async def _route(
    session: AsyncSession, improvement: Improvement, *, actor: Actor, dashboard_url: str
) -> None:
    """Send an approved EHR build's change request to informatics, the first time only."""
    if Kind(improvement.kind) not in ROUTED_TO_INFORMATICS or improvement.requested_at:
        return
    sent = await routing.request_change(session, improvement, dashboard_url=dashboard_url)
    now = utcnow()
    # With no endpoint subscribed nothing was sent: the timeline says so (the page tells the
    # team to subscribe one), and the improvement is not marked as requested.
    improvement.requested_at = now if sent else None
    repository.add(
        session,
        event(
            improvement,
            actor,
            ImprovementEventKind.CHANGE_REQUESTED,
            now,
            details={"endpoints": sent},
        ),
    )
