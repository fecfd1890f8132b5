"""Every query on CDS clients and the token ids they have used, the cards given and their
feedback, and the daily counts."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, select

from app.cds.models import CardFeedback, CdsClient, CdsDailyCount, CdsJwtSeen, IssuedCard
from app.db import dialect_name, upsert_insert
from app.flags.models import Flag
from app.kit.time import stamps_within_days


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


async def spend_jti(
    session: AsyncSession, *, iss: str, jti: str, expires_at: datetime, now: datetime
) -> bool:
    """Record ``jti`` as used by ``iss``, if ``iss`` is a registered, active client; False
    when it is not, or when the jti was used before by a token that has not expired (a
    replay).

    One statement, ``INSERT ... SELECT ... WHERE EXISTS (active client) ON CONFLICT DO UPDATE
    ... WHERE``, so the client's standing is checked at the very moment its token is spent
    (a caller may have read the client a few seconds earlier), and two calls with the same
    ``jti`` at once cannot both be first, on either database. A record whose token expired
    counts as free (its ``exp`` refuses the old token anyway), so expired records may be
    pruned at leisure (``forget_expired_jtis``) without changing any answer.
    """
    table = sa.inspect(CdsJwtSeen).local_table
    active_client = (
        select(sa.literal(1))
        .where(col(CdsClient.iss) == iss, col(CdsClient.active).is_(True))
        .exists()
    )
    values = select(
        sa.literal(iss, sa.String),
        sa.literal(jti, sa.String),
        sa.literal(expires_at, table.c.expires_at.type),
    ).where(active_client)
    insert = upsert_insert(dialect_name(session))
    inserting = insert(CdsJwtSeen).from_select(["iss", "jti", "expires_at"], values)
    statement = inserting.on_conflict_do_update(
        index_elements=[col(CdsJwtSeen.iss), col(CdsJwtSeen.jti)],
        set_={"expires_at": inserting.excluded.expires_at},
        where=col(CdsJwtSeen.expires_at) < now,
    ).returning(col(CdsJwtSeen.jti))
    # RETURNING gives a row only when one was inserted or freed; rowcount is not reliable here.
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
    dialect_insert = upsert_insert(dialect_name(session))
    statement = dialect_insert(table).on_conflict_do_nothing(
        index_elements=[table.c.card_id, table.c.outcome_at]
    )
    # RETURNING, not rowcount: psycopg's count for ON CONFLICT DO NOTHING is not to be trusted.
    result = await session.execute(statement.values(**row).returning(table.c.id))
    return result.first() is not None


async def claim_feedback_count(session: AsyncSession, card_id: uuid.UUID) -> bool:
    """Mark the card's feedback as counted; False when it already was (or the card, given
    before counting began, has no order code to count it on).

    One statement that tests and sets: on PostgreSQL a second transaction claiming the same
    card waits for the first one's row lock, then sees the flag set and updates nothing, so
    concurrent feedback for one card counts once; SQLite runs one writer at a time.
    """
    table = IssuedCard.__table__  # type: ignore[attr-defined]
    statement = (
        sa.update(table)
        .where(
            table.c.id == card_id,
            table.c.feedback_counted == sa.false(),
            table.c.order_code.is_not(None),
        )
        .values(feedback_counted=True)
        .returning(table.c.id)
    )
    return (await session.execute(statement)).first() is not None


# --- the daily counts -------------------------------------------------------------------------

_COUNTERS = ("evaluated", "shown", "accepted", "overridden")


@functools.cache
def _add_counts_statement(dialect: str) -> Any:
    """Built once per dialect: the statement is the same every call, only its values change
    (building it anew and compiling it cost more than running it, on the CDS latency path)."""
    table = CdsDailyCount.__table__  # type: ignore[attr-defined]
    dialect_insert = upsert_insert(dialect)
    statement = dialect_insert(table)
    return statement.on_conflict_do_update(
        index_elements=list(table.primary_key.columns),
        set_={name: table.c[name] + statement.excluded[name] for name in _COUNTERS},
    )


async def add_counts(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Add ``rows`` (the key and each counter's increment) to the daily counts, in one
    statement: ``INSERT ... ON CONFLICT (key) DO UPDATE SET n = n + excluded.n``, run once per
    row in one round trip (executemany).

    Concurrent calls cannot lose an increment: PostgreSQL turns a conflicting insert into an
    update of the row it waited for, and SQLite writes one at a time. The keys must be
    distinct (the driver may send the rows as one multi-row INSERT, and PostgreSQL refuses
    to update one row twice in a statement) and sorted, so two calls lock the rows they
    share in the same order and cannot deadlock.
    """
    if not rows:
        return
    await session.execute(_add_counts_statement(dialect_name(session)), list(rows))


