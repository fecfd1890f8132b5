"""Keep, per flag, which low-value rules judged the order low-value when it was flagged.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06

Reviewed by hand. ``flag.rule_agreement`` is a JSON list of the rules (id, version, title,
first source) that found the flagged order low-value at flag time: from the in-EHR page's own
evaluation of the launch's orders, or the rule behind a CDS catch. ``[]`` says the rules ran
and none agreed; NULL that none was run (every flag made before this release), so the
column needs no backfill.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("flag", sa.Column("rule_agreement", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("flag", "rule_agreement")
