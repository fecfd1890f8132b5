"""Database engine, sessions and the request's transaction.

Operators write ordinary URLs (``sqlite:///./var/valueloop.db``,
``postgresql://user@host/db``); the app picks the drivers: psycopg 3 for PostgreSQL (sync and
async), aiosqlite for the app and pysqlite for migrations on SQLite.

The request's session dependency owns the transaction: it commits when the handler returns and
rolls back when it raises, so a flag, its timeline event and its audit event are written together
or not at all. Services never commit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import Depends, Request
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Dialect, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


@dataclass(frozen=True)
class DatabaseUrls:
    """The same database addressed through its sync driver (migrations) and async driver (app)."""

    sync: URL
    async_: URL

    @property
    def is_sqlite(self) -> bool:
        return self.sync.get_backend_name() == "sqlite"


def database_urls(url: str) -> DatabaseUrls:
    """Map an operator's URL onto the drivers ValueLoop uses; unknown backends are refused."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return DatabaseUrls(
            sync=parsed.set(drivername="sqlite"), async_=parsed.set(drivername="sqlite+aiosqlite")
        )
    if backend == "postgresql":
        psycopg = parsed.set(drivername="postgresql+psycopg")
        return DatabaseUrls(sync=psycopg, async_=psycopg)
    raise ValueError(f"unsupported database {backend!r}: use sqlite:/// or postgresql://")


def _prepare_sqlite_file(url: URL) -> None:
    database = url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the single writer; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


# Measured with 1,000,000 flags (bench/README.md):
# - no server-side prepared statements: after ten runs PostgreSQL switches a prepared query to
#   a generic plan that guesses 0.5% of rows for any date range and picks a bitmap scan that
#   is 2-5x slower on wide ranges; pooled connections live long, so that would be the norm;
# - no JIT: compiling costs 100-130 ms on the aggregate queries and saves nothing at this size.
# No pre-ping either: it is a SELECT 1 round trip on every checkout, two per flag submission
# (bench/README.md). A connection the server dropped (a restart) fails its request instead;
# SQLAlchemy then discards the pool's older connections, and the request is answered 503
# "try again" with nothing saved (app/errors.py).
POSTGRES_CONNECT_ARGS: dict[str, object] = {"prepare_threshold": None, "options": "-c jit=off"}


def create_engine_for(url: str, *, pool_size: int = 20, pool_timeout: float = 10.0) -> AsyncEngine:
    """An async engine for the app, tuned per backend.

    ``hide_parameters`` keeps bound values (notes, patient ids) out of error messages and so
    out of logs.
    """
    urls = database_urls(url)
    # Every connection the pool opens stays open (no overflow): an overflow connection is
    # closed when it comes back, so steady load above the pool size would pay for a new
    # connection (a PostgreSQL backend) per request.
    pool: dict[str, Any] = {"pool_size": pool_size, "max_overflow": 0, "pool_timeout": pool_timeout}
    if urls.is_sqlite:
        _prepare_sqlite_file(urls.async_)
        engine = create_async_engine(urls.async_, hide_parameters=True, **pool)
        event.listen(engine.sync_engine, "connect", _configure_sqlite_connection)
        return engine
    return create_async_engine(
        urls.async_,
        pool_pre_ping=False,
        hide_parameters=True,
        connect_args=POSTGRES_CONNECT_ARGS,
        **pool,
    )


def create_sync_engine_for(url: str) -> sa.Engine:
    """A sync engine for migrations and bulk seeding."""
    urls = database_urls(url)
    if urls.is_sqlite:
        _prepare_sqlite_file(urls.sync)
        engine = sa.create_engine(urls.sync, hide_parameters=True)
        event.listen(engine, "connect", _configure_sqlite_connection)
        return engine
    return sa.create_engine(urls.sync, hide_parameters=True)


def session_factory(
    engine: AsyncEngine, *, info: dict[str, Any] | None = None
) -> async_sessionmaker[AsyncSession]:
    """``info`` goes on every session (the flag listener, app/flags/hooks.py)."""
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False, info=info)


def dialect_name(session: AsyncSession) -> str:
    """``postgresql`` or ``sqlite``: where the two differ, a repository chooses by this."""
    return session.get_bind().dialect.name


def upsert_insert(dialect: str) -> Callable[..., postgresql.Insert | sqlite.Insert]:
    """The dialect's ``insert``, the one with ``on_conflict_do_nothing`` and
    ``on_conflict_do_update`` (both databases speak ``INSERT ... ON CONFLICT``)."""
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def autocommit_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions whose every statement commits on its own, on the same pool.

    For a request's housekeeping that stands alone (looking up its session, keeping it alive):
    no BEGIN and COMMIT round trips, and no connection held once the statement is done.
    Measured on the flag path (bench/README.md): each round trip costs the app and the
    database CPU, and these were two of ten.
    """
    return session_factory(engine.execution_options(isolation_level="AUTOCOMMIT"))


def autocommit_session(request: Request) -> AsyncSession:
    """A session of ``autocommit_session_factory``; use it as ``async with``, so that it
    gives its connection back before the request goes on (the ORM session would hold it)."""
    factory: async_sessionmaker[AsyncSession] = request.app.state.autocommit_session_factory
    return factory()


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's unit of work: commit on success, roll back on any error."""
    factory: async_sessionmaker[AsyncSession] = request.app.state.session_factory
    async with factory() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()


async def get_session_factory(request: Request) -> async_sessionmaker[AsyncSession]:
    """For work that must commit on its own, apart from the request's unit of work."""
    factory: async_sessionmaker[AsyncSession] = request.app.state.session_factory
    return factory


SessionFactoryDep = Annotated[async_sessionmaker[AsyncSession], Depends(get_session_factory)]

# ``scope="function"`` commits before the response is sent, so a client never sees a success
# for a write that then fails to commit.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
BigIntId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC in Python, on PostgreSQL and SQLite alike.

    SQLite has no time zones: values are stored as naive UTC there and given back as aware.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass a timezone-aware value")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
