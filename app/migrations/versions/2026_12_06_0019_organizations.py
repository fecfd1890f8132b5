"""Organizations: several organizations share one registry.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06

Reviewed by hand. See app/organizations/.

- ``organization``: code (unique), name, and the CDS rule variants it chose (NULL: the
  installation's). The migration makes the default organization
  (fixed id, code ``main``) that every installation from before organizations runs as.
- ``flag``, ``registered_ehr`` and ``cds_client`` get a required ``organization_id``; every
  existing row joins the default organization. Added with that id as the column default,
  which PostgreSQL then drops (it writes no row for a constant default, so this is quick at a
  million flags). SQLite cannot drop a default without copying the table, so there it stays;
  the application always sets the column itself. These are plain ids, not foreign keys:
  SQLite refuses ``ADD COLUMN ... NOT NULL REFERENCES`` (a new column with a foreign key must
  default to NULL), and organizations are never deleted.
- ``cds_card`` gets a required ``organization_id`` the same way (the calling client's), and
  ``cds_daily_count`` leads its key with one: the table is copied into one keyed by
  organization (existing counts join the default organization); a downgrade adds the
  organizations' counts back together.
- ``staff``, ``api_token`` and ``staff_session`` get a nullable ``organization_id`` with a
  foreign key: NULL is the system level (every organization's flags), which is what every
  existing person, token and session was.
- Two indexes lead with the organization, for the flag list and queue of an organization's
  staff; on PostgreSQL also the queue's new-first order per organization.
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_ID = "00000000-0000-4000-8000-000000000001"
_REQUIRED = ("flag", "registered_ehr", "cds_client", "cds_card")
_COUNT_KEY = ("day", "service_id", "rule_id", "order_code_system", "order_code")
_COUNTERS = ("evaluated", "shown", "accepted", "overridden")
_OPTIONAL = ("staff", "api_token", "staff_session")
_NEW_FIRST = "(CASE WHEN flag.status = 'submitted' THEN 1 ELSE 0 END)"


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    op.create_table(
        "organization",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("cds_rule_variants", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    organization = sa.table(
        "organization",
        sa.column("id", sa.Uuid()),
        sa.column("code", sa.String()),
        sa.column("name", sa.String()),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    op.bulk_insert(
        organization,
        [
            {
                "id": uuid.UUID(DEFAULT_ID),
                "code": "main",
                "name": "Main organization",
                "created_at": datetime.now(UTC),
            }
        ],
    )
    # SQLite keeps uuids as 32 hex digits (sa.Uuid on a database without a uuid type).
    stored_default = DEFAULT_ID.replace("-", "") if _sqlite() else DEFAULT_ID
    for table in _REQUIRED:
        op.add_column(
            table,
            sa.Column(
                "organization_id",
                sa.Uuid(),
                nullable=False,
                server_default=sa.text(f"'{stored_default}'"),
            ),
        )
        if not _sqlite():
            op.alter_column(table, "organization_id", server_default=None)
    for table in _OPTIONAL:
        if _sqlite():
            op.execute(
                f"ALTER TABLE {table} ADD COLUMN organization_id CHAR(32) "
                "REFERENCES organization (id)"
            )
        else:
            link = sa.ForeignKey("organization.id", name=f"fk_{table}_organization")
            op.add_column(table, sa.Column("organization_id", sa.Uuid(), link, nullable=True))
    _daily_counts_keyed(by_organization=True, stored_default=stored_default)
    op.create_index("ix_flag_organization_created", "flag", ["organization_id", "created_at", "id"])
    op.create_index(
        "ix_flag_organization_status_created",
        "flag",
        ["organization_id", "status", "created_at", "id"],
    )
    op.create_index("ix_staff_organization_id", "staff", ["organization_id"])
    if not _sqlite():
        op.execute(
            "CREATE INDEX ix_flag_organization_new_first "
            f"ON flag (organization_id, {_NEW_FIRST}, created_at, id)"
        )


def _daily_counts_keyed(*, by_organization: bool, stored_default: str = "") -> None:
    """Copy ``cds_daily_count`` into a table keyed with (or without) the organization: the
    same plain DDL on both databases (nothing refers to the table)."""
    if not _sqlite():  # the new table's primary key takes the old one's name
        op.execute("ALTER INDEX cds_daily_count_pkey RENAME TO cds_daily_count_old_pkey")
    op.rename_table("cds_daily_count", "cds_daily_count_old")
    key = (("organization_id",) if by_organization else ()) + _COUNT_KEY
    op.create_table(
        "cds_daily_count",
        *([sa.Column("organization_id", sa.Uuid(), nullable=False)] if by_organization else []),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("service_id", sa.String(64), nullable=False),
        sa.Column("rule_id", sa.String(100), nullable=False),
        sa.Column("order_code_system", sa.String(500), nullable=False),
        sa.Column("order_code", sa.String(100), nullable=False),
        *[sa.Column(name, sa.BigInteger(), nullable=False) for name in _COUNTERS],
        sa.PrimaryKeyConstraint(*key),
    )
    # Column names from the constants above (S608: nothing here comes from outside).
    keys, counters = ", ".join(_COUNT_KEY), ", ".join(_COUNTERS)
    if by_organization:
        op.execute(
            f"INSERT INTO cds_daily_count (organization_id, {keys}, {counters}) "  # noqa: S608
            f"SELECT '{stored_default}', {keys}, {counters} FROM cds_daily_count_old"
        )
    else:
        sums = ", ".join(f"SUM({name})" for name in _COUNTERS)
        op.execute(
            f"INSERT INTO cds_daily_count ({keys}, {counters}) "  # noqa: S608 - names
            f"SELECT {keys}, {sums} FROM cds_daily_count_old GROUP BY {keys}"
        )
    op.drop_table("cds_daily_count_old")


def downgrade() -> None:
    _daily_counts_keyed(by_organization=False)
    if not _sqlite():
        op.execute("DROP INDEX IF EXISTS ix_flag_organization_new_first")
    op.drop_index("ix_staff_organization_id", table_name="staff")
    op.drop_index("ix_flag_organization_status_created", table_name="flag")
    op.drop_index("ix_flag_organization_created", table_name="flag")
    for table in (*_OPTIONAL, *_REQUIRED):
        if _sqlite():  # SQLite 3.35+; the column is in no index any more
            op.execute(f"ALTER TABLE {table} DROP COLUMN organization_id")
        else:
            op.drop_column(table, "organization_id")
    op.drop_table("organization")