# --- reading the counts (the Insights page) ---------------------------------------------------


@dataclass(frozen=True)
class RuleCounts:
    evaluated: int = 0
    shown: int = 0
    accepted: int = 0
    overridden: int = 0


def _days_within(column: Any, first: date | None, last: date | None) -> list[Any]:
    """``column`` (a day) from ``first`` to ``last`` inclusive."""
    where = []
    if first is not None:
        where.append(column >= first)
    if last is not None:
        where.append(column <= last)
    return where


_SUMS = [sa.func.coalesce(sa.func.sum(col(getattr(CdsDailyCount, n))), 0) for n in _COUNTERS]


async def counts_by_rule(
    session: AsyncSession, first: date | None, last: date | None
) -> dict[str, RuleCounts]:
    """Each rule's counts over the days ``first`` to ``last`` (None: unbounded)."""
    rule = col(CdsDailyCount.rule_id)
    statement = (
        sa.select(rule, *_SUMS)
        .where(*_days_within(col(CdsDailyCount.day), first, last))
        .group_by(rule)
    )
    return {row[0]: RuleCounts(*row[1:]) for row in (await session.execute(statement)).all()}


async def counts_by_day(
    session: AsyncSession,
    first: date | None,
    last: date | None,
    *,
    rule_id: str | None,
    order_system: str | None,
    order_code: str | None,
) -> dict[date, RuleCounts]:
    """The counts per day, for one rule and one order code when given (else all)."""
    day = col(CdsDailyCount.day)
    where = _days_within(day, first, last)
    for column, value in (
        (col(CdsDailyCount.rule_id), rule_id),
        (col(CdsDailyCount.order_code_system), order_system),
        (col(CdsDailyCount.order_code), order_code),
    ):
        if value is not None:
            where.append(column == value)
    statement = sa.select(day, *_SUMS).where(*where).group_by(day).order_by(day)
    return {row[0]: RuleCounts(*row[1:]) for row in (await session.execute(statement)).all()}


async def override_reasons(
    session: AsyncSession, first: date | None, last: date | None
) -> list[tuple[str, str | None, str | None, int]]:
    """(rule, reason code, its display, cards) for the counted overrides of the cards shown
    from ``first`` to ``last``: the same cards, on the same days, as the overridden count."""
    rule = col(IssuedCard.rule_id)
    code = col(CardFeedback.override_code)
    statement = (
        sa.select(rule, code, sa.func.max(col(CardFeedback.override_display)), sa.func.count())
        .select_from(CardFeedback)
        .join(IssuedCard, col(IssuedCard.id) == col(CardFeedback.card_id))
        .where(
            col(CardFeedback.counted).is_(True),
            col(CardFeedback.outcome) == "overridden",
            *stamps_within_days(col(IssuedCard.issued_at), first, last),
        )
        .group_by(rule, code)
    )
    return [(r[0], r[1], r[2], r[3]) for r in (await session.execute(statement)).all()]


async def catches_by_rule(
    session: AsyncSession, flag_conditions: Sequence[ColumnElement[bool]]
) -> dict[str, int]:
    """How many "caught before" flags each rule's accepted cards made, among the flags that
    meet ``flag_conditions``."""
    rule = col(IssuedCard.rule_id)
    statement = (
        sa.select(rule, sa.func.count(sa.distinct(col(Flag.id))))
        .select_from(CardFeedback)
        .join(IssuedCard, col(IssuedCard.id) == col(CardFeedback.card_id))
        .join(Flag, col(Flag.id) == col(CardFeedback.flag_id))
        .where(*flag_conditions)
        .group_by(rule)
    )
    return {row[0]: row[1] for row in (await session.execute(statement)).all()}
