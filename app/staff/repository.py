"""Every query on the staff directory."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.kit.pagination import after
from app.staff.models import Staff


async def by_id(session: AsyncSession, staff_id: uuid.UUID) -> Staff | None:
    return await session.get(Staff, staff_id)


async def staff_by_ids(
    session: AsyncSession, staff_ids: Collection[uuid.UUID | None]
) -> dict[uuid.UUID, Staff]:
    """The people with these ids (None and unknown ids are left out), in one query: how a page
    of flags gets its owners' names, and how a notification finds its recipients' emails."""
    wanted = {staff_id for staff_id in staff_ids if staff_id is not None}
    if not wanted:
        return {}
    result = await session.scalars(select(Staff).where(col(Staff.id).in_(wanted)))
    return {person.id: person for person in result.all()}


async def all_names(session: AsyncSession) -> Sequence[str]:
    """Every name in the directory the session may see (active or not)."""
    result = await session.scalars(select(col(Staff.name)))
    return result.all()


async def by_email(session: AsyncSession, email: str) -> Staff | None:
    """``email`` must already be normalized (lower-case, trimmed), as stored."""
    result = await session.scalars(select(Staff).where(col(Staff.email) == email))
    return result.first()


async def by_oidc_subject(session: AsyncSession, issuer: str, subject: str) -> Staff | None:
    result = await session.scalars(
        select(Staff).where(col(Staff.oidc_issuer) == issuer, col(Staff.oidc_subject) == subject)
    )
    return result.first()


def _prefix(column: Any, text: str) -> sa.ColumnElement[bool]:
    # lower() on both sides: ILIKE is PostgreSQL's, and SQLite's LIKE folds ASCII only.
    pattern = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return sa.func.lower(column).like(pattern, escape="\\")


async def page(
    session: AsyncSession,
    *,
    prefix: str | None,
    active: bool | None,
    role: str | None,
    limit: int,
    after_values: Sequence[Any] | None,
) -> Sequence[Staff]:
    """People in name order (then id, so the order is total), starting after a cursor."""
    key = [col(Staff.name), col(Staff.id)]
    statement = select(Staff)
    if prefix:
        statement = statement.where(
            sa.or_(_prefix(col(Staff.name), prefix), _prefix(col(Staff.email), prefix))
        )
    if active is not None:
        statement = statement.where(col(Staff.active) == active)
    if role is not None:
        statement = statement.where(col(Staff.role) == role)
    if after_values is not None:
        statement = statement.where(after(key, after_values, descending=False))
    result = await session.scalars(statement.order_by(*key).limit(limit))
    return result.all()


async def everyone(session: AsyncSession) -> Sequence[Staff]:
    result = await session.scalars(select(Staff).order_by(col(Staff.name), col(Staff.id)))
    return result.all()


async def save(session: AsyncSession, person: Staff) -> bool:
    """Write ``person`` (new or changed) now; False when the email (or the OpenID Connect
    subject) is taken, also by a concurrent transaction. A savepoint keeps the caller's
    transaction usable."""
    try:
        async with session.begin_nested():
            session.add(person)
            await session.flush()
    except sa.exc.IntegrityError:
        return False
    return True
