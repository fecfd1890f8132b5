"""Every query on CDS clients and the token ids they have used."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.cds.models import CardFeedback, CdsClient, CdsJwtSeen, IssuedCard
from app.db import dialect_name


async def client_by_iss(session: AsyncSession, iss: str) -> CdsClient | None:
    result = await session.scalars(select(CdsClient).where(col(CdsClient.iss) == iss))
    return result.first()


async def all_clients(session: AsyncSession) -> Sequence[CdsClient]:
    result = await session.scalars(select(CdsClient).order_by(col(CdsClient.iss)))
    return result.all()


def add(session: AsyncSession, client: CdsClient) -> None:
    session.add(client)


async def delete_client(session: AsyncSession, client: CdsClient) -> None:
    """The client and the token ids it has used."""
    await session.execute(sa.delete(CdsJwtSeen).where(col(CdsJwtSeen.iss) == client.iss))
    await session.delete(client)
    await session.flush()


async def spend_jti(session: AsyncSession, *, iss: str, jti: str, expires_at: datetime) -> bool:
    """Record ``jti`` as used by ``iss``; False when it already was (a replay).

    One statement, ``INSERT ... ON CONFLICT DO NOTHING`` on the primary key: two calls with
    the same ``jti`` at once cannot both be first, on either database.
    """
    values = {"iss": iss, "jti": jti, "expires_at": expires_at}
    insert = postgresql.insert if dialect_name(session) == "postgresql" else sqlite.insert
    statement = (
        insert(CdsJwtSeen)
        .values(values)
        .on_conflict_do_nothing()
        # RETURNING gives a row only when one was inserted; rowcount is not reliable here.
        .returning(col(CdsJwtSeen.jti))
    )
    return (await session.execute(statement)).first() is not None


async def forget_expired_jtis(session: AsyncSession, *, iss: str, now: datetime) -> None:
    """Drop the token ids of ``iss`` whose tokens have expired: exp refuses those anyway."""
    await session.execute(
        sa.delete(CdsJwtSeen).where(col(CdsJwtSeen.iss) == iss, col(CdsJwtSeen.expires_at) < now)
    )


# --- the cards given, and their feedback ----------------------------------------------------


def add_cards(session: AsyncSession, cards: Sequence[IssuedCard]) -> None:
    session.add_all(cards)


async def issued_card(session: AsyncSession, card_id: uuid.UUID) -> IssuedCard | None:
    return await session.get(IssuedCard, card_id)


async def add_feedback(session: AsyncSession, row: dict[str, Any]) -> bool:
    """Store one outcome; False when the same card and outcome time is already stored (a
    client that sends its feedback again)."""
    table = CardFeedback.__table__  # type: ignore[attr-defined]
    dialect_insert = postgresql.insert if dialect_name(session) == "postgresql" else sqlite.insert
    statement = dialect_insert(table).on_conflict_do_nothing(
        index_elements=[table.c.card_id, table.c.outcome_at]
    )
    # RETURNING, not rowcount: psycopg's count for ON CONFLICT DO NOTHING is not to be trusted.
    result = await session.execute(statement.values(**row).returning(table.c.id))
    return result.first() is not None
