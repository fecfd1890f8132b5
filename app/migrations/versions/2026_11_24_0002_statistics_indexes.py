"""Indexes for rare list filters and for the closed-loop statistics.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24

Reviewed by hand; measured with 1,000,000 flags in bench/README.md.
- driver and priority get the (column, created_at, id) index the other list filters have, so a
  rare combination no longer reads the newest flags one by one (p95 70 ms -> 8 ms).
- On PostgreSQL, two covering indexes let the loop statistics read a narrow index instead of
  the whole table twice (p95 754 ms -> 255 ms for all time). SQLite has no INCLUDE; its
  databases are small enough without them.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_flag_driver_created", "flag", ["driver", "created_at", "id"])
    op.create_index("ix_flag_priority_created", "flag", ["priority", "created_at", "id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX ix_flag_loop ON flag (created_at) INCLUDE (anonymity, first_reply_at)"
        )
        op.execute(
            "CREATE INDEX ix_flag_replied ON flag (created_at) INCLUDE (first_reply_at) "
            "WHERE first_reply_at IS NOT NULL"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_flag_replied")
        op.execute("DROP INDEX IF EXISTS ix_flag_loop")
    op.drop_index("ix_flag_priority_created", table_name="flag")
    op.drop_index("ix_flag_driver_created", table_name="flag")
