"""The reporter is known: the signed-in user's name and email on the app session, and the
reporter's email on the flag.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06

Reviewed by hand. Only new nullable columns: no rewrite of existing rows, no lock beyond
the ALTER itself. ``app_session.reporter_name``/``reporter_email`` hold who the EHR says is
signed in (the fhirUser resource, else the id_token's ``name``/``email``);
``flag.reporter_email`` is kept for identified and confidential flags so the reporter can be
answered by email, never for anonymous ones (``app.flags.anonymity``).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("flag", sa.Column("reporter_email", sa.String(length=320), nullable=True))
    op.add_column("app_session", sa.Column("reporter_name", sa.String(length=200), nullable=True))
    op.add_column("app_session", sa.Column("reporter_email", sa.String(length=320), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("app_session") as batch:
        batch.drop_column("reporter_email")
        batch.drop_column("reporter_name")
    with op.batch_alter_table("flag") as batch:
        batch.drop_column("reporter_email")
