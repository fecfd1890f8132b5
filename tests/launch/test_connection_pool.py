"""A request holds at most one pooled database connection, so a full pool never deadlocks.

Found under load: with sessions due for their once-a-minute touch, every clinician request held
its own connection and waited for a second one; 20 concurrent requests on a pool of 10 + 10
all answered 500 after 30 s.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from sqlmodel import col

from app.config import Settings
from app.kit.time import utcnow
from app.launch.models import AppSession
from app.main import create_app
from tests.sim_ehr import full_launch

POOL_SIZE = 4
CONCURRENT = 12  # three times what the pool holds


@pytest.fixture
def pool_timeout_seconds() -> float:
    """Long enough for a busy machine, short enough that a deadlock fails fast."""
    return 5.0


@pytest.fixture
async def small_pool_app(
    app: FastAPI, settings: Settings, pool_timeout_seconds: float
) -> AsyncIterator[FastAPI]:
    """The app on the same database with a pool of four connections."""
    small = create_app(
        settings.model_copy(
            update={
                "database_pool_size": POOL_SIZE,
                "database_pool_timeout_seconds": pool_timeout_seconds,
            }
        )
    )
    async with small.router.lifespan_context(small):
        yield small


@pytest.fixture
async def small_pool_client(small_pool_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=small_pool_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://valueloop.test") as client:
        yield client


async def test_more_concurrent_requests_than_connections_all_due_for_a_touch_succeed(
    small_pool_client, ehr, ehr_http, session
):
    handles = [await full_launch(small_pool_client, ehr_http, ehr.sim) for _ in range(CONCURRENT)]
    # Every session idle long enough that each request also writes its touch.
    await session.execute(
        sa.update(AppSession).values(last_seen_at=utcnow() - timedelta(minutes=5))
    )
    await session.commit()

    responses = await asyncio.gather(
        *(
            small_pool_client.get(
                "/api/v1/clinician/flags", headers={"X-ValueLoop-Session": handle}
            )
            for handle in handles
        )
    )

    assert [response.status_code for response in responses] == [200] * CONCURRENT
    seen = (await session.scalars(sa.select(col(AppSession.last_seen_at)))).all()
    assert all(utcnow() - at < timedelta(minutes=1) for at in seen), "every session was touched"


@pytest.mark.parametrize("pool_timeout_seconds", [0.2])
async def test_a_request_that_cannot_get_a_connection_in_time_is_told_to_retry(
    small_pool_app, small_pool_client, ehr, ehr_http
):
    handle = await full_launch(small_pool_client, ehr_http, ehr.sim)
    engine = small_pool_app.state.engine
    held = [await engine.connect() for _ in range(POOL_SIZE)]  # the whole pool, busy
    try:
        response = await small_pool_client.get(
            "/api/v1/clinician/flags", headers={"X-ValueLoop-Session": handle}
        )
    finally:
        for connection in held:
            await connection.close()

    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "1"
    assert response.headers["content-type"] == "application/problem+json"
    assert "nothing was saved" in response.json()["detail"]


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
async def test_a_connection_the_database_dropped_fails_one_request_with_503_then_recovers(
    app, small_pool_app, small_pool_client, ehr, ehr_http
):
    handle = await full_launch(small_pool_client, ehr_http, ehr.sim)
    headers = {"X-ValueLoop-Session": handle}
    assert (await small_pool_client.get("/api/v1/clinician/flags", headers=headers)).is_success
    try:
        async with app.state.engine.connect() as admin:  # what a server restart does
            await admin.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
        dropped = await small_pool_client.get("/api/v1/clinician/flags", headers=headers)
        recovered = await small_pool_client.get("/api/v1/clinician/flags", headers=headers)
    finally:
        await app.state.engine.dispose()  # the shared app's connections were dropped too

    assert dropped.status_code == 503, dropped.text
    assert dropped.headers["retry-after"] == "1"
    assert "nothing was saved" in dropped.json()["detail"]
    assert recovered.status_code == 200, recovered.text
