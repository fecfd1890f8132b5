"""Test fixtures on real databases: SQLite always, PostgreSQL when it is reachable.

Every database test runs once per backend. The schema is built by the migrations (never by
``create_all``), once per backend per run, on PostgreSQL in a database of the run's own;
each test starts from empty tables.

PostgreSQL is at ``VALUELOOP_TEST_POSTGRES_URL`` (default
``postgresql://postgres@127.0.0.1:5432/test``). Without it the PostgreSQL runs skip with the
reason, except under ``CI=true``, where an unreachable PostgreSQL fails the run.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth import service as token_service
from app.auth.models import Role
from app.config import Mode, Settings
from app.db import create_sync_engine_for
from app.main import create_app
from app.migrate import upgrade
from app.organizations.models import DEFAULT_ORGANIZATION_CODE

# A simulated EHR registered with ValueLoop, for the launch, clinician and EHR tests and the
# fuzz: one per run, whichever folder asks for it first.
pytest_plugins = ["tests.sim_ehr"]

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
TABLES = (
    "cds_feedback",  # links flags
    "cds_card",
    "cds_daily_count",
    "outbox_delivery",
    "webhook_endpoint",
    "notification_opt_out",
    "staff_session",
    "oidc_sign_in",
    "reporter_read_marker",
    "improvement_event",
    "improvement_flag",
    "improvement",
    "flag_event",
    "flag",
    "audit_event",
    "api_token",
    "app_session",
    "pending_launch",
    "registered_ehr",
    "staff",
    "price_list",
    "cds_jwt_seen",
    "cds_client",
)
# Every organization but the default one, which the migration makes and the app expects.
_EXTRA_ORGANIZATIONS = f"DELETE FROM organization WHERE code <> '{DEFAULT_ORGANIZATION_CODE}'"


@pytest.fixture(autouse=True)
def _forget_cached_configuration() -> None:
    """Each test starts from empty tables, so from nothing remembered of the last test's webhook
    endpoints, prices or CDS clients' keys (app/kit/expiring.py and app/cds/jwks.py keep them
    a few minutes at most per process)."""
    from app.cds.clients import KNOWN_CLIENTS
    from app.cds.jwks import JWKS_CACHE
    from app.notifications.webhooks import ACTIVE_ENDPOINTS
    from app.prices.service import PRICES_IN_EFFECT

    KNOWN_CLIENTS.clear()
    ACTIVE_ENDPOINTS.clear()
    PRICES_IN_EFFECT.clear()
    JWKS_CACHE.clear()


def postgres_url() -> str:
    return os.environ.get("VALUELOOP_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _postgres_problem(url: str) -> str | None:
    engine = create_sync_engine_for(url)
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        return f"PostgreSQL at {url} is not reachable: {exc.orig}"
    finally:
        engine.dispose()
    return None


def reachable_postgres_server() -> str:
    """The PostgreSQL test server's URL; skips the test when it is down (fails under CI)."""
    server = postgres_url()
    problem = _postgres_problem(server)
    if problem is not None:
        if in_ci():
            pytest.fail(f"{problem} (CI=true: the PostgreSQL tests must run)")
        pytest.skip(f"{problem}; set VALUELOOP_TEST_POSTGRES_URL to run these tests")
    return server


@contextmanager
def throwaway_postgres_database(server_url: str) -> Iterator[str]:
    """A new, empty database on the test server, dropped afterwards.

    Each test run gets its own, so runs in parallel (two developers, CI and a developer)
    never truncate each other's tables, and the configured database itself is left alone.
    """
    base = make_url(server_url)
    name = f"{base.database or 'valueloop'}_run_{secrets.token_hex(4)}"
    admin = sa.create_engine(
        base.set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
    )
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(
    scope="session",
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated, empty database: one per backend for the whole run."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'valueloop.db'}"
        upgrade(url)
        yield url
        return
    with throwaway_postgres_database(reachable_postgres_server()) as url:
        upgrade(url)
        yield url


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        mode=Mode.DEMO,
        database_url=database_url,
        data_dir=tmp_path_factory.mktemp("data"),
        log_level="WARNING",
        # Tests that deliver run a worker of their own; one in the shared app would take their
        # deliveries from under them.
        worker=False,
    )


@pytest.fixture(scope="session")
async def running_app(settings: Settings) -> AsyncIterator[FastAPI]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
def clean_tables(database_url: str) -> None:
    engine = create_sync_engine_for(database_url)
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
        else:
            for table in TABLES:
                connection.execute(sa.text(f"DELETE FROM {table}"))
        connection.execute(sa.text(_EXTRA_ORGANIZATIONS))
    engine.dispose()


@pytest.fixture
async def app(running_app: FastAPI, clean_tables: None) -> FastAPI:
    return running_app


@pytest.fixture
def session_factory(app: FastAPI) -> async_sessionmaker[AsyncSession]:
    factory: async_sessionmaker[AsyncSession] = app.state.session_factory
    return factory


@pytest.fixture
async def session(session_factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session for arranging and checking data; tests commit what they arrange."""
    async with session_factory() as session:
        yield session


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://valueloop.test") as client:
        yield client


@dataclass(frozen=True)
class Tokens:
    analyst: str
    lead: str
    admin: str

    def header(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {getattr(self, role)}"}


@pytest.fixture
async def tokens(session_factory: async_sessionmaker[AsyncSession]) -> Tokens:
    async with session_factory() as session:
        issued = {
            role: token_service.issue(
                session, name=f"Test {role.value}", role=role, created_by="tests"
            )
            for role in Role
        }
        await session.commit()
    return Tokens(
        analyst=issued[Role.ANALYST].secret,
        lead=issued[Role.LEAD].secret,
        admin=issued[Role.ADMIN].secret,
    )


@pytest.fixture
async def known_staff(session_factory: async_sessionmaker[AsyncSession]) -> None:
    """The people ``tests.factories.sid`` names, in the staff directory."""
    from tests.factories import add_known_staff

    await add_known_staff(session_factory)
