"""Improvement work: proposing it, naming its owners, linking the flags it answers, and the
flags that look like one another ("start from this flag and its likely siblings").

The status workflow (with the change request to informatics and the replies at go-live) is
app/improvements/workflow.py. Functions here change the session's objects and flush; they
never commit (the request's session dependency owns the transaction).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import PreconditionFailed
from app.flags import owners, shareable
from app.flags import repository as flags_repository
from app.flags.errors import OwnerNotAssignable
from app.flags.models import Flag
from app.flags.review import Actor
from app.flags.schemas import OwnerIn
from app.flags.service import get_flag
from app.flags.workflow import Status
from app.improvements import closing, repository, targets
from app.improvements.catalog import WENT_LIVE, ImprovementStatus
from app.improvements.errors import (
    FlagAlreadyLinked,
    FlagNotLinkable,
    ImprovementNotFound,
)
from app.improvements.models import (
    Improvement,
    ImprovementEvent,
    ImprovementEventKind,
    ImprovementFlag,
)
from app.improvements.schemas import ImprovementIn, ImprovementPatch, LinkIn
from app.kit.time import utcnow
from app.organizations import service as organizations
from app.organizations.models import DEFAULT_ORGANIZATION_ID

SIBLING_DAYS = 90
MAX_SIBLINGS = 200


def event(
    improvement: Improvement,
    actor: Actor,
    kind: ImprovementEventKind,
    now: datetime,
    **fields: Any,
) -> ImprovementEvent:
    """A timeline entry; ``fields`` are the event's optional columns (body, details, ...)."""
    return ImprovementEvent(
        improvement_id=improvement.id,
        at=now,
        kind=kind,
        actor_name=actor.name,
        actor_role=actor.role,
        actor_staff_id=actor.staff_id,
        **fields,
    )


# The versions a write may apply to (from If-Match); None sets no condition.
Versions = frozenset[int] | None


async def get(
    session: AsyncSession, improvement_id: uuid.UUID, *, if_match: Versions = None
) -> Improvement:
    """The improvement, if it is still at one of the versions the caller based a change on."""
    improvement = await repository.get(session, improvement_id)
    if improvement is None:
        raise ImprovementNotFound(f"No improvement with id {improvement_id}.")
    check_version(improvement, if_match)
    return improvement


def check_version(improvement: Improvement, if_match: Versions) -> None:
    if if_match is not None and improvement.version not in if_match:
        raise PreconditionFailed(
            f"This improvement changed since you loaded it (it is now at version "
            f"{improvement.version}). Reload it, check the change, and try again."
        )


async def checked_owners(
    session: AsyncSession, owner_ids: Sequence[uuid.UUID], organization_id: uuid.UUID
) -> owners.CheckedOwner:
    """The dyad ``[clinical lead, operational lead]``: known, active people of the
    improvement's organization (or the system level)."""
    dyad = await owners.checked(
        session, OwnerIn(clinical_lead=owner_ids[0], operational_lead=owner_ids[1])
    )
    outsiders = [
        person.name
        for person in dyad.people
        if person.organization_id not in (None, organization_id)
    ]
    if outsiders:
        raise OwnerNotAssignable(
            f"{', '.join(outsiders)}: of another organization, so cannot own this "
            "organization's improvement work; choose people of its organization."
        )
    return dyad


def _set_owners(improvement: Improvement, dyad: owners.CheckedOwner) -> dict[str, str]:
    operational = dyad.operational_lead
    assert operational is not None, "an improvement's owners are always a dyad"
    improvement.clinical_lead_id = dyad.lead.id
    improvement.operational_lead_id = operational.id
    return {"clinical_lead": dyad.lead.name, "operational_lead": operational.name}


