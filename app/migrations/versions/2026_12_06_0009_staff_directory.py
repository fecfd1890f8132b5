"""The staff directory: staff are records, owners and API tokens point at them.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06

Reviewed by hand. Adds ``staff`` (email unique and stored lower-case; the OpenID Connect
issuer + subject unique for just-in-time accounts), and links to it from API tokens, staff
sessions, timeline events (the actor) and the flag's owners.

Existing owners were free-text names. Each distinct name becomes one staff record so history
keeps a person: role ``lead``, no email (nobody can be emailed at a guessed address), and
**inactive** (deactivated at migration time), so nobody is assigned new work, emailed or able
to sign in as a record no one checked. An admin who recognises the person adds their email
and reactivates them (Admin page or PATCH /api/v1/staff/{id}); flags keep pointing at the
same record either way. Names are matched exactly (trimmed): "Dr. A. Lee" and "A. Lee"
become two records, which an admin can tell apart on the flags that name them. The
downgrade writes the names back into the free-text columns (on SQLite it rebuilds the
tables, as earlier downgrades do).
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NAME = 200
_OWNER_COLUMNS = (
    ("owner_lead", "owner_lead_id", "ix_flag_owner_created"),
    ("owner_operational_lead", "owner_operational_lead_id", "ix_flag_operational_owner_created"),
)


def _create_staff() -> None:
    op.create_table(
        "staff",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=_NAME), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deactivated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("oidc_issuer", sa.String(length=500), nullable=True),
        sa.Column("oidc_subject", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("email"),
        sa.UniqueConstraint("oidc_issuer", "oidc_subject", name="uq_staff_oidc"),
    )
    op.create_index("ix_staff_name", "staff", ["name", "id"])


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _add_staff_link(table: str, column: str) -> None:
    """A nullable link to a person. SQLite adds it in place (ALTER TABLE ... ADD COLUMN ...
    REFERENCES): batch mode would copy and drop the table, which foreign keys from tables
    with rows (flag_event, staff_session) forbid inside the migration's transaction."""
    if _sqlite():
        op.execute(f"ALTER TABLE {table} ADD COLUMN {column} CHAR(32) REFERENCES staff (id)")
        return
    link = sa.ForeignKey("staff.id", name=f"fk_{table}_{column}_staff")
    op.add_column(table, sa.Column(column, sa.Uuid(), link, nullable=True))


def _drop_text_column(column: str) -> None:
    if _sqlite():  # SQLite 3.35+; the column is in no index or constraint any more
        op.execute(f"ALTER TABLE flag DROP COLUMN {column}")
    else:
        op.drop_column("flag", column)


def _flag_table(*columns: sa.Column[object]) -> sa.TableClause:
    return sa.table("flag", *columns)


def _people_from_owner_names() -> None:
    """One inactive, email-less lead per distinct owner name, and the flags pointed at them."""
    bind = op.get_bind()
    flag = _flag_table(
        sa.column("owner_lead", sa.String()),
        sa.column("owner_operational_lead", sa.String()),
        sa.column("owner_lead_id", sa.Uuid()),
        sa.column("owner_operational_lead_id", sa.Uuid()),
    )
    names: set[str] = set()
    for text_column, _, _ in _OWNER_COLUMNS:
        column = flag.c[text_column]
        names.update(
            str(row[0]) for row in bind.execute(sa.select(column).where(column.is_not(None))).all()
        )
    now = datetime.now(UTC)
    staff = sa.table(
        "staff",
        sa.column("id", sa.Uuid()),
        sa.column("name", sa.String()),
        sa.column("email", sa.String()),
        sa.column("role", sa.String()),
        sa.column("active", sa.Boolean()),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("deactivated_at", sa.DateTime(timezone=True)),
    )
    for name in sorted(names):
        person = uuid.uuid4()
        bind.execute(
            sa.insert(staff).values(
                id=person,
                name=name.strip()[:_NAME] or "Unnamed owner",
                email=None,
                role="lead",
                active=False,
                created_at=now,
                deactivated_at=now,
            )
        )
        for text_column, id_column, _ in _OWNER_COLUMNS:
            bind.execute(
                sa.update(flag).where(flag.c[text_column] == name).values({id_column: person})
            )


def upgrade() -> None:
    _create_staff()
    for table in ("api_token", "staff_session", "flag_event"):
        _add_staff_link(table, "actor_staff_id" if table == "flag_event" else "staff_id")
    op.create_index("ix_api_token_staff_id", "api_token", ["staff_id"])
    op.create_index("ix_staff_session_staff_id", "staff_session", ["staff_id"])
    for _, id_column, _ in _OWNER_COLUMNS:
        _add_staff_link("flag", id_column)
    _people_from_owner_names()
    for text_column, id_column, index in _OWNER_COLUMNS:
        op.drop_index(index, table_name="flag")
        op.create_index(index, "flag", [id_column, "created_at", "id"])
        _drop_text_column(text_column)


def _names_back_from_people() -> None:
    bind = op.get_bind()
    flag = _flag_table(
        sa.column("owner_lead", sa.String()),
        sa.column("owner_operational_lead", sa.String()),
        sa.column("owner_lead_id", sa.Uuid()),
        sa.column("owner_operational_lead_id", sa.Uuid()),
    )
    staff = sa.table("staff", sa.column("id", sa.Uuid()), sa.column("name", sa.String()))
    for text_column, id_column, _ in _OWNER_COLUMNS:
        name = sa.select(staff.c.name).where(staff.c.id == flag.c[id_column]).scalar_subquery()
        bind.execute(
            sa.update(flag).where(flag.c[id_column].is_not(None)).values({text_column: name})
        )


def downgrade() -> None:
    with op.batch_alter_table("flag") as batch:
        for text_column, _, _ in _OWNER_COLUMNS:
            batch.add_column(sa.Column(text_column, sa.String(length=_NAME), nullable=True))
    _names_back_from_people()
    for text_column, _, index in _OWNER_COLUMNS:
        op.drop_index(index, table_name="flag")
        op.create_index(index, "flag", [text_column, "created_at", "id"])
    with op.batch_alter_table("flag") as batch:
        for _, id_column, _ in _OWNER_COLUMNS:
            batch.drop_column(id_column)
    op.drop_index("ix_staff_session_staff_id", table_name="staff_session")
    op.drop_index("ix_api_token_staff_id", table_name="api_token")
    for table in ("api_token", "staff_session", "flag_event"):
        column = "actor_staff_id" if table == "flag_event" else "staff_id"
        with op.batch_alter_table(table) as batch:
            batch.drop_column(column)
    op.drop_index("ix_staff_name", table_name="staff")
    op.drop_table("staff")
