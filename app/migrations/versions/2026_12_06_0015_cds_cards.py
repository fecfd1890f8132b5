"""The cards the CDS services gave, and what clinicians did with them (CDS Hooks feedback).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06

Reviewed by hand.

- ``cds_card``: one row per card given: its uuid (the feedback names it), which service, rule
  and rule version, the draft order and the chart it was about (ids only, no clinical text),
  the user, and the CDS client that asked. A feedback for a card we never gave is refused.
- ``cds_card.snapshot``: what a "caught before" flag needs if the suggestion is accepted (the
  order's code, status and date, the patient's age band and sex, the encounter's class and
  start: the minimum the in-EHR flag keeps).
- ``cds_feedback``: each outcome reported for a card (accepted, overridden with a reason and
  comment), once per card and outcome time: a client that sends the same feedback twice
  stores it once; an accepted suggestion links the flag it became.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cds_card",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("service_id", sa.String(64), nullable=False),
        sa.Column("hook_instance", sa.Uuid(), nullable=False),
        sa.Column("rule_id", sa.String(100), nullable=False),
        sa.Column("rule_version", sa.String(32), nullable=False),
        sa.Column("order_ref", sa.String(200), nullable=False),
        sa.Column("patient_id", sa.String(64), nullable=False),
        sa.Column("encounter_id", sa.String(64), nullable=True),
        sa.Column("user_id", sa.String(256), nullable=False),
        sa.Column("client_iss", sa.String(500), nullable=False),
        sa.Column("suggestion_id", sa.Uuid(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
    )
    op.create_index("ix_cds_card_issued_at", "cds_card", ["issued_at"])
    op.create_table(
        "cds_feedback",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("card_id", sa.Uuid(), sa.ForeignKey("cds_card.id"), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("accepted_suggestion", sa.Boolean(), nullable=False),
        sa.Column("override_code", sa.String(64), nullable=True),
        sa.Column("override_display", sa.String(200), nullable=True),
        sa.Column("user_comment", sa.String(2000), nullable=True),
        sa.Column("outcome_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("flag_id", sa.Uuid(), sa.ForeignKey("flag.id"), nullable=True),
        sa.UniqueConstraint("card_id", "outcome_at", name="uq_cds_feedback_card_time"),
    )
    op.create_index("ix_cds_feedback_received_at", "cds_feedback", ["received_at"])


def downgrade() -> None:
    op.drop_index("ix_cds_feedback_received_at", table_name="cds_feedback")
    op.drop_table("cds_feedback")
    op.drop_index("ix_cds_card_issued_at", table_name="cds_card")
    op.drop_table("cds_card")
