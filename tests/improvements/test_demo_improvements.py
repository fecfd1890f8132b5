"""The demo's improvement work (``valueloop seed --improvements``): one change live for eight
weeks with its linked flags moved on and replied to, one proposed; made once per organization."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa

from tests.test_cli import migrated, run


def rows(database_file: Path, sql: str) -> list[tuple[Any, ...]]:
    engine = sa.create_engine(f"sqlite:///{database_file}")
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(sa.text(sql)).all()]
    finally:
        engine.dispose()


def test_seeding_with_improvements_starts_one_live_and_one_proposed(env, database_file):
    result = run(migrated(env), "seed", "--flags", "400", "--improvements")
    again = run(env, "seed", "--flags", "10", "--if-empty", "--improvements")

    assert result.exit_code == 0, result.output
    assert "Started 2 demo improvements." in result.stdout
    assert "Started 0 demo improvements." in again.stdout  # made once per organization
    statuses = rows(database_file, "SELECT status, kind FROM improvement ORDER BY status")
    assert statuses == [("live", "ehr_build"), ("proposed", "education")]
    moved = rows(
        database_file,
        "SELECT DISTINCT f.status FROM flag f JOIN improvement_flag l ON l.flag_id = f.id "
        "JOIN improvement i ON i.id = l.improvement_id WHERE i.status = 'live'",
    )
    assert moved == [("action_taken",)]
    replies = rows(
        database_file,
        "SELECT COUNT(*) FROM flag_event e JOIN improvement_flag l ON l.flag_id = e.flag_id "
        "JOIN improvement i ON i.id = l.improvement_id "
        "WHERE i.status = 'live' AND e.kind = 'reply' AND e.body LIKE 'Your flag contributed%'",
    )
    linked = rows(
        database_file,
        "SELECT COUNT(*) FROM improvement_flag l JOIN improvement i ON i.id = l.improvement_id "
        "WHERE i.status = 'live'",
    )
    assert replies == linked
    assert linked[0][0] > 0
