"""Every query on flags and their timeline.

Filters are built once (:func:`conditions`) and shared by the list, the export and the
statistics, so a number on a chart and the rows behind it always agree. Where SQLite and
PostgreSQL differ (medians, time arithmetic) the difference is kept here.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, select

from app.errors import PreconditionFailed
from app.kit.pagination import after
from app.kit.time import utcnow
from app.registry.catalog import Anonymity
from app.registry.models import Flag, FlagEvent, ReporterReadMarker

IDENTITY_HIDDEN = (Anonymity.CONFIDENTIAL.value, Anonymity.ANONYMOUS.value)


# The triage queue's order: new (submitted) flags first. Written as literal SQL so it is exactly
# the expression of the PostgreSQL index ix_flag_new_first (migration 0005).
NEW_FIRST_RANK: ColumnElement[int] = sa.type_coerce(
    sa.literal_column("(CASE WHEN flag.status = 'submitted' THEN 1 ELSE 0 END)"), sa.Integer
)


class FlagSort(StrEnum):
    NEW_FIRST = "new_first"
    NEWEST = "-created_at"
    OLDEST = "created_at"
    RECENTLY_UPDATED = "-updated_at"
    LEAST_RECENTLY_UPDATED = "updated_at"

    @property
    def by_update_time(self) -> bool:
        return "updated_at" in self.value

    @property
    def column(self) -> Mapped[datetime]:
        return col(Flag.updated_at) if self.by_update_time else col(Flag.created_at)

    @property
    def descending(self) -> bool:
        return self.value.startswith("-") or self is FlagSort.NEW_FIRST

    def key(self) -> list[Any]:
        """The columns that order a page (last: the id, so the order is total)."""
        if self is FlagSort.NEW_FIRST:
            return [NEW_FIRST_RANK, col(Flag.created_at), col(Flag.id)]
        return [self.column, col(Flag.id)]


@dataclass(frozen=True)
class FlagFilters:
    """What a quality analyst can narrow flags down by. Empty fields do not filter."""

    status: Sequence[str] = ()
    reason: Sequence[str] = ()
    driver: Sequence[str] = ()
    priority: Sequence[str] = ()
    department: Sequence[str] = ()
    reporter_role: Sequence[str] = ()
    order_system: str | None = None
    order_code: str | None = None
    reporter: str | None = None
    owner: str | None = None
    assigned: bool | None = None
    answered: bool | None = None
    created_from: date | None = None
    created_to: date | None = None
    text: str | None = None

    def describe(self) -> dict[str, Any]:
        """The filters in use as plain JSON data, for the audit trail."""
        described: dict[str, Any] = {}
        for name, value in vars(self).items():
            if value is None or value == ():
                continue
            if isinstance(value, date):
                described[name] = value.isoformat()
            elif isinstance(value, tuple | list):
                described[name] = [str(item) for item in value]
            else:
                described[name] = value
        return described


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def conditions(filters: FlagFilters) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    for column, values in (
        (col(Flag.status), filters.status),
        (col(Flag.reason), filters.reason),
        (col(Flag.driver), filters.driver),
        (col(Flag.priority), filters.priority),
        (col(Flag.department), filters.department),
        (col(Flag.reporter_role), filters.reporter_role),
    ):
        if len(values) == 1:
            where.append(column == values[0])
        elif values:
            where.append(column.in_(list(values)))
    if filters.order_code is not None:
        where.append(col(Flag.order_code) == filters.order_code)
    if filters.order_system is not None:
        where.append(col(Flag.order_code_system) == filters.order_system)
    if filters.reporter is not None:
        # Only identified reporters can be found by name: filtering must not unmask the others.
        where.append(col(Flag.reporter_fhir_user) == filters.reporter)
        where.append(col(Flag.anonymity) == Anonymity.IDENTIFIED.value)
    if filters.owner is not None:
        where.append(
            sa.or_(
                col(Flag.owner_lead) == filters.owner,
                col(Flag.owner_operational_lead) == filters.owner,
            )
        )
    if filters.assigned is not None:
        owned = col(Flag.owner_lead)
        where.append(owned.is_not(None) if filters.assigned else owned.is_(None))
    if filters.answered is not None:
        replied = col(Flag.first_reply_at)
        where.append(replied.is_not(None) if filters.answered else replied.is_(None))
    if filters.created_from is not None:
        where.append(col(Flag.created_at) >= _start_of(filters.created_from))
    if filters.created_to is not None:
        where.append(col(Flag.created_at) < _start_of(filters.created_to + timedelta(days=1)))
    if filters.text:
        where.append(
            sa.or_(
                col(Flag.note).icontains(filters.text, autoescape=True),
                col(Flag.order_display).icontains(filters.text, autoescape=True),
            )
        )
    return where


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


# --- single flags ------------------------------------------------------------------------------


async def get(session: AsyncSession, flag_id: uuid.UUID) -> Flag | None:
    return await session.get(Flag, flag_id)


async def by_idempotency_key(
    session: AsyncSession, *, issuer: str, scope: str, key: str
) -> Flag | None:
    result = await session.scalars(
        select(Flag).where(
            col(Flag.issuer) == issuer,
            col(Flag.idempotency_scope) == scope,
            col(Flag.idempotency_key) == key,
        )
    )
    return result.first()


async def timeline(session: AsyncSession, flag_id: uuid.UUID) -> Sequence[FlagEvent]:
    result = await session.scalars(
        select(FlagEvent).where(col(FlagEvent.flag_id) == flag_id).order_by(col(FlagEvent.id))
    )
    return result.all()


def add(session: AsyncSession, *rows: Flag | FlagEvent) -> None:
    session.add_all(rows)


async def save(session: AsyncSession, flag: Flag) -> None:
    """Write the flag's changes now; a concurrent change since it was read is refused."""
    session.add(flag)
    try:
        await session.flush()
    except StaleDataError as exc:
        raise PreconditionFailed(
            "Someone else changed this flag while you were working on it. Reload it, check "
            "their change, and try again."
        ) from exc


