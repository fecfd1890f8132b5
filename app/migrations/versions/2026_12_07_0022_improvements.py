"""Improvement work: improvements, the flags they answer, and their timeline.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07

Reviewed by hand. Three new tables, nothing changed on the existing ones:

- ``improvement``: one piece of improvement work of one organization, its dyad of owners,
  targets (order codes and catalog rules, JSON), go-live date and informatics ticket;
- ``improvement_flag``: a flag answered by an improvement, keyed by the flag (a flag is linked
  to one improvement at most), with the organization so the scope reaches it;
- ``improvement_event``: the append-only timeline.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "improvement",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("notes", sa.String(length=4000), nullable=True),
        sa.Column("targets", sa.JSON(), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("clinical_lead_id", sa.Uuid(), nullable=True),
        sa.Column("operational_lead_id", sa.Uuid(), nullable=True),
        sa.Column("go_live", sa.Date(), nullable=True),
        sa.Column("declined_reason", sa.String(length=4000), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ticket_reference", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(["clinical_lead_id"], ["staff.id"]),
        sa.ForeignKeyConstraint(["operational_lead_id"], ["staff.id"]),
        sa.ForeignKeyConstraint(["organization_id"], ["organization.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_improvement_organization_status",
        "improvement",
        ["organization_id", "status", "created_at"],
    )
    op.create_index("ix_improvement_status_go_live", "improvement", ["status", "go_live"])
    op.create_table(
        "improvement_event",
        sa.Column("id", _ID, nullable=False),
        sa.Column("improvement_id", sa.Uuid(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("actor_name", sa.String(length=200), nullable=False),
        sa.Column("actor_role", sa.String(length=40), nullable=False),
        sa.Column("actor_staff_id", sa.Uuid(), nullable=True),
        sa.Column("from_status", sa.String(length=20), nullable=True),
        sa.Column("to_status", sa.String(length=20), nullable=True),
        sa.Column("body", sa.String(length=4000), nullable=True),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["actor_staff_id"], ["staff.id"]),
        sa.ForeignKeyConstraint(["improvement_id"], ["improvement.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_improvement_event_improvement", "improvement_event", ["improvement_id", "id"]
    )
    op.create_table(
        "improvement_flag",
        sa.Column("flag_id", sa.Uuid(), nullable=False),
        sa.Column("improvement_id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note_shareable", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["flag_id"], ["flag.id"]),
        sa.ForeignKeyConstraint(["improvement_id"], ["improvement.id"]),
        sa.PrimaryKeyConstraint("flag_id"),
    )
    op.create_index(
        "ix_improvement_flag_improvement", "improvement_flag", ["improvement_id", "linked_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_improvement_flag_improvement", table_name="improvement_flag")
    op.drop_table("improvement_flag")
    op.drop_index("ix_improvement_event_improvement", table_name="improvement_event")
    op.drop_table("improvement_event")
    op.drop_index("ix_improvement_status_go_live", table_name="improvement")
    op.drop_index("ix_improvement_organization_status", table_name="improvement")
    op.drop_table("improvement")
