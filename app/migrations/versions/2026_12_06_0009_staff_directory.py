"""The staff directory: staff are records, owners and API tokens point at them.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06

Reviewed by hand. PLACEHOLDER: filled in by the work on issue #14 in this session; the revision
chain is fixed up front so parallel work on the issue merges without re-chaining.
"""

from collections.abc import Sequence

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