async def organization_for(
    session: AsyncSession, body: ImprovementIn, caller_organization: uuid.UUID | None
) -> uuid.UUID:
    """Whose work a new improvement is: the caller's organization; for the system level, the
    one named, else the first flag's, else the default organization."""
    if caller_organization is not None:
        return caller_organization
    if body.organization is not None:
        return (await organizations.by_code(session, body.organization)).id
    if body.flag_ids:
        first = await flags_repository.get(session, body.flag_ids[0])
        if first is not None:
            return first.organization_id
    return DEFAULT_ORGANIZATION_ID


async def create(
    session: AsyncSession, body: ImprovementIn, *, actor: Actor, organization_id: uuid.UUID
) -> Improvement:
    """Propose an improvement (and link the flags it starts from, all or none)."""
    now = utcnow()
    improvement = Improvement(
        organization_id=organization_id,
        created_at=now,
        updated_at=now,
        title=body.title,
        kind=body.kind,
        status=ImprovementStatus.PROPOSED,
        notes=body.notes,
        targets=[{"system": t.system, "code": t.code} for t in body.targets],
        rules=targets.checked_rules(body.rules),
    )
    details: dict[str, Any] = {"kind": body.kind.value}
    if body.owners:
        details |= _set_owners(
            improvement, await checked_owners(session, body.owners, organization_id)
        )
    created = event(improvement, actor, ImprovementEventKind.CREATED, now, details=details)
    repository.add(session, improvement, created)
    await repository.save(session, improvement)
    if body.flag_ids:
        await link(session, improvement, LinkIn(flag_ids=body.flag_ids), actor=actor)
    return improvement


async def update(
    session: AsyncSession,
    improvement_id: uuid.UUID,
    patch: ImprovementPatch,
    *,
    actor: Actor,
    if_match: Versions = None,
) -> Improvement:
    """Change the title, notes, owners or ticket reference; old and new go on the timeline."""
    improvement = await get(session, improvement_id, if_match=if_match)
    changes: dict[str, Any] = {}
    for field in ("title", "notes", "ticket_reference"):
        value = getattr(patch, field)
        if field in patch.model_fields_set and value != getattr(improvement, field):
            changes[field] = {"from": getattr(improvement, field), "to": value}
            setattr(improvement, field, value)
    current = [improvement.clinical_lead_id, improvement.operational_lead_id]
    if patch.owners is not None and current != patch.owners:
        dyad = await checked_owners(session, patch.owners, improvement.organization_id)
        changes["owners"] = _set_owners(improvement, dyad)
    if changes:
        now = utcnow()
        improvement.updated_at = now
        repository.add(
            session, event(improvement, actor, ImprovementEventKind.UPDATE, now, details=changes)
        )
        await repository.save(session, improvement)
    return improvement


def _refusal(
    flag_id: uuid.UUID, found: dict[uuid.UUID, Flag], improvement: Improvement
) -> str | None:
    """Why the flag cannot be linked to ``improvement``; None when it can. Another
    organization's flag reads as unknown, as everywhere else."""
    flag = found.get(flag_id)
    if flag is None or flag.organization_id != improvement.organization_id:
        return f"No flag with id {flag_id}."
    if flag.status == Status.NOT_LOW_VALUE:
        return f"Flag {flag_id} was judged not low-value; it is not evidence for a change."
    return None


async def _linkable(
    session: AsyncSession, improvement: Improvement, flag_ids: Sequence[uuid.UUID]
) -> tuple[list[Flag], set[uuid.UUID]]:
    """The flags ``flag_ids`` names, and which of them are linked to the improvement already;
    refuses the whole request when one cannot be linked (unknown, another organization's, not
    low-value, or another improvement's)."""
    found = await repository.flags_by_id(session, flag_ids)
    refusals = [
        refusal for flag_id in flag_ids if (refusal := _refusal(flag_id, found, improvement))
    ]
    if refusals:
        raise FlagNotLinkable(" ".join(refusals), refusals=refusals)
    existing = await repository.links_of_flags(session, flag_ids)
    elsewhere = sorted(str(f) for f, owner in existing.items() if owner != improvement.id)
    if elsewhere:
        raise FlagAlreadyLinked(
            f"Flag {', '.join(elsewhere)} already belongs to another improvement; a flag is "
            "answered by one improvement.",
            flag_ids=elsewhere,
        )
    return [found[flag_id] for flag_id in dict.fromkeys(flag_ids)], set(existing)


