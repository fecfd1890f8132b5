"""Every query on the price list."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.db import dialect_name
from app.prices.models import PriceListEntry


async def replace_all(session: AsyncSession, rows: list[dict[str, object]]) -> None:
    """The list becomes exactly ``rows``, in the caller's transaction."""
    if dialect_name(session) == "postgresql":
        # Two loads at once would each delete the old list and then collide on the unique key
        # inserting theirs; the lock makes the second wait and replace the first's list.
        # Readers (flag pricing) are not blocked by EXCLUSIVE mode.
        await session.execute(sa.text("LOCK TABLE price_list IN EXCLUSIVE MODE"))
    await session.execute(sa.delete(PriceListEntry))
    if rows:
        await session.execute(sa.insert(PriceListEntry), rows)


async def all_entries(session: AsyncSession) -> Sequence[PriceListEntry]:
    statement = select(PriceListEntry).order_by(
        col(PriceListEntry.code_system),
        col(PriceListEntry.code),
        col(PriceListEntry.effective_date),
    )
    return (await session.execute(statement)).scalars().all()


async def in_effect(
    session: AsyncSession, codes: Sequence[tuple[str, str]], on: date
) -> dict[tuple[str, str], PriceListEntry]:
    """For each (system, code) that has one, the price with the latest effective date on or
    before ``on``."""
    if not codes:
        return {}
    statement = (
        select(PriceListEntry)
        .where(
            sa.tuple_(col(PriceListEntry.code_system), col(PriceListEntry.code)).in_(list(codes)),
            col(PriceListEntry.effective_date) <= on,
        )
        .order_by(col(PriceListEntry.effective_date).desc())
    )
    found: dict[tuple[str, str], PriceListEntry] = {}
    for entry in (await session.execute(statement)).scalars():
        found.setdefault((entry.code_system, entry.code), entry)
    return found
