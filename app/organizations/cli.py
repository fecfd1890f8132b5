"""``valueloop orgs``: the organizations that share this registry (add, rename, list).
Registered on the main command in app/cli.py."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from app.commands import database_session
from app.commands import fail as _fail
from app.errors import AppError
from app.organizations import service
from app.organizations.models import Organization

organizations_cli = typer.Typer(
    help="The organizations sharing this registry: a health system, its hospitals and "
    "affiliated practices.",
    no_args_is_help=True,
)


def _write(work: str, code: str, name: str) -> Organization:
    async def run() -> Organization:
        async with database_session() as session:
            if work == "add":
                organization = await service.add(session, code, name=name)
            else:
                organization = await service.rename(session, code, name=name)
            await session.commit()
            return organization

    try:
        return asyncio.run(run())
    except AppError as exc:
        raise _fail(exc.detail) from exc


@organizations_cli.command("add")
def add(
    code: Annotated[str, typer.Argument(help="A short code: lower-case letters, digits, '-'.")],
    name: Annotated[str, typer.Option(help="The name people know it by.")],
) -> None:
    """Add an organization. Then register its EHRs and staff with --org CODE."""
    organization = _write("add", code, name)
    typer.echo(f"Added {organization.code}: {organization.name} ({organization.id}).")


@organizations_cli.command("rename")
def rename(
    code: Annotated[str, typer.Argument(help="The organization's code.")],
    name: Annotated[str, typer.Option(help="Its new name.")],
) -> None:
    """Change an organization's name (its code stays)."""
    organization = _write("rename", code, name)
    typer.echo(f"Renamed {organization.code}: {organization.name}.")


@organizations_cli.command("list")
def list_organizations() -> None:
    """List the organizations."""

    async def read() -> list[Organization]:
        async with database_session() as session:
            return list(await service.everyone(session))

    for organization in asyncio.run(read()):
        typer.echo(f"{organization.code:20} {organization.name}")