async def _checked_shareable(
    session: AsyncSession, flags: Sequence[Flag], wanted: set[uuid.UUID]
) -> None:
    for flag in flags:
        if flag.id in wanted:
            if not flag.note:
                raise FlagNotLinkable(f"Flag {flag.id} has no note to share.")
            await shareable.check(session, flag, flag.note)


async def link(
    session: AsyncSession, improvement: Improvement, body: LinkIn, *, actor: Actor
) -> list[Flag]:
    """Link flags to the improvement (all or none), and mark the notes that may be shared;
    a flag linked to it already stays linked (its note can still be marked). Returns the
    newly linked flags."""
    if improvement.status == ImprovementStatus.DECLINED:
        raise FlagNotLinkable("This improvement was declined; propose it again to link flags.")
    requested, linked_here = await _linkable(session, improvement, body.flag_ids)
    shared = set(body.shareable_notes)
    await _checked_shareable(session, requested, shared)
    now = utcnow()
    marked = await _mark_shared(session, improvement, shared & linked_here)
    flags = [flag for flag in requested if flag.id not in linked_here]
    if not flags:
        if marked:
            repository.add(session, _linked_event(improvement, actor, now, [], marked))
        return []
    repository.add(
        session,
        *(
            ImprovementFlag(
                flag_id=flag.id,
                improvement_id=improvement.id,
                organization_id=improvement.organization_id,
                linked_at=now,
                note_shareable=flag.id in shared,
            )
            for flag in flags
        ),
        _linked_event(improvement, actor, now, flags, marked + len(shared - linked_here)),
    )
    improvement.updated_at = now
    await repository.save(session, improvement)
    if improvement.status in WENT_LIVE:
        await _close_late_loops(session, improvement, flags, actor=actor)
    return flags


def _linked_event(
    improvement: Improvement, actor: Actor, now: datetime, flags: Sequence[Flag], shared: int
) -> ImprovementEvent:
    details: dict[str, Any] = {"count": len(flags), "flag_ids": [str(flag.id) for flag in flags]}
    if shared:
        details["shared_notes"] = shared
    return event(improvement, actor, ImprovementEventKind.FLAGS_LINKED, now, details=details)


async def _mark_shared(
    session: AsyncSession, improvement: Improvement, flag_ids: set[uuid.UUID]
) -> int:
    """Mark the notes of flags already linked as shareable; how many were newly marked."""
    newly = [
        link
        for link in await repository.links(session, improvement.id)
        if link.flag_id in flag_ids and not link.note_shareable
    ]
    for link in newly:
        link.note_shareable = True
    return len(newly)


async def _close_late_loops(
    session: AsyncSession, improvement: Improvement, flags: Sequence[Flag], *, actor: Actor
) -> None:
    """Flags linked after go-live hear what changed as the others did."""
    reply = await repository.live_reply(session, improvement.id)
    if reply is None:
        return
    for flag in flags:
        await closing.carry(session, flag, improvement, reply, actor)


async def siblings(session: AsyncSession, flag_id: uuid.UUID) -> Sequence[Flag]:
    """The flag's likely siblings: unlinked flags of the same department in the last
    90 days on the same order code or judged by one of the same rules."""
    flag = await get_flag(session, flag_id)
    rule_ids = [agreed["rule_id"] for agreed in flag.rule_agreement or [] if "rule_id" in agreed]
    found = await repository.siblings(
        session,
        flag,
        since=utcnow() - timedelta(days=SIBLING_DAYS),
        rule_ids=rule_ids,
        limit=MAX_SIBLINGS,
    )
    return found
