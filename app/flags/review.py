"""Working a flag: the workflow's moves, comments, replies to the reporter, assignment, and
priority and tags, on one flag or (all or none) on many.

Every change is checked against the version the caller based it on, and leaves events on the
flag's timeline. Functions here change the session's objects and flush; they never commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import PreconditionFailed
from app.flags import hooks, owners, repository, shareable
from app.flags.errors import (
    BulkChangeRefused,
    FlagNotFound,
    InvalidDuplicate,
    InvalidTransition,
    TransitionRequirementMissing,
    UnshareableReply,
)
from app.flags.models import EventKind, Flag, FlagEvent
from app.flags.owners import CheckedOwner
from app.flags.schemas import (
    BulkItem,
    BulkOwnerIn,
    BulkTransitionIn,
    ClassificationIn,
    FlagPatch,
    OwnerIn,
    TransitionIn,
)
from app.flags.service import get_flag
from app.flags.workflow import (
    END_STATES,
    OWNER_REQUIRED,
    REPLY_REQUIRED,
    Status,
    allowed_from,
    is_allowed,
)
from app.kit.time import utcnow


@dataclass(frozen=True)
class Actor:
    """Who did something to a flag, as the timeline shows it; ``staff_id`` when the actor is a
    person in the staff directory (not a service token)."""

    name: str
    role: str
    staff_id: uuid.UUID | None = None


# What a write does to a flag at a moment: changes it and returns the timeline events that say
# so (none when nothing changed).
Change = Callable[[Flag, datetime], list[FlagEvent]]
# The versions a change may apply to (from If-Match); None sets no condition.
Versions = frozenset[int] | None


async def _flag_at_version(session: AsyncSession, flag_id: uuid.UUID, if_match: Versions) -> Flag:
    """The flag, if it is still at one of the versions the caller based the change on.

    ``if_match`` is None when the caller set no condition.
    """
    flag = await get_flag(session, flag_id)
    if if_match is not None and flag.version not in if_match:
        based_on = ", ".join(str(version) for version in sorted(if_match))
        raise PreconditionFailed(
            f"This flag changed since you loaded it (you have version {based_on}, it is "
            f"now at version {flag.version}). Reload it, check the change, and try again."
        )
    return flag


def _event(
    flag: Flag,
    actor: Actor,
    kind: EventKind,
    now: datetime,
    *,
    from_status: Status | None = None,
    to_status: Status | None = None,
    body: str | None = None,
    visible_to_reporter: bool = False,
    details: dict[str, Any] | None = None,
    status_seconds: float | None = None,
) -> FlagEvent:
    return FlagEvent(
        flag_id=flag.id,
        at=now,
        kind=kind,
        actor_name=actor.name,
        actor_role=actor.role,
        actor_staff_id=actor.staff_id,
        from_status=from_status,
        to_status=to_status,
        body=body,
        visible_to_reporter=visible_to_reporter,
        details=details,
        status_seconds=status_seconds,
    )


def _comment_event(flag: Flag, actor: Actor, body: str, now: datetime) -> FlagEvent:
    return _event(flag, actor, EventKind.COMMENT, now, body=body)


def _reply_event(
    flag: Flag, actor: Actor, body: str, now: datetime, *, shareable: bool = False
) -> FlagEvent:
    """A reply to the reporter; a ``shareable`` one (already checked, app.flags.shareable) may
    be quoted in the transparency report."""
    if flag.first_reply_at is None:
        flag.first_reply_at = now
        flag.reply_wait_seconds = (now - flag.created_at).total_seconds()
    details = {"shareable": True} if shareable else None
    return _event(
        flag, actor, EventKind.REPLY, now, body=body, visible_to_reporter=True, details=details
    )


def _assignment_event(flag: Flag, actor: Actor, owner: CheckedOwner, now: datetime) -> FlagEvent:
    """Give the flag its owner. The event keeps each person's name as it was then (history
    reads the same after a rename) beside their staff id."""
    lead, operational = owner.lead, owner.operational_lead
    flag.owner_lead_id = lead.id
    flag.owner_operational_lead_id = operational.id if operational else None
    details: dict[str, Any]
    if operational is None:
        details = {"lead": lead.name, "lead_id": str(lead.id)}
    else:
        details = {
            "clinical_lead": lead.name,
            "clinical_lead_id": str(lead.id),
            "operational_lead": operational.name,
            "operational_lead_id": str(operational.id),
        }
    return _event(flag, actor, EventKind.ASSIGNMENT, now, details=details)


async def _duplicate_of(
    session: AsyncSession, flag: Flag, change: TransitionIn
) -> uuid.UUID | None:
    """The original a move to duplicate names, checked; None for any other move."""
    original_id = change.duplicate_of
    if change.to is not Status.DUPLICATE:
        if original_id is not None:
            raise TransitionRequirementMissing(
                "'duplicate_of' only goes with a move to 'duplicate'; leave it out."
            )
        return None
    if original_id is None:
        raise TransitionRequirementMissing(
            "Marking a flag as duplicate needs 'duplicate_of': the id of the original flag."
        )
    if original_id == flag.id:
        raise InvalidDuplicate("A flag cannot be a duplicate of itself.")
    original = await repository.get(session, original_id)
    if original is None:
        raise InvalidDuplicate(f"'duplicate_of' names no existing flag ({original_id}).")
    if original.status == Status.DUPLICATE and original.duplicate_of_id is not None:
        raise InvalidDuplicate(
            f"Flag {original_id} is itself a duplicate; mark this one as a duplicate of "
            f"{original.duplicate_of_id} instead."
        )
    return original_id


def _check_move(flag: Flag, current: Status, change: TransitionIn) -> None:
    """Refuse a move the workflow does not allow, or one without the reply or owner it needs."""
    target = change.to
    if not is_allowed(current, target):
        allowed = ", ".join(status.value for status in allowed_from(current))
        raise InvalidTransition(
            f"A flag in status '{current.value}' cannot move to '{target.value}'. "
            f"From '{current.value}' it can move to: {allowed}.",
            allowed_transitions=[status.value for status in allowed_from(current)],
        )
    if target in REPLY_REQUIRED and change.reply is None:
        raise TransitionRequirementMissing(
            f"Moving a flag to '{target.value}' needs a 'reply' to the reporter: say what was "
            "decided and why (closing the loop is what keeps clinicians reporting)."
        )
    if target in OWNER_REQUIRED and change.owner is None and flag.owner_lead_id is None:
        raise TransitionRequirementMissing(
            f"Moving a flag to '{target.value}' needs an owner: give 'owner' with a 'lead', or "
            "a 'clinical_lead' and 'operational_lead' dyad."
        )


def _move(
    flag: Flag,
    change: TransitionIn,
    checks: tuple[uuid.UUID | None, CheckedOwner | None],
    actor: Actor,
    now: datetime,
    entered: datetime,
) -> list[FlagEvent]:
    """Move the flag, and the timeline of the move: assignment, status change, comment, reply.

    ``checks`` are the checked original (duplicates) and owner the move names; ``entered`` is
    when the flag entered the status it leaves: the stay goes on the event.
    """
    duplicate_of, owner = checks
    events: list[FlagEvent] = []
    if owner is not None:
        events.append(_assignment_event(flag, actor, owner, now))
    events.append(
        _event(
            flag,
            actor,
            EventKind.STATUS_CHANGE,
            now,
            from_status=Status(flag.status),
            to_status=change.to,
            details={"duplicate_of": str(duplicate_of)} if duplicate_of else None,
            status_seconds=(now - entered).total_seconds(),
        )
    )
    if change.comment is not None:
        events.append(_comment_event(flag, actor, change.comment, now))
    if change.reply is not None:
        events.append(
            _reply_event(flag, actor, change.reply, now, shareable=change.reply_shareable)
        )
    flag.status = change.to
    flag.duplicate_of_id = duplicate_of
    _stamp_end(flag, change.to, now)
    return events


def _stamp_end(flag: Flag, status: Status, now: datetime) -> None:
    """An ended review keeps when it ended and how long that took (stored for the median time
    to close, in the same write as the move); a reopened flag is open again."""
    ended = status in END_STATES
    flag.closed_at = now if ended else None
    flag.close_wait_seconds = (now - flag.created_at).total_seconds() if ended else None


async def _record(session: AsyncSession, flag: Flag, change: Change) -> Flag:
    """Apply ``change`` now, put its events on the timeline and save the flag; a change that
    makes no events leaves the flag as it was."""
    now = utcnow()
    events = change(flag, now)
    if events:
        repository.add(session, *events)
        flag.updated_at = now
        await repository.save(session, flag)
        # After the save: the flag's row is locked by this write, so what one write to a flag
        # enqueues is stored before what the next write to it does (app/notifications/outbox.py).
        await hooks.announce_events(session, flag, events)
    return flag


async def _write(
    session: AsyncSession, flag_id: uuid.UUID, if_match: Versions, change: Change
) -> Flag:
    """The one body of the simple writes: the flag at the caller's version, changed."""
    return await _record(session, await _flag_at_version(session, flag_id, if_match), change)