async def insert_unless_key_taken(session: AsyncSession, flag: Flag) -> bool:
    """Insert a new flag unless its idempotency key is taken; True when this call inserted it.

    One statement and no lock: ``INSERT ... ON CONFLICT DO NOTHING`` on the key's unique
    constraint. On PostgreSQL a concurrent insert of the same key waits for the other
    transaction and then does nothing, so the caller finds that flag; SQLite has one writer
    at a time.
    """
    table = Flag.metadata.tables[Flag.__tablename__]
    values = {column.key: getattr(flag, column.key) for column in table.columns}
    result = await session.execute(_insert_unless_key_taken(_dialect(session)), [values])
    return result.first() is not None


@cache
def _insert_unless_key_taken(dialect: str) -> sa.Insert:
    """The statement, built once per dialect: the values go in as parameters, so it is also
    compiled once (a statement built with its values costs a cache key per call)."""
    table = Flag.metadata.tables[Flag.__tablename__]
    dialect_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        dialect_insert(table)
        .on_conflict_do_nothing(
            index_elements=[table.c.issuer, table.c.idempotency_scope, table.c.idempotency_key]
        )
        .returning(table.c.id)
    )


# --- lists and exports -------------------------------------------------------------------------


async def page(
    session: AsyncSession,
    filters: FlagFilters,
    *,
    sort: FlagSort,
    limit: int,
    after_values: Sequence[Any] | None,
) -> Sequence[Flag]:
    """One page in a stable order (sort column, then id), starting after a cursor."""
    key = sort.key()
    statement = select(Flag).where(*conditions(filters))
    if after_values is not None:
        statement = statement.where(after(key, after_values, descending=sort.descending))
    order = [c.desc() for c in key] if sort.descending else [c.asc() for c in key]
    result = await session.scalars(statement.order_by(*order).limit(limit))
    return result.all()


async def stream(
    session: AsyncSession, filters: FlagFilters, *, batch_size: int = 1000
) -> AsyncIterator[Flag]:
    """Every matching flag, oldest first, read in batches on a server-side cursor."""
    statement = (
        select(Flag)
        .where(*conditions(filters))
        .order_by(col(Flag.created_at), col(Flag.id))
        .execution_options(yield_per=batch_size)
    )
    result = await session.stream_scalars(statement)
    async for partition in result.partitions():
        for flag in partition:
            yield flag
            # Keep memory flat: nothing streamed stays in the identity map. (expunge_all would
            # also drop the map the still-open result is loading into.)
            session.expunge(flag)


# --- statistics --------------------------------------------------------------------------------


class Dimension(StrEnum):
    SERVICE = "service"
    REASON = "reason"
    DRIVER = "driver"
    DEPARTMENT = "department"


@dataclass(frozen=True)
class GroupCount:
    key: tuple[str | None, ...]
    label: str | None
    count: int
    cost_cents: int


