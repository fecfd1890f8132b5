"""Keep, per app session, the appContext of a launch from a CDS Hooks card.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06

Reviewed by hand. A CDS card's SMART link carries ``appContext`` (our JSON: the order, the
rule, the card), and the EHR hands it to the app in the token response (CDS Hooks 2.0
"Link"). The session keeps it so the in-EHR page can open on that order. Nullable: launches
that are not from a card have none, and sessions opened before this release keep working.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("app_session", sa.Column("app_context", sa.String(2048), nullable=True))


def downgrade() -> None:
    op.drop_column("app_session", "app_context")
