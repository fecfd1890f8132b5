"""Daily counts of the CDS services per rule and order code (issue #15).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06

Reviewed by hand.

- ``cds_daily_count``: per UTC day, service, rule and order code (system + code): draft
  orders evaluated, cards shown, accepted and overridden. Counts only: no patient, encounter,
  user or order id. Written with ``INSERT ... ON CONFLICT DO UPDATE SET n = n + excluded.n``,
  so the primary key is the conflict target.
- ``cds_card.order_code_system`` / ``order_code``: the code the rule matched, so a card's
  feedback is counted on the card's own row. Cards given before this revision have none and
  their feedback is not counted (their showing was not counted either).
- ``cds_card.feedback_counted``: claimed by the first feedback counted for the card
  (``UPDATE ... WHERE NOT feedback_counted``), so repeated or concurrent feedback counts once.
- ``cds_feedback.counted``: which stored outcome was the counted one; the override reasons
  on the dashboard are read from these and add up to the overridden count.
- ``ix_cds_feedback_flag_id``: the Insights page tells catches from clinician flags by the
  feedback that made them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cds_daily_count",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("service_id", sa.String(64), nullable=False),
        sa.Column("rule_id", sa.String(100), nullable=False),
        sa.Column("order_code_system", sa.String(500), nullable=False),
        sa.Column("order_code", sa.String(100), nullable=False),
        sa.Column("evaluated", sa.BigInteger(), nullable=False),
        sa.Column("shown", sa.BigInteger(), nullable=False),
        sa.Column("accepted", sa.BigInteger(), nullable=False),
        sa.Column("overridden", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", "service_id", "rule_id", "order_code_system", "order_code"),
    )
    op.add_column("cds_card", sa.Column("order_code_system", sa.String(500), nullable=True))
    op.add_column("cds_card", sa.Column("order_code", sa.String(100), nullable=True))
    op.add_column(
        "cds_card",
        sa.Column("feedback_counted", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column(
        "cds_feedback",
        sa.Column("counted", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.create_index("ix_cds_feedback_flag_id", "cds_feedback", ["flag_id"])


def downgrade() -> None:
    op.drop_index("ix_cds_feedback_flag_id", table_name="cds_feedback")
    op.drop_column("cds_feedback", "counted")
    op.drop_column("cds_card", "feedback_counted")
    op.drop_column("cds_card", "order_code")
    op.drop_column("cds_card", "order_code_system")
    op.drop_table("cds_daily_count")
