"""Every query on flags and their timeline: single flags, lists, bulk changes and filter
choices. Where SQLite and PostgreSQL differ the difference is kept here.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, select

from app.db import dialect_name, upsert_insert
from app.errors import PreconditionFailed
from app.flags.filters import FlagFilters, conditions
from app.flags.models import Flag, FlagEvent
from app.kit.pagination import after
from app.organizations.scope import scope_of

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


async def timelines(
    session: AsyncSession, flag_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[FlagEvent]]:
    """The timelines of many flags in one query, each oldest first (an export's batch)."""
    found: dict[uuid.UUID, list[FlagEvent]] = {flag_id: [] for flag_id in flag_ids}
    if not flag_ids:
        return found
    result = await session.scalars(
        select(FlagEvent)
        .where(col(FlagEvent.flag_id).in_(list(flag_ids)))
        .order_by(col(FlagEvent.flag_id), col(FlagEvent.id))
    )
    for event in result.all():
        found[event.flag_id].append(event)
    return found


async def status_entered_at(session: AsyncSession, flag: Flag) -> datetime:
    """When the flag entered its current status: its last status event (the creation or a
    change), read from the flag's own timeline index."""
    entered = await session.scalar(
        sa.select(sa.func.max(col(FlagEvent.at))).where(
            col(FlagEvent.flag_id) == flag.id, col(FlagEvent.to_status).is_not(None)
        )
    )
    return entered or flag.created_at


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
    result = await session.execute(_insert_unless_key_taken(dialect_name(session)), [values])
    return result.first() is not None


@cache
def _insert_unless_key_taken(dialect: str) -> sa.Insert:
    """The statement, built once per dialect: the values go in as parameters, so it is also
    compiled once (a statement built with its values costs a cache key per call)."""
    table = Flag.metadata.tables[Flag.__tablename__]
    dialect_insert = upsert_insert(dialect)
    return (
        dialect_insert(table)
        .on_conflict_do_nothing(
            index_elements=[table.c.issuer, table.c.idempotency_scope, table.c.idempotency_key]
        )
        .returning(table.c.id)
    )


# --- lists ------------------------------------------------------------------------------------


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


# --- the dashboard: bulk changes, duplicates, filter choices ----------------------------------


async def get_many(session: AsyncSession, flag_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Flag]:
    """The flags with these ids, locked for update on PostgreSQL (a bulk change checks their
    versions first, and nobody may change them between the check and the write)."""
    if not flag_ids:
        return {}
    statement = select(Flag).where(col(Flag.id).in_(list(flag_ids)))
    if dialect_name(session) == "postgresql":
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


def _loose_index_scan(session: AsyncSession) -> bool:
    """Whether the raw-SQL scans above may answer: on PostgreSQL, for system-level callers
    only. Raw SQL is past the organization scope's reach (app.organizations.scope), so an
    organization's staff get the plain query, which the scope limits (and which is quick at
    one organization's share)."""
    return dialect_name(session) == "postgresql" and scope_of(session).system_level


async def distinct_departments(session: AsyncSession, *, limit: int) -> list[str]:
    if _loose_index_scan(session):
        result = await session.execute(_PG_DEPARTMENTS, {"limit": limit})
        return [row[0] for row in result.all()]
    department = col(Flag.department)
    statement = sa.select(department).where(department.is_not(None)).distinct().order_by(department)
    return [str(row[0]) for row in (await session.execute(statement.limit(limit))).all()]


async def distinct_services(
    session: AsyncSession, *, limit: int
) -> list[tuple[str, str | None, str]]:
    """(code, system, display) for every coded order that was ever flagged."""
    if _loose_index_scan(session):
        result = await session.execute(_PG_SERVICES, {"limit": limit})
        return [(row[0], row[1], row[2]) for row in result.all()]
    code = col(Flag.order_code)
    if dialect_name(session) == "postgresql":
        # An organization's share: DISTINCT ON keeps each code's newest flag.
        newest = (
            sa.select(code, col(Flag.order_code_system), col(Flag.order_display))
            .where(code.is_not(None))
            .ext(distinct_on(code))
            .order_by(code, col(Flag.created_at).desc(), col(Flag.id).desc())
            .limit(limit)
        )
        return [(str(row[0]), row[1], row[2]) for row in (await session.execute(newest)).all()]
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