def _group_columns(dimension: Dimension) -> list[Mapped[Any]]:
    if dimension is Dimension.SERVICE:
        return [col(Flag.order_code_system), col(Flag.order_code)]
    if dimension is Dimension.REASON:
        return [col(Flag.reason)]
    if dimension is Dimension.DRIVER:
        return [col(Flag.driver)]
    return [col(Flag.department)]


_COST = sa.func.coalesce(sa.func.sum(col(Flag.estimated_cost_cents)), 0)


async def counts_by(
    session: AsyncSession, dimension: Dimension, filters: FlagFilters
) -> list[GroupCount]:
    groups = _group_columns(dimension)
    label = sa.func.max(col(Flag.order_display)) if dimension is Dimension.SERVICE else sa.null()
    statement = (
        sa.select(*groups, label, sa.func.count(), _COST)
        .where(*conditions(filters))
        .group_by(*groups)
    )
    rows = (await session.execute(statement)).all()
    width = len(groups)
    return [
        GroupCount(
            key=tuple(row[:width]),
            label=row[width],
            count=row[width + 1],
            cost_cents=row[width + 2],
        )
        for row in rows
    ]


async def counts_by_week(
    session: AsyncSession, filters: FlagFilters
) -> list[tuple[date, int, int]]:
    week = col(Flag.created_week)
    statement = (
        sa.select(week, sa.func.count(), _COST)
        .where(*conditions(filters))
        .group_by(week)
        .order_by(week)
    )
    return [(row[0], row[1], row[2] or 0) for row in (await session.execute(statement)).all()]


@dataclass(frozen=True)
class LoopCounts:
    flags: int
    replied: int
    identifiable: int
    identifiable_replied: int
    median_seconds_to_first_reply: float | None


def _seconds_between(start: Any, end: Any, dialect: str) -> ColumnElement[Any]:
    if dialect == "postgresql":
        return sa.extract("epoch", end - start)
    return (sa.func.julianday(end) - sa.func.julianday(start)) * 86400.0


async def loop_counts(session: AsyncSession, filters: FlagFilters) -> LoopCounts:
    where = conditions(filters)
    replied = col(Flag.first_reply_at).is_not(None)
    identifiable = col(Flag.anonymity) != Anonymity.ANONYMOUS.value
    counts = (
        await session.execute(
            sa.select(
                sa.func.count(),
                sa.func.count(col(Flag.first_reply_at)),
                sa.func.count().filter(identifiable),
                sa.func.count().filter(sa.and_(identifiable, replied)),
            ).where(*where)
        )
    ).one()
    median = await _median_seconds_to_first_reply(session, where, replied_count=counts[1])
    return LoopCounts(
        flags=counts[0],
        replied=counts[1],
        identifiable=counts[2],
        identifiable_replied=counts[3],
        median_seconds_to_first_reply=median,
    )


