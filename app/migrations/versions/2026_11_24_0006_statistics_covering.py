"""Covering indexes so the all-time statistics read narrow indexes in group order.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24

Reviewed by hand; measured with 1,000,000 flags in bench/README.md. PostgreSQL only (SQLite
has no INCLUDE, and its registries are small).

Grouping a million flags in a hash table costs about 250 ms on two cores, whatever is read.
Reading an index already in group order lets PostgreSQL aggregate as it goes, from an
index-only scan: breakdown by department 250 -> 80-115 ms, by service 300 -> 125-180 ms.
- The (department|reason|driver, created_at, id) list indexes are rebuilt with the estimated
  cost included; the weekly index with the cost and creation time.
- Services get their own index (system, code, display) with the cost and creation time.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LIST_INDEXES = {
    "ix_flag_department_created": "department",
    "ix_flag_reason_created": "reason",
    "ix_flag_driver_created": "driver",
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, column in _LIST_INDEXES.items():
        op.execute(f"DROP INDEX {name}")
        op.execute(
            f"CREATE INDEX {name} ON flag ({column}, created_at, id) INCLUDE (estimated_cost_cents)"
        )
    op.execute("DROP INDEX ix_flag_week")
    op.execute(
        "CREATE INDEX ix_flag_week ON flag (created_week) "
        "INCLUDE (estimated_cost_cents, created_at)"
    )
    op.execute(
        "CREATE INDEX ix_flag_service_stats ON flag (order_code_system, order_code, order_display) "
        "INCLUDE (estimated_cost_cents, created_at)"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_flag_service_stats")
    op.execute("DROP INDEX ix_flag_week")
    op.execute("CREATE INDEX ix_flag_week ON flag (created_week)")
    for name, column in _LIST_INDEXES.items():
        op.execute(f"DROP INDEX {name}")
        op.execute(f"CREATE INDEX {name} ON flag ({column}, created_at, id)")
