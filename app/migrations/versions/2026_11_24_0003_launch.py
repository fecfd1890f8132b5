"""SMART launch: registered EHRs, pending launches and app sessions.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24

Reviewed by hand. Secrets are stored encrypted or hashed (see app/launch/models.py).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pending_launch",
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("launch", sa.String(length=500), nullable=True),
        sa.Column("pkce_verifier_encrypted", sa.String(length=1000), nullable=False),
        sa.Column("nonce", sa.String(length=100), nullable=False),
        sa.Column("redirect_uri", sa.String(length=500), nullable=False),
        sa.Column("requested_scopes", sa.JSON(), nullable=False),
        sa.Column("browser_binding_hash", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("state_hash"),
    )
    op.create_table(
        "registered_ehr",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("client_id", sa.String(length=200), nullable=False),
        sa.Column("client_auth", sa.String(length=30), nullable=False),
        sa.Column("client_secret_encrypted", sa.String(length=2000), nullable=True),
        sa.Column("scopes", sa.JSON(), nullable=True),
        sa.Column("frame_origins", sa.JSON(), nullable=False),
        sa.Column("force_pkce", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("issuer"),
    )
    op.create_table(
        "app_session",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("handle_hash", sa.String(length=64), nullable=False),
        sa.Column("ehr_id", sa.Uuid(), nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("patient_id", sa.String(length=64), nullable=True),
        sa.Column("encounter_id", sa.String(length=64), nullable=True),
        sa.Column("fhir_user", sa.String(length=500), nullable=True),
        sa.Column("fhir_context", sa.JSON(), nullable=False),
        sa.Column("granted_scopes", sa.JSON(), nullable=False),
        sa.Column("need_patient_banner", sa.Boolean(), nullable=False),
        sa.Column("smart_style_url", sa.String(length=500), nullable=True),
        sa.Column("tenant", sa.String(length=200), nullable=True),
        sa.Column("access_token_encrypted", sa.String(length=8000), nullable=False),
        sa.Column("refresh_token_encrypted", sa.String(length=8000), nullable=True),
        sa.Column("access_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["ehr_id"], ["registered_ehr.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("handle_hash"),
    )


def downgrade() -> None:
    op.drop_table("app_session")
    op.drop_table("registered_ehr")
    op.drop_table("pending_launch")
