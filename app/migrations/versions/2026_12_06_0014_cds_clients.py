"""CDS client trust: the CDS clients allowed to call our CDS Hooks services, and the token ids
(jti) they have used.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06

Reviewed by hand. See app/cds/models.py.

- ``cds_client``: one row per allowed ``iss`` (unique, stored without a trailing slash), with
  exactly one of ``jwks_url`` and ``jwks`` (a check constraint says so on both databases).
- ``cds_jwt_seen``: the replay window; the primary key (iss, jti) refuses a second use, and
  the index on ``expires_at`` serves the clean-up of expired rows.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cds_client",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("iss", sa.String(length=500), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("jwks_url", sa.String(length=500), nullable=True),
        sa.Column("jwks", sa.JSON(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("iss"),
        sa.CheckConstraint(
            "(jwks_url IS NULL) <> (jwks IS NULL)", name="ck_cds_client_one_key_source"
        ),
    )
    op.create_table(
        "cds_jwt_seen",
        sa.Column("iss", sa.String(length=500), nullable=False),
        sa.Column("jti", sa.String(length=200), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("iss", "jti"),
    )
    op.create_index("ix_cds_jwt_seen_expires_at", "cds_jwt_seen", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_cds_jwt_seen_expires_at", table_name="cds_jwt_seen")
    op.drop_table("cds_jwt_seen")
    op.drop_table("cds_client")
