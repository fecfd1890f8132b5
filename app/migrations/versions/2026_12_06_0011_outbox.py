"""One outbox of deliveries (email, webhooks), written in the event's transaction.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06

Reviewed by hand. The outbox table (one row per delivery, claimed by workers with a lease) and
the webhook endpoints (signing secrets stored encrypted); see app/notifications/models.py.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outbox_delivery",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("recipient", sa.String(length=500), nullable=False),
        sa.Column("event", sa.String(length=50), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("flag_id", sa.Uuid(), nullable=True),
        sa.Column("sequence_key", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key"),
    )
    op.create_index("ix_outbox_due", "outbox_delivery", ["status", "next_attempt_at", "id"])
    op.create_index("ix_outbox_sequence", "outbox_delivery", ["sequence_key", "id"])
    op.create_index("ix_outbox_flag", "outbox_delivery", ["flag_id"])
    op.create_table(
        "webhook_endpoint",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("secret_encrypted", sa.String(length=1000), nullable=False),
        sa.Column("allow_patient_data", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("webhook_endpoint")
    op.drop_index("ix_outbox_flag", table_name="outbox_delivery")
    op.drop_index("ix_outbox_sequence", table_name="outbox_delivery")
    op.drop_index("ix_outbox_due", table_name="outbox_delivery")
    op.drop_table("outbox_delivery")
