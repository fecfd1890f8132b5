"""Per-person opt-outs from each kind of notification.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06

Reviewed by hand. One row per (normalized email address, kind of email) a person asked not to
get; the planner and the email channel both read it, resubscribing deletes the row.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notification_opt_out",
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("email", "kind"),
    )


def downgrade() -> None:
    op.drop_table("notification_opt_out")
