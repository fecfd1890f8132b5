"""What every ``valueloop`` command shares: settings read with a readable error, failure
exits, a JSON file read with a clear refusal, and a session on the configured database.

Its own module so the commands each domain contributes (staff, prices, webhooks, the worker)
use the same helpers without importing the ``valueloop`` entry point that registers them.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import typer
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings, get_settings


def settings_or_exit() -> Settings:
    """The settings, or exit with status 2 and each configuration error in plain words."""
    try:
        return get_settings()
    except ValidationError as exc:
        messages = "; ".join(
            str(error["msg"]).removeprefix("Value error, ") for error in exc.errors()
        )
        typer.echo(f"Configuration error: {messages}", err=True)
        raise typer.Exit(2) from exc


def fail(message: str) -> typer.Exit:
    """Print ``message`` on stderr; the caller raises the returned exit (status 1)."""
    typer.echo(message, err=True)
    return typer.Exit(1)


def bad_input(message: str) -> typer.Exit:
    """Print ``message`` on stderr; the caller raises the returned exit (status 2: the input
    was refused, nothing was done)."""
    typer.echo(message, err=True)
    return typer.Exit(2)


def read_json_file(path: Path) -> Any:
    """A JSON file's content, or exit 2 saying why it cannot be read or is not JSON."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise bad_input(f"Cannot read {path}: {exc.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise bad_input(f"{path} is not JSON ({exc})") from None


@asynccontextmanager
async def database_session() -> AsyncIterator[AsyncSession]:
    """An async session on the configured database, for one command."""
    from app.db import create_engine_for, session_factory

    engine = create_engine_for(settings_or_exit().database_url)
    try:
        async with session_factory(engine)() as session:
            yield session
    finally:
        await engine.dispose()
