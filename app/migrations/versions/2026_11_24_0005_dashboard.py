"""The quality dashboard: staff sign-in sessions, OpenID Connect sign-ins in flight, and the
indexes its triage queue and searches need.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24

Reviewed by hand; measured with 1,000,000 flags in bench/README.md.
- The duplicate search finds flags by patient or order id.
- reporter_role and the two owner columns get the (column, created_at, id) index the other
  queue filters have.
- PostgreSQL only: the queue's "new first" order reads an expression index instead of
  sorting every matching flag, and the dashboard's search also looks in the order's name
  (trigram index, like the note's).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Must stay the exact expression app.flags.repository sorts by, or the planner ignores it.
NEW_FIRST = "(CASE WHEN status = 'submitted' THEN 1 ELSE 0 END)"


def upgrade() -> None:
    op.create_table(
        "staff_session",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("api_token_id", sa.Uuid(), nullable=True),
        sa.Column("subject", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["api_token_id"], ["api_token.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("secret_hash"),
    )
    op.create_index("ix_staff_session_api_token_id", "staff_session", ["api_token_id"])
    op.create_table(
        "oidc_sign_in",
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("pkce_verifier_encrypted", sa.String(length=1000), nullable=False),
        sa.Column("nonce", sa.String(length=200), nullable=False),
        sa.Column("next_path", sa.String(length=500), nullable=False),
        sa.Column("browser_binding_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("state_hash"),
    )
    # The duplicate search looks for the same order, or the same patient's earlier flags.
    op.create_index("ix_flag_patient", "flag", ["patient_fhir_id"])
    op.create_index("ix_flag_order_fhir_id", "flag", ["order_fhir_id"])
    op.create_index("ix_flag_reporter_role_created", "flag", ["reporter_role", "created_at", "id"])
    op.create_index("ix_flag_owner_created", "flag", ["owner_lead", "created_at", "id"])
    op.create_index(
        "ix_flag_operational_owner_created",
        "flag",
        ["owner_operational_lead", "created_at", "id"],
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE INDEX ix_flag_new_first ON flag ({NEW_FIRST}, created_at, id)")
        op.execute(
            "CREATE INDEX ix_flag_order_display_trgm ON flag USING gin (order_display gin_trgm_ops)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_flag_order_display_trgm")
        op.execute("DROP INDEX IF EXISTS ix_flag_new_first")
    op.drop_index("ix_flag_operational_owner_created", table_name="flag")
    op.drop_index("ix_flag_owner_created", table_name="flag")
    op.drop_index("ix_flag_reporter_role_created", table_name="flag")
    op.drop_index("ix_flag_order_fhir_id", table_name="flag")
    op.drop_index("ix_flag_patient", table_name="flag")
    op.drop_table("oidc_sign_in")
    op.drop_index("ix_staff_session_api_token_id", table_name="staff_session")
    op.drop_table("staff_session")