async def transition(
    session: AsyncSession,
    flag_id: uuid.UUID,
    change: TransitionIn,
    *,
    actor: Actor,
    if_match: Versions,
) -> Flag:
    """Move a flag to another status, with whatever that move requires, in one step."""
    flag = await _flag_at_version(session, flag_id, if_match)
    _check_move(flag, Status(flag.status), change)
    if change.reply is not None and change.reply_shareable:
        await shareable.check(session, flag, change.reply)
    duplicate_of = await _duplicate_of(session, flag, change)
    owner = await owners.checked(session, change.owner) if change.owner is not None else None
    entered = await repository.status_entered_at(session, flag)
    return await _record(
        session,
        flag,
        lambda flag, now: _move(flag, change, (duplicate_of, owner), actor, now, entered),
    )


async def comment(
    session: AsyncSession, flag_id: uuid.UUID, body: str, *, actor: Actor, if_match: Versions
) -> Flag:
    """An internal note on the timeline; the reporter does not see it."""
    return await _write(
        session, flag_id, if_match, lambda flag, now: [_comment_event(flag, actor, body, now)]
    )


async def reply(
    session: AsyncSession,
    flag_id: uuid.UUID,
    body: str,
    *,
    actor: Actor,
    if_match: Versions,
    shareable_reply: bool = False,
) -> Flag:
    """A message to the reporter, shown to them the next time they open ValueLoop; a
    ``shareable_reply`` is checked for patient and clinician data before it is stored."""
    flag = await _flag_at_version(session, flag_id, if_match)
    if shareable_reply:
        await shareable.check(session, flag, body)
    return await _record(
        session,
        flag,
        lambda flag, now: [_reply_event(flag, actor, body, now, shareable=shareable_reply)],
    )


