"""Indexes for an organization's all-time closed loop and time to close.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07

Reviewed by hand; measured with 1,000,000 flags over 20 organizations (bench/README.md,
2026-12-07). An organization's 50,000 flags are spread over nearly every heap page, so the
statistics that read them through ``ix_flag_organization_created`` visit the whole table
(closed loop, all time: 391 ms p50 for one organization against 158 ms for the registry; time
to close: 539 ms against 107 ms). These are the registry-wide statistics indexes with the
organization in front, so an organization's reads are index-only and in order as the
registry's are:

- ``ix_flag_organization_loop`` (PostgreSQL, INCLUDE): the loop's counts, as ``ix_flag_loop``;
- ``ix_flag_organization_reply_wait`` (PostgreSQL, partial): the median wait for a reply, read
  from the middle, as ``ix_flag_reply_wait``;
- ``ix_flag_organization_close_wait`` and ``ix_flag_organization_reason_close_wait`` (both
  databases, partial, in the model): the median time to close overall and by reason, as
  ``ix_flag_close_wait`` and ``ix_flag_reason_close_wait``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CLOSED = sa.text("close_wait_seconds IS NOT NULL")


def upgrade() -> None:
    for name, columns in (
        (
            "ix_flag_organization_close_wait",
            ["organization_id", "close_wait_seconds", "created_at"],
        ),
        (
            "ix_flag_organization_reason_close_wait",
            ["organization_id", "reason", "close_wait_seconds", "created_at"],
        ),
    ):
        op.create_index(name, "flag", columns, postgresql_where=_CLOSED, sqlite_where=_CLOSED)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX ix_flag_organization_loop ON flag (organization_id, created_at) "
            "INCLUDE (anonymity, first_reply_at)"
        )
        op.execute(
            "CREATE INDEX ix_flag_organization_reply_wait ON flag "
            "(organization_id, reply_wait_seconds) INCLUDE (created_at, anonymity) "
            "WHERE reply_wait_seconds IS NOT NULL"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_flag_organization_reply_wait")
        op.execute("DROP INDEX IF EXISTS ix_flag_organization_loop")
    op.drop_index("ix_flag_organization_reason_close_wait", table_name="flag")
    op.drop_index("ix_flag_organization_close_wait", table_name="flag")
