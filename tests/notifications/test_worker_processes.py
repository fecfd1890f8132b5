"""Two ``valueloop worker`` processes on PostgreSQL, one killed with SIGKILL mid-delivery:
every event is delivered, and no idempotency key twice except the one in flight at the kill."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
import sqlalchemy as sa
from sqlmodel import col

from app.config import Mode, Settings
from app.db import create_engine_for, session_factory
from app.flags.hooks import listening
from app.notifications.events import FlagNotifier
from app.notifications.models import OutboxDelivery
from tests.factories import make_flag
from tests.notifications.conftest import add_endpoint
from tests.notifications.receiver import WAIT_SECONDS, Receiver, running_receiver

FLAGS = 12
SECRET_KEY = "outbox-process-test-secret-key-" + "k" * 16
REPO = Path(__file__).resolve().parents[2]
T = TypeVar("T")


def _in_own_loop(coroutine: Coroutine[Any, Any, T]) -> T:
    # A sync test: run on a fresh loop in a thread of its own, beside pytest-asyncio's.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result(timeout=120)


async def _arrange(settings: Settings, receiver: Receiver) -> None:
    engine = create_engine_for(settings.database_url)
    try:
        factory = session_factory(engine, info=listening(FlagNotifier(settings)))
        receiver.secret = (await add_endpoint(factory, settings, receiver.url)).secret
        for _ in range(FLAGS):
            await make_flag(factory)
    finally:
        await engine.dispose()


async def _all_delivered(database_url: str) -> list[str]:
    """The outbox's statuses once every row is delivered (or as they stand at the timeout)."""
    engine = create_engine_for(database_url)
    deadline = time.monotonic() + WAIT_SECONDS
    try:
        while True:
            async with engine.connect() as connection:
                result = await connection.execute(sa.select(col(OutboxDelivery.status)))
                statuses = [row[0] for row in result]
            if set(statuses) == {"delivered"} or time.monotonic() > deadline:
                return statuses
            await asyncio.sleep(0.05)
    finally:
        await engine.dispose()


def _worker(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "VALUELOOP_MODE": "demo",
        "VALUELOOP_DATABASE_URL": settings.database_url,
        "VALUELOOP_SECRET_KEY": SECRET_KEY,
        "VALUELOOP_DATA_DIR": str(settings.data_dir),
        "VALUELOOP_LOG_LEVEL": "WARNING",
        "VALUELOOP_OUTBOX_POLL_SECONDS": "0.05",
        # The held send must still be in flight at the kill (no timeout before it, on a busy
        # machine), and the lease must outlast it; the second worker waits this out once.
        "VALUELOOP_OUTBOUND_TIMEOUT_SECONDS": "15",
        "VALUELOOP_OUTBOX_LEASE_SECONDS": "16",
        "VALUELOOP_OUTBOX_BATCH_SIZE": "3",
    }
    with log.open("wb") as output:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "app.cli", "worker"],
            cwd=REPO,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def test_a_worker_killed_mid_delivery_loses_nothing_and_repeats_only_that_delivery(
    database_url, clean_tables, tmp_path
):
    if not database_url.startswith("postgresql"):
        pytest.skip("several worker processes are the PostgreSQL deployment")
    settings = Settings(
        mode=Mode.DEMO, database_url=database_url, secret_key=SECRET_KEY, data_dir=tmp_path
    )
    workers: list[subprocess.Popen[bytes]] = []
    with running_receiver("", hold_first=True) as receiver:
        _in_own_loop(_arrange(settings, receiver))
        try:
            first = _worker(settings, tmp_path / "first.log")
            workers.append(first)
            receiver.wait_until(lambda r: r.held_id is not None, "the first worker's send")
            workers.append(_worker(settings, tmp_path / "second.log"))
            # The second worker delivers beside the first, skipping what the first claimed.
            receiver.wait_until(lambda r: len(r.delivered_ids()) >= 3, "the second worker")

            first.send_signal(signal.SIGKILL)
            first.wait(timeout=30)
            receiver.release()

            receiver.wait_until(
                lambda r: (
                    set(r.delivered_ids()) >= {item.message_id for item in r.received}
                    and len(set(r.delivered_ids())) == FLAGS
                ),
                "every event, the killed worker's one included",
            )
            statuses = _in_own_loop(_all_delivered(database_url))
        finally:
            for process in workers:
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
                    process.wait(timeout=30)

    assert workers[1].returncode == 0, (tmp_path / "second.log").read_text()
    assert receiver.bad_signatures == 0
    counts: dict[str, int] = {}
    for item in receiver.received:
        counts[item.message_id] = counts.get(item.message_id, 0) + 1
    assert len(counts) == FLAGS
    assert {key for key, count in counts.items() if count > 1} <= {receiver.held_id}
    assert statuses == ["delivered"] * FLAGS
