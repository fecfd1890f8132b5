"""Database plumbing: driver choice, UTC timestamps, and no bound values in error messages."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, StatementError

from app.db import create_engine_for, database_urls
from app.flags.models import FlagEvent
from app.kit.time import utcnow
from tests.factories import make_flag


def test_operator_urls_map_onto_the_async_and_sync_drivers():
    sqlite = database_urls("sqlite:///./var/x.db")
    postgres = database_urls("postgresql://vl:secret@db:5432/valueloop")

    assert (sqlite.sync.drivername, sqlite.async_.drivername) == ("sqlite", "sqlite+aiosqlite")
    assert postgres.async_.drivername == "postgresql+psycopg"
    assert postgres.async_.password == "secret"


def test_unsupported_database_is_refused_with_the_supported_ones_named():
    with pytest.raises(ValueError, match=r"use sqlite:/// or postgresql://"):
        database_urls("mysql://root@localhost/valueloop")


async def test_database_errors_never_carry_the_bound_values(database_url):
    engine = create_engine_for(database_url)
    try:
        async with engine.begin() as connection:
            with pytest.raises(IntegrityError) as raised:
                await connection.execute(
                    sa.insert(FlagEvent),
                    {
                        "flag_id": uuid.uuid4(),  # no such flag: the foreign key refuses it
                        "at": utcnow(),
                        "kind": "comment",
                        "actor_name": "A. Rivera",
                        "actor_role": "analyst",
                        "body": "PATIENT-NOTE-SHOULD-NOT-LEAK",
                        "visible_to_reporter": False,
                    },
                )
    finally:
        await engine.dispose()
    assert "PATIENT-NOTE-SHOULD-NOT-LEAK" not in str(raised.value)


async def test_timestamps_come_back_as_the_same_utc_instant(session_factory):
    flag = await make_flag(session_factory)
    in_new_york = datetime(2026, 3, 1, 7, 30, tzinfo=timezone(timedelta(hours=-5)))
    async with session_factory() as session:
        stored = await session.get(type(flag), flag.id)
        assert stored is not None
        stored.first_reply_at = in_new_york
        await session.commit()
    async with session_factory() as session:
        again = await session.get(type(flag), flag.id)
    assert again is not None
    assert again.first_reply_at == datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    assert again.first_reply_at.tzinfo is UTC


async def test_naive_timestamps_are_refused_rather_than_guessed(session_factory):
    flag = await make_flag(session_factory)
    async with session_factory() as session:
        stored = await session.get(type(flag), flag.id)
        assert stored is not None
        stored.first_reply_at = datetime(2026, 3, 1, 12, 30)  # noqa: DTZ001  (the point of the test)
        with pytest.raises(StatementError, match="naive datetimes are ambiguous"):
            await session.flush()