async def assign(
    session: AsyncSession,
    flag_id: uuid.UUID,
    owner: OwnerIn | CheckedOwner,
    *,
    actor: Actor,
    if_match: Versions,
) -> Flag:
    """Give the flag a lead or a dyad from the staff directory (known, active people only).
    Who to tell: ``owners.owners_of(session, flag)`` on the flag this returns."""
    flag = await _flag_at_version(session, flag_id, if_match)
    checked = owner if isinstance(owner, CheckedOwner) else await owners.checked(session, owner)
    return await _record(
        session, flag, lambda flag, now: [_assignment_event(flag, actor, checked, now)]
    )


async def update(
    session: AsyncSession, flag_id: uuid.UUID, patch: FlagPatch, *, actor: Actor, if_match: Versions
) -> Flag:
    """Change priority or tags; the old and new values go on the timeline."""
    return await _write(
        session, flag_id, if_match, lambda flag, now: _update_events(flag, patch, actor, now)
    )


def _update_events(flag: Flag, patch: FlagPatch, actor: Actor, now: datetime) -> list[FlagEvent]:
    changes: dict[str, object] = {}
    if patch.priority is not None and patch.priority != flag.priority:
        changes["priority"] = {"from": flag.priority, "to": patch.priority.value}
        flag.priority = patch.priority
    if patch.tags is not None and list(patch.tags) != list(flag.tags):
        changes["tags"] = {"from": list(flag.tags), "to": list(patch.tags)}
        flag.tags = list(patch.tags)
    if not changes:
        return []
    return [_event(flag, actor, EventKind.UPDATE, now, details=changes)]


