"""The organization's own price list, ahead of the Medicare reference prices; stored times to
close and stays in each status, for the median time to close and the cycle time.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06

Reviewed by hand.

- ``price_list``: one price per code and effective date (the unique key also serves the
  lookup of the price in effect on an order's date).
- ``flag.closed_at`` and ``flag.close_wait_seconds``: when the review ended and the seconds
  from the flag to then, stored beside the flag like ``reply_wait_seconds`` (0007) so the
  median reads the middle values from a partial index instead of sorting every closed flag.
  Backfilled from the timeline: the status change into the end state the flag is in now.
- ``flag_event.status_seconds``: on each status change, the seconds spent in the status it
  left; backfilled from the previous status event of the same flag (the creation event, or
  the status change before). Indexed by status for the median stay.

The backfills rewrite the ended flags and the status-change events (on a million flags about
two thirds of the flags and two million events): as with 0007, run it in a quiet hour and
``VACUUM FULL flag, flag_event`` (or pg_repack) afterwards.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Seconds between two timestamps differ by dialect (SQLite keeps them as text: julianday).
_CLOSE_WAIT = {
    "postgresql": "UPDATE flag SET close_wait_seconds = EXTRACT(EPOCH FROM closed_at - created_at) "
    "WHERE closed_at IS NOT NULL",
    "sqlite": "UPDATE flag SET close_wait_seconds = "
    "(julianday(closed_at) - julianday(created_at)) * 86400.0 WHERE closed_at IS NOT NULL",
}
# Each status change's stay: from the flag's previous status event (its creation or the
# change before).
_PREVIOUS = (
    "FROM (SELECT id, lag(at) OVER (PARTITION BY flag_id ORDER BY at, id) AS entered_at "
    "FROM flag_event WHERE to_status IS NOT NULL) AS previous "
    "WHERE flag_event.id = previous.id AND flag_event.kind = 'status_change' "
    "AND previous.entered_at IS NOT NULL"
)
_STAYS = {
    "postgresql": "UPDATE flag_event SET status_seconds = "
    "EXTRACT(EPOCH FROM flag_event.at - previous.entered_at) ",
    "sqlite": "UPDATE flag_event SET status_seconds = "
    "(julianday(flag_event.at) - julianday(previous.entered_at)) * 86400.0 ",
}


def upgrade() -> None:
    op.create_table(
        "price_list",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("code_system", sa.String(length=500), nullable=False),
        sa.Column("code", sa.String(length=100), nullable=False),
        sa.Column("price_cents", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("loaded_by", sa.String(length=200), nullable=False),
        sa.UniqueConstraint(
            "code_system", "code", "effective_date", name="uq_price_list_code_effective"
        ),
    )
    op.add_column("flag", sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("flag", sa.Column("close_wait_seconds", sa.Float(), nullable=True))
    op.add_column("flag_event", sa.Column("status_seconds", sa.Float(), nullable=True))
    _backfill(op.get_bind().dialect.name)
    stored = sa.text("close_wait_seconds IS NOT NULL")
    op.create_index(
        "ix_flag_close_wait",
        "flag",
        ["close_wait_seconds", "created_at"],
        postgresql_where=stored,
        sqlite_where=stored,
    )
    op.create_index(
        "ix_flag_reason_close_wait",
        "flag",
        ["reason", "close_wait_seconds", "created_at"],
        postgresql_where=stored,
        sqlite_where=stored,
    )
    timed = sa.text("status_seconds IS NOT NULL")
    op.create_index(
        "ix_flag_event_status_seconds",
        "flag_event",
        ["from_status", "status_seconds", "flag_id"],
        postgresql_where=timed,
        sqlite_where=timed,
    )


def _backfill(dialect: str) -> None:
    # The moment each ended flag entered the end state it is in now: its last status change.
    op.execute(
        "UPDATE flag SET closed_at = (SELECT max(e.at) FROM flag_event e "
        "WHERE e.flag_id = flag.id AND e.kind = 'status_change' AND e.to_status = flag.status) "
        "WHERE status IN ('closed', 'not_low_value', 'duplicate')"
    )
    op.execute(_CLOSE_WAIT[dialect])
    op.execute(_STAYS[dialect] + _PREVIOUS)


def downgrade() -> None:
    op.drop_index("ix_flag_event_status_seconds", table_name="flag_event")
    op.drop_index("ix_flag_reason_close_wait", table_name="flag")
    op.drop_index("ix_flag_close_wait", table_name="flag")
    with op.batch_alter_table("flag_event") as batch:
        batch.drop_column("status_seconds")
    with op.batch_alter_table("flag") as batch:
        batch.drop_column("close_wait_seconds")
        batch.drop_column("closed_at")
    op.drop_table("price_list")
