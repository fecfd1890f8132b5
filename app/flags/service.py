"""Taking flags in and reading them: creating a flag idempotently, one flag and its timeline,
pages of flags, a flag's likely originals. Changing a flag is :mod:`app.flags.review`.

Functions here change the session's objects and flush; they never commit. The request's session
dependency commits once the whole change (flag, timeline events, audit rows) is in place.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.flags import hooks, repository
from app.flags.anonymity import identity_kept, reporter_name
from app.flags.errors import ConcurrentCreate, FlagNotFound, IdempotencyKeyReused
from app.flags.filters import FlagFilters
from app.flags.models import EventKind, Flag, FlagEvent
from app.flags.schemas import FlagCreate
from app.flags.workflow import Status
from app.kit.pagination import Cursor, InvalidCursor
from app.kit.time import utcnow, week_start


@dataclass(frozen=True)
class Created:
    flag: Flag
    created: bool
    receipt_token: str | None = None


def _fingerprint(data: FlagCreate) -> str:
    """What makes a retry "the same request". For anonymous flags the reporter's identity is
    left out: the fingerprint is stored, and must not let anyone re-identify the reporter by
    hashing candidate practitioners."""
    # The rule agreement is the server's own finding, not the client's request: a retry made
    # after the rules could read more history is still the same request.
    exclude: dict[str, Any] = {"idempotency_key": True, "rule_agreement": True}
    if not identity_kept(data.anonymity):
        exclude["reporter"] = {"fhir_user", "display", "email", "department"}
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


def _reporter_columns(data: FlagCreate) -> dict[str, Any]:
    """Anonymous means not stored at all: only the role survives, for the statistics."""
    kept = identity_kept(data.anonymity)
    reporter = data.reporter
    return dict(
        reporter_fhir_user=reporter.fhir_user if kept else None,
        reporter_display=reporter.display if kept else None,
        reporter_email=reporter.email if kept else None,
        reporter_role=reporter.role,
        reporter_department=reporter.department if kept else None,
    )


def flag_row(
    data: FlagCreate,
    *,
    organization_id: uuid.UUID,
    now: datetime,
    fingerprint: str,
    receipt_hash: str | None,
) -> dict[str, Any]:
    """The columns of the flag ``data`` submits, as it stands when submitted: the one place a
    flag's snapshot becomes its row (for :func:`create_flag`, and for the synthetic flags of
    ``app.demo.synthetic``, which are written in bulk). ``organization_id`` is the server's
    (the launch's EHR registration), never the submitter's."""
    kept = identity_kept(data.anonymity)
    reporter = data.reporter
    encounter = data.encounter
    cost = data.estimated_cost
    return dict(
        created_at=now,
        created_week=week_start(now),
        updated_at=now,
        organization_id=organization_id,
        issuer=data.issuer,
        idempotency_key=data.idempotency_key,
        idempotency_scope=reporter.fhir_user if kept else "",
        request_fingerprint=fingerprint,
        anonymity=data.anonymity,
        **_reporter_columns(data),
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
        rule_agreement=None
        if data.rule_agreement is None
        else [agreement.model_dump(mode="json") for agreement in data.rule_agreement],
    )


async def create_flag(
    session: AsyncSession, data: FlagCreate, *, organization_id: uuid.UUID, secret_key: str
) -> Created:
    """Record a flag once per idempotency key: a retry returns the flag the first call made.

    ``organization_id``: the organization of the EHR or CDS client it came from.
    ``secret_key`` signs anonymous reporters' receipts.
    """
    kept = identity_kept(data.anonymity)
    receipt = None if kept else receipt_for(data, secret_key=secret_key)
    fingerprint = _fingerprint(data)
    now = utcnow()
    flag = Flag(
        **flag_row(
            data,
            organization_id=organization_id,
            now=now,
            fingerprint=fingerprint,
            receipt_hash=hash_receipt(receipt) if receipt else None,
        )
    )
    if not await repository.insert_unless_key_taken(session, flag):
        return _the_earlier_flag(
            await repository.by_idempotency_key(
                session, issuer=data.issuer, scope=flag.idempotency_scope, key=data.idempotency_key
            ),
            fingerprint,
            receipt,
        )
    event = FlagEvent(
        flag_id=flag.id,
        at=now,
        kind=EventKind.CREATED,
        actor_name=reporter_name(data.anonymity, data.reporter.display),
        actor_role=data.reporter.role,
        to_status=Status.SUBMITTED,
    )
    repository.add(session, event)
    await hooks.announce_events(session, flag, [event])
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


@dataclass(frozen=True)
class Page:
    flags: Sequence[Flag]
    next_cursor: str | None


async def page(
    session: AsyncSession,
    filters: FlagFilters,
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


# --- the dashboard -----------------------------------------------------------------------------

DUPLICATE_CANDIDATES = 20


async def duplicate_candidates(session: AsyncSession, flag_id: uuid.UUID) -> Sequence[Flag]:
    """The flags most likely to be the original of this one, oldest first."""
    flag = await get_flag(session, flag_id)
    return await repository.duplicate_candidates(session, flag, limit=DUPLICATE_CANDIDATES)
