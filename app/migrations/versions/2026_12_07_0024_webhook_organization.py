"""Webhook endpoints of one organization.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07

Reviewed by hand. ``webhook_endpoint.organization_id``: the organization whose flag events and
improvement change requests the endpoint gets (a hospital's ticketing system, not its
affiliated practice's); NULL, as every existing endpoint keeps, gets every organization's. A
plain id as on ``flag`` (organizations are never deleted), so SQLite adds it in place.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("webhook_endpoint", sa.Column("organization_id", sa.Uuid(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("webhook_endpoint") as batch:
        batch.drop_column("organization_id")
