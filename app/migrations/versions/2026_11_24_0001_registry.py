"""The registry: flags and their timeline, API tokens and the audit trail.

Revision ID: 0001
Revises:
Create Date: 2026-11-24

Reviewed by hand. On PostgreSQL a trigram index serves the free-text search on notes
(``ILIKE '%...%'``); pg_trgm is a trusted extension, so the database owner may create it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_token",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("token_prefix", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_table(
        "audit_event",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_kind", sa.String(length=20), nullable=False),
        sa.Column("actor_id", sa.String(length=500), nullable=False),
        sa.Column("actor_role", sa.String(length=40), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("entity_type", sa.String(length=40), nullable=False),
        sa.Column("entity_id", sa.String(length=100), nullable=True),
        sa.Column("issuer", sa.String(length=500), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("source_ip", sa.String(length=64), nullable=True),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_audit_event_at", "audit_event", ["at"], unique=False)
    op.create_table(
        "flag",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_week", sa.Date(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("idempotency_key", sa.String(length=100), nullable=False),
        sa.Column("idempotency_scope", sa.String(length=500), nullable=False),
        sa.Column("request_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("anonymity", sa.String(length=20), nullable=False),
        sa.Column("reporter_fhir_user", sa.String(length=500), nullable=True),
        sa.Column("reporter_display", sa.String(length=200), nullable=True),
        sa.Column("reporter_role", sa.String(length=40), nullable=False),
        sa.Column("reporter_department", sa.String(length=200), nullable=True),
        sa.Column("receipt_token_hash", sa.String(length=64), nullable=True),
        sa.Column("patient_fhir_id", sa.String(length=64), nullable=False),
        sa.Column("patient_age_band", sa.String(length=10), nullable=True),
        sa.Column("patient_sex", sa.String(length=10), nullable=True),
        sa.Column("encounter_fhir_id", sa.String(length=64), nullable=True),
        sa.Column("encounter_class", sa.String(length=40), nullable=True),
        sa.Column("encounter_type", sa.String(length=200), nullable=True),
        sa.Column("department", sa.String(length=200), nullable=True),
        sa.Column("encounter_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("encounter_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("order_resource_type", sa.String(length=40), nullable=False),
        sa.Column("order_fhir_id", sa.String(length=64), nullable=False),
        sa.Column("order_code_system", sa.String(length=500), nullable=True),
        sa.Column("order_code", sa.String(length=100), nullable=True),
        sa.Column("order_display", sa.String(length=200), nullable=False),
        sa.Column("order_status", sa.String(length=20), nullable=False),
        sa.Column("order_intent", sa.String(length=20), nullable=True),
        sa.Column("order_authored_on", sa.DateTime(timezone=True), nullable=True),
        sa.Column("order_requester_role", sa.String(length=200), nullable=True),
        sa.Column("timing", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("driver", sa.String(length=40), nullable=True),
        sa.Column("note", sa.String(length=1000), nullable=True),
        sa.Column("estimated_cost_cents", sa.Integer(), nullable=True),
        sa.Column("cost_source", sa.String(length=200), nullable=True),
        sa.Column("cost_year", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("priority", sa.String(length=10), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("owner_lead", sa.String(length=200), nullable=True),
        sa.Column("owner_operational_lead", sa.String(length=200), nullable=True),
        sa.Column("duplicate_of_id", sa.Uuid(), nullable=True),
        sa.Column("first_reply_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["duplicate_of_id"],
            ["flag.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "issuer", "idempotency_scope", "idempotency_key", name="uq_flag_idempotency"
        ),
        sa.UniqueConstraint("receipt_token_hash"),
    )
    op.create_index("ix_flag_created", "flag", ["created_at", "id"], unique=False)
    op.create_index(
        "ix_flag_department_created", "flag", ["department", "created_at", "id"], unique=False
    )
    op.create_index(
        "ix_flag_order_code_created", "flag", ["order_code", "created_at", "id"], unique=False
    )
    op.create_index("ix_flag_reason_created", "flag", ["reason", "created_at", "id"], unique=False)
    op.create_index(
        "ix_flag_reporter_created", "flag", ["reporter_fhir_user", "created_at", "id"], unique=False
    )
    op.create_index("ix_flag_status_created", "flag", ["status", "created_at", "id"], unique=False)
    op.create_index("ix_flag_updated", "flag", ["updated_at", "id"], unique=False)
    op.create_index("ix_flag_week", "flag", ["created_week"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE INDEX ix_flag_note_trgm ON flag USING gin (note gin_trgm_ops)")
    op.create_table(
        "flag_event",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("flag_id", sa.Uuid(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("actor_name", sa.String(length=200), nullable=False),
        sa.Column("actor_role", sa.String(length=40), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=True),
        sa.Column("to_status", sa.String(length=20), nullable=True),
        sa.Column("body", sa.String(length=4000), nullable=True),
        sa.Column("visible_to_reporter", sa.Boolean(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["flag_id"],
            ["flag.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_flag_event_flag", "flag_event", ["flag_id", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_flag_event_flag", table_name="flag_event")
    op.drop_table("flag_event")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_flag_note_trgm")
    op.drop_index("ix_flag_week", table_name="flag")
    op.drop_index("ix_flag_updated", table_name="flag")
    op.drop_index("ix_flag_status_created", table_name="flag")
    op.drop_index("ix_flag_reporter_created", table_name="flag")
    op.drop_index("ix_flag_reason_created", table_name="flag")
    op.drop_index("ix_flag_order_code_created", table_name="flag")
    op.drop_index("ix_flag_department_created", table_name="flag")
    op.drop_index("ix_flag_created", table_name="flag")
    op.drop_table("flag")
    op.drop_index("ix_audit_event_at", table_name="audit_event")
    op.drop_table("audit_event")
    op.drop_table("api_token")
