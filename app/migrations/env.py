"""Alembic environment: run by ``valueloop migrate`` (see app/migrate.py), online only.

The connection comes from ``config.attributes["connection"]`` so the caller decides which
database is migrated; nothing here reads settings.
"""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import app.models  # noqa: F401  (registers every table on SQLModel.metadata)

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
