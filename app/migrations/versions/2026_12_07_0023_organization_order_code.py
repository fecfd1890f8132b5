"""An index for measuring improvement work: an organization's flags by order code and time.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07

Reviewed by hand; measured with 1,000,000 flags (bench/README.md, 2026-12-07, "improvement
work"). An improvement's effect counts its organization's flags on its target codes before and
after go-live, by window and by week. Through ``ix_flag_order_code_created`` each count read
every matching row from the table (the commonest code is an eighth of all flags: 25,000 to
35,000 heap pages per count, 150 to 250 ms), and finding the codes a catalog rule matches read
the whole table (350 ms). ``ix_flag_organization_order_code`` (PostgreSQL, covering the cost
and the week) makes the counts index-only, and lets the codes be found by skipping through it
(app/improvements/counts.py). SQLite, the embedded default, keeps reading the table.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX ix_flag_organization_order_code ON flag "
            "(organization_id, order_code_system, order_code, created_at) "
            "INCLUDE (estimated_cost_cents, created_week)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_flag_organization_order_code")