async def reclassify(
    session: AsyncSession,
    flag_id: uuid.UUID,
    change: ClassificationIn,
    *,
    actor: Actor,
    if_match: Versions,
) -> Flag:
    """The team's reading of the reason and suspected driver. The flag's columns take the new
    values (statistics group on them); the timeline keeps every earlier value, so nothing the
    reporter said is lost."""
    return await _write(
        session, flag_id, if_match, lambda flag, now: _reclassification(flag, change, actor, now)
    )


def _reclassification(
    flag: Flag, change: ClassificationIn, actor: Actor, now: datetime
) -> list[FlagEvent]:
    changes: dict[str, object] = {}
    if change.reason is not None and change.reason != flag.reason:
        changes["reason"] = {"from": flag.reason, "to": change.reason.value}
        flag.reason = change.reason
    driver = None if change.clear_driver else change.driver
    if (change.clear_driver or driver is not None) and driver != flag.driver:
        changes["driver"] = {"from": flag.driver, "to": driver.value if driver else None}
        flag.driver = driver
    if not changes:
        return []
    kind = EventKind.RECLASSIFICATION
    return [_event(flag, actor, kind, now, body=change.comment, details=changes)]


# --- many flags at once ---------------------------------------------------------------------


async def _bulk_flags(session: AsyncSession, items: Sequence[BulkItem]) -> list[Flag]:
    """The flags of a bulk change, each still at the version the caller saw.

    Checked for all flags before anything changes, so a conflict names every flag that moved
    on, not just the first.
    """
    found = await repository.get_many(session, [item.id for item in items])
    missing = [str(item.id) for item in items if item.id not in found]
    if missing:
        raise FlagNotFound(f"No flag with id {', '.join(missing)}.", missing=missing)
    conflicts = [
        {
            "id": str(item.id),
            "expected_version": item.version,
            "current_version": found[item.id].version,
        }
        for item in items
        if found[item.id].version != item.version
    ]
    if conflicts:
        raise PreconditionFailed(
            f"{len(conflicts)} of the {len(items)} flags changed since you loaded them; nothing "
            "was changed. Reload the list and try again.",
            conflicts=conflicts,
        )
    return [found[item.id] for item in items]


async def _apply_to_each(
    flags: Sequence[Flag], change: Callable[[Flag], Awaitable[Flag]]
) -> list[Flag]:
    """Apply ``change`` to every flag and collect every refusal; any refusal refuses the whole
    change (the caller's transaction is rolled back, so nothing is half-done)."""
    changed: list[Flag] = []
    failures: list[dict[str, str]] = []
    for flag in flags:
        try:
            changed.append(await change(flag))
        except (
            InvalidTransition,
            TransitionRequirementMissing,
            InvalidDuplicate,
            UnshareableReply,
        ) as exc:
            failures.append({"id": str(flag.id), "detail": str(exc)})
    if failures:
        raise BulkChangeRefused(
            f"{len(failures)} of the {len(flags)} flags cannot take this change; nothing was "
            "changed. " + failures[0]["detail"],
            failures=failures,
        )
    return changed


async def bulk_transition(
    session: AsyncSession, change: BulkTransitionIn, *, actor: Actor
) -> list[Flag]:
    """Move many flags at once (e.g. triage a morning's new flags): all or none."""
    flags = await _bulk_flags(session, change.items)
    single = TransitionIn.model_validate(change.model_dump(exclude={"items"}))
    return await _apply_to_each(
        flags,
        lambda flag: transition(
            session, flag.id, single, actor=actor, if_match=frozenset({flag.version})
        ),
    )


async def bulk_assign(session: AsyncSession, change: BulkOwnerIn, *, actor: Actor) -> list[Flag]:
    """Give many flags the same lead or dyad: all or none."""
    flags = await _bulk_flags(session, change.items)
    owner = await owners.checked(session, change.owner)
    return await _apply_to_each(
        flags,
        lambda flag: assign(
            session, flag.id, owner, actor=actor, if_match=frozenset({flag.version})
        ),
    )
