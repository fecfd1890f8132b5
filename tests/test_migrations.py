"""The migrations build exactly the schema the models describe, and can be undone and redone.

Each test gets a database of its own (a fresh SQLite file, or a throwaway PostgreSQL database),
so migrating up and down never disturbs the database the other tests share.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

import app.models  # noqa: F401  (registers every table on SQLModel.metadata)
from app.db import create_sync_engine_for
from app.migrate import downgrade, head_revision, upgrade
from tests.conftest import reachable_postgres_server, throwaway_postgres_database

# Created by hand in the migrations (trigram and covering indexes); the models cannot say them.
POSTGRES_ONLY_INDEXES = {
    "ix_flag_note_trgm",
    "ix_flag_loop",
    "ix_flag_replied",
    "ix_flag_new_first",
    "ix_flag_organization_new_first",
    "ix_flag_organization_loop",
    "ix_flag_organization_reply_wait",
    "ix_flag_organization_order_code",
    "ix_flag_order_display_trgm",
    "ix_flag_service_stats",
    "ix_flag_reply_wait",
}
TABLES = {
    "alembic_version",
    "api_token",
    "app_session",
    "audit_event",
    "cds_client",
    "cds_jwt_seen",
    "cds_card",
    "cds_daily_count",
    "cds_feedback",
    "flag",
    "flag_event",
    "improvement",
    "improvement_event",
    "improvement_flag",
    "notification_opt_out",
    "oidc_sign_in",
    "organization",
    "outbox_delivery",
    "pending_launch",
    "price_list",
    "registered_ehr",
    "reporter_read_marker",
    "staff",
    "staff_session",
    "webhook_endpoint",
}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_database_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    with throwaway_postgres_database(reachable_postgres_server()) as url:
        yield url


def _is_postgres_only_index(difference: Any) -> bool:
    kind, *rest = difference
    return kind in {"add_index", "remove_index"} and rest[0].name in POSTGRES_ONLY_INDEXES


def schema_differences(url: str) -> list[Any]:
    """What autogenerate would put in a new migration for this database (nothing, we hope)."""
    engine = create_sync_engine_for(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, SQLModel.metadata)
    finally:
        engine.dispose()
    return [d for d in differences if not (isinstance(d, tuple) and _is_postgres_only_index(d))]


def table_names(url: str) -> set[str]:
    engine = create_sync_engine_for(url)
    try:
        with engine.connect() as connection:
            return set(sa.inspect(connection).get_table_names())
    finally:
        engine.dispose()


def current_revision(url: str) -> str | None:
    engine = create_sync_engine_for(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def test_migrations_build_exactly_the_schema_of_the_models(empty_database_url):
    upgrade(empty_database_url)

    assert schema_differences(empty_database_url) == []
    assert table_names(empty_database_url) == TABLES
    assert current_revision(empty_database_url) == head_revision()


def test_migrations_can_be_undone_to_nothing_and_applied_again(empty_database_url):
    upgrade(empty_database_url)

    downgrade(empty_database_url, "base")

    assert table_names(empty_database_url) == {"alembic_version"}
    assert current_revision(empty_database_url) is None

    upgrade(empty_database_url)

    assert schema_differences(empty_database_url) == []
    assert current_revision(empty_database_url) == head_revision()


def test_upgrading_an_up_to_date_database_changes_nothing(empty_database_url):
    upgrade(empty_database_url)

    upgrade(empty_database_url)

    assert schema_differences(empty_database_url) == []
    assert current_revision(empty_database_url) == head_revision()


def test_the_trigram_index_exists_only_on_postgresql(empty_database_url):
    upgrade(empty_database_url)

    engine = create_sync_engine_for(empty_database_url)
    try:
        with engine.connect() as connection:
            indexes = {index["name"] for index in sa.inspect(connection).get_indexes("flag")}
            dialect = connection.dialect.name
    finally:
        engine.dispose()
    assert ("ix_flag_note_trgm" in indexes) is (dialect == "postgresql")


def test_reply_waits_are_backfilled_from_the_reply_times(empty_database_url):
    from app.demo.synthetic import SyntheticRegistry
    from app.flags.models import Flag

    upgrade(empty_database_url, "0006")
    flags, _ = next(SyntheticRegistry(seed=3).batches(60))
    engine = create_sync_engine_for(empty_database_url)
    try:
        with engine.begin() as connection:
            # The rows as release 0006 wrote them: no stored wait, no reporter email, no owners
            # (free-text names then; owners are people since 0009), no close times, no rules'
            # agreement.
            later = {
                "rule_agreement",
                "organization_id",
                "reply_wait_seconds",
                "reporter_email",
                "owner_lead_id",
                "owner_operational_lead_id",
                "closed_at",
                "close_wait_seconds",
            }
            rows = [{k: v for k, v in flag.items() if k not in later} for flag in flags]
            connection.execute(sa.insert(Flag), rows)
        upgrade(empty_database_url)
        with engine.connect() as connection:
            table = sa.inspect(Flag).local_table
            stored: dict[Any, float | None] = {
                row[0]: row[1]
                for row in connection.execute(sa.select(table.c.id, table.c.reply_wait_seconds))
            }
    finally:
        engine.dispose()

    assert any(flag["first_reply_at"] is not None for flag in flags), "needs replied flags"
    for flag in flags:
        if flag["first_reply_at"] is None:
            assert stored[flag["id"]] is None
        else:
            expected = (flag["first_reply_at"] - flag["created_at"]).total_seconds()
            assert stored[flag["id"]] == pytest.approx(expected, abs=0.01)


def test_free_text_owners_become_inactive_staff_records_and_come_back_on_downgrade(
    empty_database_url,
):
    from app.demo.synthetic import SyntheticRegistry
    from app.flags.models import Flag

    upgrade(empty_database_url, "0008")
    flags, _ = next(SyntheticRegistry(seed=3).batches(40))
    names = ["Dr. E. Nwosu", "R. Alvarez (operations)", "Dr. H. Tanaka"]
    engine = create_sync_engine_for(empty_database_url)
    try:
        with engine.begin() as connection:
            # Only the columns release 0008 had.
            columns = {c["name"] for c in sa.inspect(connection).get_columns("flag")}
            connection.execute(
                sa.insert(Flag), [{k: v for k, v in row.items() if k in columns} for row in flags]
            )
            # As release 0008 stored owners: names, of a lead alone or of a dyad.
            rows = [
                {
                    "id": row["id"],
                    "owner_lead": names[number % 3] if number % 4 else None,
                    "owner_operational_lead": names[1] if number % 4 == 2 else None,
                }
                for number, row in enumerate(flags)
            ]
            old = sa.table(
                "flag",
                sa.column("id", sa.Uuid()),
                sa.column("owner_lead", sa.String()),
                sa.column("owner_operational_lead", sa.String()),
            )
            for row in rows:
                connection.execute(
                    sa.update(old)
                    .where(old.c.id == row["id"])
                    .values(
                        owner_lead=row["owner_lead"],
                        owner_operational_lead=row["owner_operational_lead"],
                    )
                )
        upgrade(empty_database_url)
        with engine.connect() as connection:
            people = connection.execute(
                sa.text("SELECT id, name, email, role, active, deactivated_at FROM staff")
            ).all()
            owned = connection.execute(
                sa.text(
                    "SELECT f.id, l.name, o.name FROM flag f "
                    "LEFT JOIN staff l ON l.id = f.owner_lead_id "
                    "LEFT JOIN staff o ON o.id = f.owner_operational_lead_id"
                )
            ).all()
        downgrade(empty_database_url, "0008")
        with engine.connect() as connection:
            restored = connection.execute(
                sa.text("SELECT id, owner_lead, owner_operational_lead FROM flag")
            ).all()
    finally:
        engine.dispose()

    assert sorted(person.name for person in people) == sorted(names)
    for person in people:
        assert (person.email, person.role, bool(person.active)) == (None, "lead", False)
        assert person.deactivated_at is not None
    expected = {
        str(row["id"]).replace("-", ""): (row["owner_lead"], row["owner_operational_lead"])
        for row in rows
    }
    assert {str(f[0]).replace("-", ""): (f[1], f[2]) for f in owned} == expected
    assert {str(f[0]).replace("-", ""): (f[1], f[2]) for f in restored} == expected


def test_close_times_and_status_stays_are_backfilled_from_the_timeline(empty_database_url):
    from app.demo.synthetic import SyntheticRegistry
    from app.flags.models import Flag, FlagEvent

    upgrade(empty_database_url, "0012")
    flags, events = next(SyntheticRegistry(seed=5).batches(60))
    engine = create_sync_engine_for(empty_database_url)
    try:
        with engine.begin() as connection:
            # The rows as release 0012 wrote them: only the columns its tables have.
            inspector = sa.inspect(connection)
            flag_columns = {c["name"] for c in inspector.get_columns("flag")}
            event_columns = {c["name"] for c in inspector.get_columns("flag_event")}
            # Owners are staff records this test does not make: the flags stay unowned.
            flag_columns -= {"owner_lead_id", "owner_operational_lead_id"}
            connection.execute(
                sa.insert(Flag),
                [{k: v for k, v in row.items() if k in flag_columns} for row in flags],
            )
            event_columns -= {"actor_staff_id"}  # nor the staff who acted
            connection.execute(
                sa.insert(FlagEvent),
                [{k: v for k, v in row.items() if k in event_columns} for row in events],
            )
        upgrade(empty_database_url)
        with engine.connect() as connection:
            flag_table = sa.inspect(Flag).local_table
            event_table = sa.inspect(FlagEvent).local_table
            waits = dict(
                connection.execute(
                    sa.select(flag_table.c.id, flag_table.c.close_wait_seconds)
                ).all()
            )
            stays = sorted(
                value
                for (value,) in connection.execute(
                    sa.select(event_table.c.status_seconds).where(
                        event_table.c.status_seconds.is_not(None)
                    )
                )
            )
    finally:
        engine.dispose()

    assert any(flag["close_wait_seconds"] is not None for flag in flags), "needs ended flags"
    for flag in flags:
        if flag["close_wait_seconds"] is None:
            assert waits[flag["id"]] is None
        else:
            assert waits[flag["id"]] == pytest.approx(flag["close_wait_seconds"], abs=0.01)
    expected = sorted(e["status_seconds"] for e in events if e["status_seconds"] is not None)
    assert stays == pytest.approx(expected, abs=0.01)


def test_the_launch_app_context_column_comes_and_goes_with_0018(empty_database_url):
    def app_session_columns() -> dict[str, Any]:
        engine = create_sync_engine_for(empty_database_url)
        try:
            with engine.connect() as connection:
                columns = sa.inspect(connection).get_columns("app_session")
        finally:
            engine.dispose()
        return {column["name"]: column for column in columns}

    upgrade(empty_database_url, "0018")
    column = app_session_columns()["app_context"]
    downgrade(empty_database_url, "0015")

    assert column["nullable"] is True
    assert column["type"].length == 2048
    assert "app_context" not in app_session_columns()


def test_flags_from_before_rule_agreement_say_no_rule_was_run_and_new_ones_keep_it(
    empty_database_url,
):
    from app.demo.synthetic import SyntheticRegistry
    from app.flags.models import Flag

    upgrade(empty_database_url, "0015")
    flags, _ = next(SyntheticRegistry(seed=4).batches(10))
    agreed = [{"rule_id": "psa-screening-older-men", "rule_version": "2026.1", "title": "PSA"}]
    engine = create_sync_engine_for(empty_database_url)
    try:
        with engine.begin() as connection:
            columns = {c["name"] for c in sa.inspect(connection).get_columns("flag")}
            columns -= {"owner_lead_id", "owner_operational_lead_id"}
            old, new = flags[:5], flags[5:]
            connection.execute(
                sa.insert(Flag), [{k: v for k, v in row.items() if k in columns} for row in old]
            )
        upgrade(empty_database_url)
        with engine.begin() as connection:
            rows = [
                {**row, "owner_lead_id": None, "owner_operational_lead_id": None} for row in new
            ]
            rows[0]["rule_agreement"], rows[1]["rule_agreement"] = agreed, []
            connection.execute(sa.insert(Flag), rows)
        with engine.connect() as connection:
            table = sa.inspect(Flag).local_table
            stored = dict(connection.execute(sa.select(table.c.id, table.c.rule_agreement)).all())
            # NULL, not JSON null: "no rule was run" is an absence a query can find.
            unchecked = connection.execute(
                sa.select(sa.func.count()).where(table.c.rule_agreement.is_(None))
            ).scalar_one()
        downgrade(empty_database_url, "0015")
        with engine.connect() as connection:
            after = {c["name"] for c in sa.inspect(connection).get_columns("flag")}
    finally:
        engine.dispose()

    assert [stored[row["id"]] for row in old] == [None] * 5
    assert stored[new[0]["id"]] == agreed
    assert stored[new[1]["id"]] == []
    assert unchecked == 5 + 3
    assert "rule_agreement" not in after


def test_cds_counts_join_the_default_organization_and_add_back_up_on_downgrade(
    empty_database_url,
):
    upgrade(empty_database_url, "0018")
    key = "DATE '2026-03-02', 'valueloop-order-sign', 'low-back-pain-imaging', 'cpt', '72148'"
    engine = create_sync_engine_for(empty_database_url)
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "sqlite":
                key = key.replace("DATE '2026-03-02'", "'2026-03-02'")
            connection.execute(
                sa.text(
                    "INSERT INTO cds_daily_count (day, service_id, rule_id, order_code_system, "
                    "order_code, evaluated, shown, accepted, overridden) "
                    f"VALUES ({key}, 3, 2, 1, 0)"
                )
            )
        upgrade(empty_database_url)
        with engine.begin() as connection:
            kept = connection.execute(
                sa.text("SELECT organization_id, evaluated FROM cds_daily_count")
            ).all()
            other = "'11111111111111111111111111111111'"
            if connection.dialect.name == "postgresql":
                other = "'11111111-1111-1111-1111-111111111111'"
            connection.execute(
                sa.text(
                    "INSERT INTO cds_daily_count (organization_id, day, service_id, rule_id, "
                    "order_code_system, order_code, evaluated, shown, accepted, overridden) "
                    f"VALUES ({other}, {key}, 4, 1, 0, 1)"
                )
            )
        downgrade(empty_database_url, "0018")
        with engine.connect() as connection:
            summed = connection.execute(
                sa.text("SELECT evaluated, shown, accepted, overridden FROM cds_daily_count")
            ).all()
    finally:
        engine.dispose()

    assert [(str(row[0]).replace("-", ""), row[1]) for row in kept] == [
        ("00000000000040008000000000000001", 3)
    ]
    assert [tuple(row) for row in summed] == [(7, 3, 1, 1)]
