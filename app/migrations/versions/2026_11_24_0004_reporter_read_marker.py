"""How far each reporter has read the replies on their flags (for the unread badge).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24

Reviewed by hand.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reporter_read_marker",
        sa.Column("flag_id", sa.Uuid(), nullable=False),
        sa.Column(
            "read_through_event_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["flag_id"], ["flag.id"]),
        sa.PrimaryKeyConstraint("flag_id"),
    )


def downgrade() -> None:
    op.drop_table("reporter_read_marker")