async def _median_seconds_to_first_reply(
    session: AsyncSession, where: list[ColumnElement[bool]], *, replied_count: int
) -> float | None:
    """The middle one or two stored waits, read in order (on PostgreSQL from the partial
    index ix_flag_reply_wait, skipping half of it, instead of sorting every wait)."""
    if replied_count == 0:
        return None
    wait = col(Flag.reply_wait_seconds)
    middle = (
        (
            await session.execute(
                sa.select(wait)
                .where(*where, wait.is_not(None))
                .order_by(wait)
                .offset((replied_count - 1) // 2)
                .limit(2 - replied_count % 2)
            )
        )
        .scalars()
        .all()
    )
    values = [value for value in middle if value is not None]
    return sum(values) / len(values) if values else None


# --- the reporter's own flags ------------------------------------------------------------------


async def reporter_flags(
    session: AsyncSession, *, issuer: str, fhir_user: str, limit: int
) -> Sequence[Flag]:
    """A reporter's own flags, newest first (anonymous flags are not theirs to list: the
    registry does not know who sent them)."""
    result = await session.scalars(
        select(Flag)
        .where(col(Flag.issuer) == issuer, col(Flag.reporter_fhir_user) == fhir_user)
        .order_by(col(Flag.created_at).desc(), col(Flag.id).desc())
        .limit(limit)
    )
    return result.all()


async def replies_to(session: AsyncSession, flag_ids: Sequence[uuid.UUID]) -> Sequence[FlagEvent]:
    if not flag_ids:
        return []
    result = await session.scalars(
        select(FlagEvent)
        .where(col(FlagEvent.flag_id).in_(list(flag_ids)), col(FlagEvent.visible_to_reporter))
        .order_by(col(FlagEvent.id))
    )
    return result.all()


async def read_markers(
    session: AsyncSession, flag_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, int]:
    if not flag_ids:
        return {}
    result = await session.scalars(
        select(ReporterReadMarker).where(col(ReporterReadMarker.flag_id).in_(list(flag_ids)))
    )
    return {marker.flag_id: marker.read_through_event_id for marker in result.all()}


async def mark_read(session: AsyncSession, flag_id: uuid.UUID, through_event_id: int) -> None:
    marker = await session.get(ReporterReadMarker, flag_id)
    if marker is None:
        session.add(
            ReporterReadMarker(
                flag_id=flag_id, read_through_event_id=through_event_id, read_at=utcnow()
            )
        )
    elif through_event_id > marker.read_through_event_id:
        marker.read_through_event_id = through_event_id
        marker.read_at = utcnow()
    await session.flush()


async def orders_flagged_by(
    session: AsyncSession, *, issuer: str, fhir_user: str, order_ids: Sequence[str]
) -> set[tuple[str, str]]:
    """Which of these orders (by FHIR id) this reporter has already flagged."""
    if not order_ids:
        return set()
    result = await session.execute(
        sa.select(col(Flag.order_resource_type), col(Flag.order_fhir_id)).where(
            col(Flag.issuer) == issuer,
            col(Flag.reporter_fhir_user) == fhir_user,
            col(Flag.order_fhir_id).in_(list(order_ids)),
        )
    )
    return {(row[0], row[1]) for row in result.all()}


# --- the dashboard -----------------------------------------------------------------------------


async def get_many(session: AsyncSession, flag_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Flag]:
    """The flags with these ids, locked for update on PostgreSQL (a bulk change checks their
    versions first, and nobody may change them between the check and the write)."""
    if not flag_ids:
        return {}
    statement = select(Flag).where(col(Flag.id).in_(list(flag_ids)))
    if _dialect(session) == "postgresql":
        statement = statement.with_for_update()
    result = await session.scalars(statement)
    return {flag.id: flag for flag in result.all()}


async def duplicate_candidates(session: AsyncSession, flag: Flag, *, limit: int) -> Sequence[Flag]:
    """Flags that may be the original of ``flag``: the same order, or the same kind of order
    for the same patient, from the same EHR. Flags already marked duplicate are left out (a
    duplicate points at the original, never at another duplicate)."""
    # FHIR ids are unique within a resource type only.
    same_order = sa.and_(
        col(Flag.order_resource_type) == flag.order_resource_type,
        col(Flag.order_fhir_id) == flag.order_fhir_id,
    )
    same_patient_and_code = sa.and_(
        col(Flag.patient_fhir_id) == flag.patient_fhir_id,
        col(Flag.order_code) == flag.order_code if flag.order_code else sa.false(),
    )
    result = await session.scalars(
        select(Flag)
        .where(
            col(Flag.issuer) == flag.issuer,
            col(Flag.id) != flag.id,
            col(Flag.status) != "duplicate",
            sa.or_(same_order, same_patient_and_code),
        )
        .order_by(col(Flag.created_at), col(Flag.id))
        .limit(limit)
    )
    return result.all()


async def counts_by_status(session: AsyncSession, filters: FlagFilters) -> dict[str, int]:
    statement = (
        sa.select(col(Flag.status), sa.func.count())
        .where(*conditions(filters))
        .group_by(col(Flag.status))
    )
    return {row[0]: row[1] for row in (await session.execute(statement)).all()}


# Upper bounds (seconds) of the time-to-first-reply buckets; the last bucket is open-ended.
REPLY_TIME_BOUNDS: tuple[tuple[str, float], ...] = (
    ("within_1d", 86400.0),
    ("1d_to_3d", 3 * 86400.0),
    ("3d_to_7d", 7 * 86400.0),
    ("7d_to_14d", 14 * 86400.0),
)
REPLY_TIME_OVER = "over_14d"
UNANSWERED = "unanswered"


async def reply_time_buckets(session: AsyncSession, filters: FlagFilters) -> dict[str, int]:
    """How many flags got their first reply within each time band, and how many got none."""
    waited: Any
    bounds: list[tuple[str, Any]]
    if _dialect(session) == "postgresql":
        # Interval comparisons: no per-flag numeric conversion (3x faster at a million flags).
        waited = col(Flag.first_reply_at) - col(Flag.created_at)
        bounds = [(key, timedelta(seconds=bound)) for key, bound in REPLY_TIME_BOUNDS]
    else:
        waited = _seconds_between(col(Flag.created_at), col(Flag.first_reply_at), "sqlite")
        bounds = list(REPLY_TIME_BOUNDS)
    # One filtered count per band in a single pass: no grouping (hashing a million rows costs
    # more than comparing each row a few times).
    replied = col(Flag.first_reply_at).is_not(None)
    counts: list[tuple[str, Any]] = [(UNANSWERED, sa.func.count().filter(~replied))]
    lower: Any = None
    for key, bound in bounds:
        band = waited < bound if lower is None else sa.and_(waited >= lower, waited < bound)
        counts.append((key, sa.func.count().filter(sa.and_(replied, band))))
        lower = bound
    counts.append((REPLY_TIME_OVER, sa.func.count().filter(sa.and_(replied, waited >= lower))))
    statement = sa.select(*(count for _, count in counts)).where(*conditions(filters))
    row = (await session.execute(statement)).one()
    return {key: value for (key, _), value in zip(counts, row, strict=True)}


async def median_seconds_given_replies(
    session: AsyncSession, filters: FlagFilters, *, replied_count: int
) -> float | None:
    """The median wait for a reply when the number of replied flags is already known."""
    return await _median_seconds_to_first_reply(
        session, conditions(filters), replied_count=replied_count
    )


# Distinct values by "loose index scan": one index probe per distinct value instead of reading
# every flag (PostgreSQL has no skip scan before version 18). Filter choices stay instant at a
# million flags; SQLite registries are small enough for a plain DISTINCT.
_PG_DEPARTMENTS = sa.text(
    """
    WITH RECURSIVE found AS (
        (SELECT department FROM flag WHERE department IS NOT NULL ORDER BY department LIMIT 1)
        UNION ALL
        SELECT (SELECT f.department FROM flag f WHERE f.department > found.department
                ORDER BY f.department LIMIT 1)
        FROM found WHERE found.department IS NOT NULL
    )
    SELECT department FROM found WHERE department IS NOT NULL LIMIT :limit
    """
)
_PG_SERVICES = sa.text(
    """
    WITH RECURSIVE found AS (
        (SELECT order_code FROM flag WHERE order_code IS NOT NULL ORDER BY order_code LIMIT 1)
        UNION ALL
        SELECT (SELECT f.order_code FROM flag f WHERE f.order_code > found.order_code
                ORDER BY f.order_code LIMIT 1)
        FROM found WHERE found.order_code IS NOT NULL
    )
    SELECT found.order_code, example.order_code_system, example.order_display
    FROM found
    CROSS JOIN LATERAL (
        -- The newest flag's name for the code, read from the (order_code, created_at) index.
        SELECT order_code_system, order_display FROM flag f
        WHERE f.order_code = found.order_code ORDER BY f.created_at DESC, f.id DESC LIMIT 1
    ) AS example
    WHERE found.order_code IS NOT NULL
    LIMIT :limit
    """
)


async def distinct_departments(session: AsyncSession, *, limit: int) -> list[str]:
    if _dialect(session) == "postgresql":
        result = await session.execute(_PG_DEPARTMENTS, {"limit": limit})
        return [row[0] for row in result.all()]
    department = col(Flag.department)
    statement = sa.select(department).where(department.is_not(None)).distinct().order_by(department)
    return [str(row[0]) for row in (await session.execute(statement.limit(limit))).all()]


async def distinct_services(
    session: AsyncSession, *, limit: int
) -> list[tuple[str, str | None, str]]:
    """(code, system, display) for every coded order that was ever flagged."""
    if _dialect(session) == "postgresql":
        result = await session.execute(_PG_SERVICES, {"limit": limit})
        return [(row[0], row[1], row[2]) for row in result.all()]
    code = col(Flag.order_code)
    # SQLite fills bare columns from the row that holds the max() ("Bare columns in an
    # aggregate query"): the newest flag's system and name, as on PostgreSQL.
    statement = (
        sa.select(
            code,
            col(Flag.order_code_system),
            col(Flag.order_display),
            sa.func.max(col(Flag.created_at)),
        )
        .where(code.is_not(None))
        .group_by(code)
        .order_by(code)
        .limit(limit)
    )
    return [(str(row[0]), row[1], row[2]) for row in (await session.execute(statement)).all()]
