"""Keep, per app session, the patient and encounter facts a flag snapshots.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06

Reviewed by hand. The in-EHR page reads the launch's context before anything can be flagged;
what a flag needs of the patient (age band, sex) and the encounter (class, type, department,
period) is kept from that read, so submitting a flag re-reads only its order from the EHR
instead of three resources (bench/README.md, flag submission). Nullable: sessions opened
before this release read the patient and encounter at submit time, as before.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("app_session", sa.Column("flag_context", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("app_session", "flag_context")
