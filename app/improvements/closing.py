"""Closing every linked loop when an improvement goes live.

Each linked flag's reporter is told what changed, through the flag's own reply path
(app/flags/review.py), so it reaches them as any reply does: on the in-EHR "what happened"
view, by email when they gave one, and to the webhooks. A flag still under review moves on to
"action taken" with that reply, along the workflow's own steps (a new flag is triaged and
accepted first, owned by the improvement's dyad unless it has an owner); a flag whose review
already ended keeps its status and gets the reply. Anonymous reporters read the reply with
their receipt.

All or nothing, in the go-live's transaction.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.flags import review
from app.flags.models import Flag
from app.flags.review import Actor
from app.flags.schemas import OwnerIn, TransitionIn
from app.flags.workflow import Status
from app.improvements import repository
from app.improvements.models import Improvement

# The steps that take a flag in each status to "action taken".
_STEPS_TO_ACTION: dict[Status, tuple[Status, ...]] = {
    Status.SUBMITTED: (Status.TRIAGED, Status.ACCEPTED, Status.ACTION_TAKEN),
    Status.TRIAGED: (Status.ACCEPTED, Status.ACTION_TAKEN),
    Status.NEEDS_INFO: (Status.ACCEPTED, Status.ACTION_TAKEN),
    Status.ACCEPTED: (Status.ACTION_TAKEN,),
}


def _dyad(improvement: Improvement) -> OwnerIn:
    # Going live needs owners (app/improvements/workflow.py), and they are always a dyad.
    assert improvement.clinical_lead_id is not None
    assert improvement.operational_lead_id is not None
    return OwnerIn(
        clinical_lead=improvement.clinical_lead_id,
        operational_lead=improvement.operational_lead_id,
    )


async def carry(
    session: AsyncSession, flag: Flag, improvement: Improvement, reply: str, actor: Actor
) -> bool:
    """Move ``flag`` on to "action taken" with ``reply`` (True), or only reply to its reporter
    when its review is past that point (False)."""
    steps = _STEPS_TO_ACTION.get(Status(flag.status), ())
    if not steps:
        await review.reply(session, flag.id, reply, actor=actor, if_match=None)
        return False
    note = f"Moved on by the improvement '{improvement.title}' going live."
    for step in steps:
        needs_owner = step is Status.ACCEPTED and flag.owner_lead_id is None
        last = step is steps[-1]
        change = TransitionIn(
            to=step,
            owner=_dyad(improvement) if needs_owner else None,
            reply=reply if last else None,
            comment=note if last else None,
        )
        flag = await review.transition(session, flag.id, change, actor=actor, if_match=None)
    return True


async def close_loops(
    session: AsyncSession, improvement: Improvement, reply: str, *, actor: Actor
) -> dict[str, int]:
    """Reply to every linked flag's reporter and move the flags on; what was done, counted
    (for the timeline)."""
    flags = await repository.linked_flags(session, improvement.id)
    moved = 0
    for flag in flags:
        moved += await carry(session, flag, improvement, reply, actor)
    identified = {flag.reporter_fhir_user for flag in flags if flag.reporter_fhir_user}
    return {"flags_replied": len(flags), "flags_moved": moved, "reporters": len(identified)}
