"""The registry's rules: creating flags idempotently and moving them through the workflow.

Functions here change the session's objects and flush; they never commit. The request's session
dependency commits once the whole change (flag, timeline events, audit rows) is in place.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import PreconditionFailed
from app.kit.pagination import Cursor, InvalidCursor
from app.kit.time import utcnow, week_start
from app.registry import repository
from app.registry.catalog import Anonymity
from app.registry.errors import (
    BulkChangeRefused,
    ConcurrentCreate,
    FlagNotFound,
    IdempotencyKeyReused,
    InvalidDuplicate,
    InvalidTransition,
    TransitionRequirementMissing,
)
from app.registry.models import Flag, FlagEvent
from app.registry.schemas import (
    BulkItem,
    BulkOwnerIn,
    BulkTransitionIn,
    FlagCreate,
    FlagPatch,
    OwnerIn,
    TransitionIn,
)
from app.registry.workflow import (
    OWNER_REQUIRED,
    REPLY_REQUIRED,
    Status,
    allowed_from,
    is_allowed,
)


class EventKind(StrEnum):
    CREATED = "created"
    STATUS_CHANGE = "status_change"
    COMMENT = "comment"
    REPLY = "reply"
    ASSIGNMENT = "assignment"
    UPDATE = "update"


@dataclass(frozen=True)
class Actor:
    """Who did something to a flag, as the timeline shows it."""

    name: str
    role: str


@dataclass(frozen=True)
class Created:
    flag: Flag
    created: bool
    receipt_token: str | None = None


# How the timeline names a reporter whose identity is hidden from readers.
HIDDEN_REPORTER_NAMES = {
    Anonymity.CONFIDENTIAL: "Confidential reporter",
    Anonymity.ANONYMOUS: "Anonymous reporter",
}


def _fingerprint(data: FlagCreate) -> str:
    """What makes a retry "the same request". For anonymous flags the reporter's identity is
    left out: the fingerprint is stored, and must not let anyone re-identify the reporter by
    hashing candidate practitioners."""
    exclude: dict[str, Any] = {"idempotency_key": True}
    if data.anonymity is Anonymity.ANONYMOUS:
        exclude["reporter"] = {"fhir_user", "display", "department"}
    payload = data.model_dump(mode="json", exclude=exclude)
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def receipt_for(data: FlagCreate, *, secret_key: str) -> str:
    """The anonymous reporter's receipt: derived, not random, so a retry of a request whose
    response was lost gets the same receipt back. Only the client knows its idempotency key,
    and only the server knows the key that signs it."""
    message = f"receipt|{data.issuer}|{data.idempotency_key}".encode()
    digest = hmac.new(secret_key.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def hash_receipt(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_flag(
    data: FlagCreate, *, now: datetime, fingerprint: str, receipt_hash: str | None
) -> Flag:
    anonymous = data.anonymity is Anonymity.ANONYMOUS
    reporter = data.reporter
    encounter = data.encounter
    cost = data.estimated_cost
    return Flag(
        created_at=now,
        created_week=week_start(now),
        updated_at=now,
        issuer=data.issuer,
        idempotency_key=data.idempotency_key,
        idempotency_scope="" if anonymous else reporter.fhir_user,
        request_fingerprint=fingerprint,
        anonymity=data.anonymity,
        # Anonymous means not stored at all: only the role survives, for the statistics.
        reporter_fhir_user=None if anonymous else reporter.fhir_user,
        reporter_display=None if anonymous else reporter.display,
        reporter_role=reporter.role,
        reporter_department=None if anonymous else reporter.department,
        receipt_token_hash=receipt_hash,
        patient_fhir_id=data.patient.fhir_id,
        patient_age_band=data.patient.age_band,
        patient_sex=data.patient.sex,
        encounter_fhir_id=encounter.fhir_id if encounter else None,
        encounter_class=encounter.class_code if encounter else None,
        encounter_type=encounter.type if encounter else None,
        department=encounter.department if encounter else None,
        encounter_start=encounter.start if encounter else None,
        encounter_end=encounter.end if encounter else None,
        order_resource_type=data.order.resource_type,
        order_fhir_id=data.order.fhir_id,
        order_code_system=data.order.code.system,
        order_code=data.order.code.code,
        order_display=data.order.code.display,
        order_status=data.order.status,
        order_intent=data.order.intent,
        order_authored_on=data.order.authored_on,
        order_requester_role=data.order.requester_role,
        timing=data.timing,
        reason=data.reason,
        driver=data.driver,
        note=data.note or None,
        estimated_cost_cents=int(cost.amount * 100) if cost else None,
        cost_source=cost.source if cost else None,
        cost_year=cost.year if cost else None,
        status=Status.SUBMITTED,
        priority=data.priority,
        tags=list(data.tags),
    )


async def create_flag(session: AsyncSession, data: FlagCreate, *, secret_key: str) -> Created:
    """Record a flag once per idempotency key: a retry returns the flag the first call made.

    ``secret_key`` signs anonymous reporters' receipts.
    """
    anonymous = data.anonymity is Anonymity.ANONYMOUS
    receipt = receipt_for(data, secret_key=secret_key) if anonymous else None
    scope = "" if anonymous else data.reporter.fhir_user
    fingerprint = _fingerprint(data)
    now = utcnow()
    flag = _new_flag(
        data,
        now=now,
        fingerprint=fingerprint,
        receipt_hash=hash_receipt(receipt) if receipt else None,
    )
    if not await repository.insert_unless_key_taken(session, flag):
        return _the_earlier_flag(
            await repository.by_idempotency_key(
                session, issuer=data.issuer, scope=scope, key=data.idempotency_key
            ),
            fingerprint,
            receipt,
        )
    actor_name = HIDDEN_REPORTER_NAMES.get(data.anonymity) or data.reporter.display or "Reporter"
    event = FlagEvent(
        flag_id=flag.id,
        at=now,
        kind=EventKind.CREATED,
        actor_name=actor_name,
        actor_role=data.reporter.role,
        to_status=Status.SUBMITTED,
    )
    repository.add(session, event)
    return Created(flag=flag, created=True, receipt_token=receipt)


def _the_earlier_flag(existing: Flag | None, fingerprint: str, receipt: str | None) -> Created:
    """A retry of a flag already made with this key: that flag, if it is the same request."""
    if existing is None:
        # The insert found the key taken, so the flag exists; not seeing it means the other
        # transaction is not visible yet (cannot happen on PostgreSQL's read committed).
        raise ConcurrentCreate(
            "Another request with the same idempotency key is being saved. Retry in a moment; "
            "the retry returns that flag."
        )
    if existing.request_fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            "This idempotency key was already used for a different flag. Generate a new "
            "key for each new flag; reuse a key only to retry the same request."
        )
    return Created(flag=existing, created=False, receipt_token=receipt)


async def get_flag(session: AsyncSession, flag_id: uuid.UUID) -> Flag:
    flag = await repository.get(session, flag_id)
    if flag is None:
        raise FlagNotFound(f"No flag with id {flag_id}.")
    return flag


async def timeline(session: AsyncSession, flag: Flag) -> Sequence[FlagEvent]:
    return await repository.timeline(session, flag.id)


async def _flag_at_version(
    session: AsyncSession, flag_id: uuid.UUID, if_match: frozenset[int] | None
) -> Flag:
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
) -> FlagEvent:
    return FlagEvent(
        flag_id=flag.id,
        at=now,
        kind=kind,
        actor_name=actor.name,
        actor_role=actor.role,
        from_status=from_status,
        to_status=to_status,
        body=body,
        visible_to_reporter=visible_to_reporter,
        details=details,
    )


def _reply_event(flag: Flag, actor: Actor, body: str, now: datetime) -> FlagEvent:
    if flag.first_reply_at is None:
        flag.first_reply_at = now
        flag.reply_wait_seconds = (now - flag.created_at).total_seconds()
    return _event(flag, actor, EventKind.REPLY, now, body=body, visible_to_reporter=True)


def _assignment_event(flag: Flag, actor: Actor, owner: OwnerIn, now: datetime) -> FlagEvent:
    details: dict[str, Any]
    if owner.lead is not None:
        flag.owner_lead, flag.owner_operational_lead = owner.lead, None
        details = {"lead": owner.lead}
    else:
        flag.owner_lead, flag.owner_operational_lead = owner.clinical_lead, owner.operational_lead
        details = {"clinical_lead": owner.clinical_lead, "operational_lead": owner.operational_lead}
    return _event(flag, actor, EventKind.ASSIGNMENT, now, details=details)


async def _check_duplicate_target(
    session: AsyncSession, flag: Flag, original_id: uuid.UUID | None
) -> uuid.UUID:
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


async def transition(
    session: AsyncSession,
    flag_id: uuid.UUID,
    change: TransitionIn,
    *,
    actor: Actor,
    if_match: frozenset[int] | None,
) -> Flag:
    """Move a flag to another status, with whatever that move requires, in one step."""
    flag = await _flag_at_version(session, flag_id, if_match)
    current, target = Status(flag.status), change.to
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
    if target in OWNER_REQUIRED and change.owner is None and flag.owner_lead is None:
        raise TransitionRequirementMissing(
            f"Moving a flag to '{target.value}' needs an owner: give 'owner' with a 'lead', or "
            "a 'clinical_lead' and 'operational_lead' dyad."
        )
    duplicate_of = None
    if target is Status.DUPLICATE:
        duplicate_of = await _check_duplicate_target(session, flag, change.duplicate_of)
    elif change.duplicate_of is not None:
        raise TransitionRequirementMissing(
            "'duplicate_of' only goes with a move to 'duplicate'; leave it out."
        )

    now = utcnow()
    events: list[FlagEvent] = []
    if change.owner is not None:
        events.append(_assignment_event(flag, actor, change.owner, now))
    events.append(
        _event(
            flag,
            actor,
            EventKind.STATUS_CHANGE,
            now,
            from_status=current,
            to_status=target,
            details={"duplicate_of": str(duplicate_of)} if duplicate_of else None,
        )
    )
    if change.comment is not None:
        events.append(_event(flag, actor, EventKind.COMMENT, now, body=change.comment))
    if change.reply is not None:
        events.append(_reply_event(flag, actor, change.reply, now))
    flag.status = target
    flag.duplicate_of_id = duplicate_of
    flag.updated_at = now
    repository.add(session, *events)
    await repository.save(session, flag)
    return flag


async def comment(
    session: AsyncSession,
    flag_id: uuid.UUID,
    body: str,
    *,
    actor: Actor,
    if_match: frozenset[int] | None,
) -> Flag:
    """An internal note on the timeline; the reporter does not see it."""
    flag = await _flag_at_version(session, flag_id, if_match)
    now = utcnow()
    repository.add(session, _event(flag, actor, EventKind.COMMENT, now, body=body))
    flag.updated_at = now
    await repository.save(session, flag)
    return flag


async def reply(
    session: AsyncSession,
    flag_id: uuid.UUID,
    body: str,
    *,
    actor: Actor,
    if_match: frozenset[int] | None,
) -> Flag:
    """A message to the reporter, shown to them the next time they open ValueLoop."""
    flag = await _flag_at_version(session, flag_id, if_match)
    now = utcnow()
    repository.add(session, _reply_event(flag, actor, body, now))
    flag.updated_at = now
    await repository.save(session, flag)
    return flag


async def assign(
    session: AsyncSession,
    flag_id: uuid.UUID,
    owner: OwnerIn,
    *,
    actor: Actor,
    if_match: frozenset[int] | None,
) -> Flag:
    flag = await _flag_at_version(session, flag_id, if_match)
    now = utcnow()
    repository.add(session, _assignment_event(flag, actor, owner, now))
    flag.updated_at = now
    await repository.save(session, flag)
    return flag


async def update(
    session: AsyncSession,
    flag_id: uuid.UUID,
    patch: FlagPatch,
    *,
    actor: Actor,
    if_match: frozenset[int] | None,
) -> Flag:
    """Change priority or tags; the old and new values go on the timeline."""
    flag = await _flag_at_version(session, flag_id, if_match)
    changes: dict[str, object] = {}
    if patch.priority is not None and patch.priority != flag.priority:
        changes["priority"] = {"from": flag.priority, "to": patch.priority.value}
        flag.priority = patch.priority
    if patch.tags is not None and list(patch.tags) != list(flag.tags):
        changes["tags"] = {"from": list(flag.tags), "to": list(patch.tags)}
        flag.tags = list(patch.tags)
    if not changes:
        return flag
    now = utcnow()
    repository.add(session, _event(flag, actor, EventKind.UPDATE, now, details=changes))
    flag.updated_at = now
    await repository.save(session, flag)
    return flag


@dataclass(frozen=True)
class Page:
    flags: Sequence[Flag]
    next_cursor: str | None


async def page(
    session: AsyncSession,
    filters: repository.FlagFilters,
    *,
    sort: repository.FlagSort,
    limit: int,
    cursor: str | None,
) -> Page:
    """One page of flags after ``cursor``, and the cursor of the page after it."""
    new_first = sort is repository.FlagSort.NEW_FIRST
    after_values: list[object] | None = None
    if cursor is not None:
        values = Cursor.decode(cursor, expected_sort=sort.value, arity=3 if new_first else 2).values
        rank, (sort_value, flag_id) = (values[0], values[1:]) if new_first else (None, values)
        try:
            moment = datetime.fromisoformat(str(sort_value))
            after_values = [moment, uuid.UUID(str(flag_id))]
        except ValueError as exc:
            raise InvalidCursor("The cursor is damaged. Start again from the first page.") from exc
        if moment.tzinfo is None or (new_first and (isinstance(rank, bool) or rank not in (0, 1))):
            raise InvalidCursor("The cursor is damaged. Start again from the first page.")
        if new_first:
            after_values.insert(0, rank)
    # One row more than asked tells whether another page exists, without a count.
    rows = await repository.page(
        session, filters, sort=sort, limit=limit + 1, after_values=after_values
    )
    flags = rows[:limit]
    next_cursor = None
    if len(rows) > limit:
        last = flags[-1]
        last_value = last.updated_at if sort.by_update_time else last.created_at
        values = [last_value.isoformat(), str(last.id)]
        if new_first:
            values.insert(0, 1 if last.status == Status.SUBMITTED else 0)
        next_cursor = Cursor(sort=sort.value, values=values).encode()
    return Page(flags=flags, next_cursor=next_cursor)


# --- the dashboard: duplicates and bulk changes ------------------------------------------------

DUPLICATE_CANDIDATES = 20


async def duplicate_candidates(session: AsyncSession, flag_id: uuid.UUID) -> Sequence[Flag]:
    """The flags most likely to be the original of this one, oldest first."""
    flag = await get_flag(session, flag_id)
    return await repository.duplicate_candidates(session, flag, limit=DUPLICATE_CANDIDATES)


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
        except (InvalidTransition, TransitionRequirementMissing, InvalidDuplicate) as exc:
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
    return await _apply_to_each(
        flags,
        lambda flag: assign(
            session, flag.id, change.owner, actor=actor, if_match=frozenset({flag.version})
        ),
    )
