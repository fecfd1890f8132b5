"""``valueloop orgs``: the organizations that share this registry (add, rename, list).
Registered on the main command in app/cli.py."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncSession

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


def _write(work: Callable[[AsyncSession], Awaitable[Organization]]) -> Organization:
    """Run ``work`` in one transaction; an AppError is printed and exits with status 1."""

    async def run() -> Organization:
        async with database_session() as session:
            organization = await work(session)
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
    organization = _write(lambda session: service.add(session, code, name=name))
    typer.echo(f"Added {organization.code}: {organization.name} ({organization.id}).")


@organizations_cli.command("rename")
def rename(
    code: Annotated[str, typer.Argument(help="The organization's code.")],
    name: Annotated[str, typer.Option(help="Its new name.")],
) -> None:
    """Change an organization's name (its code stays)."""
    organization = _write(lambda session: service.rename(session, code, name=name))
    typer.echo(f"Renamed {organization.code}: {organization.name}.")


@organizations_cli.command("variants")
def choose_variants(
    code: Annotated[str, typer.Argument(help="The organization's code.")],
    choices: Annotated[
        list[str] | None,
        typer.Argument(help="RULE=VARIANT, e.g. psa-screening-older-men=sensitive."),
    ] = None,
    clear: Annotated[
        bool, typer.Option("--clear", help="Use the installation's choices again.")
    ] = False,
) -> None:
    """Choose which variant of a published measure the organization's CDS calls and in-EHR
    markers run (over VALUELOOP_CDS_RULE_VARIANTS). `valueloop rules list` names them."""
    if clear == bool(choices):
        raise _fail("Give RULE=VARIANT choices, or --clear.")
    parsed: dict[str, str] = {}
    for choice in choices or []:
        rule_id, _, variant = choice.partition("=")
        if not rule_id or not variant:
            raise _fail(f"{choice!r} is not RULE=VARIANT.")
        parsed[rule_id.strip()] = variant.strip()
    organization = _write(
        lambda session: service.choose_variants(session, code, None if clear else parsed)
    )
    chosen = organization.cds_rule_variants or {}
    described = ", ".join(f"{rule}={variant}" for rule, variant in sorted(chosen.items()))
    typer.echo(f"{organization.code}: {described or 'the installation choices'}.")


@organizations_cli.command("list")
def list_organizations() -> None:
    """List the organizations."""

    async def read() -> list[Organization]:
        async with database_session() as session:
            return list(await service.everyone(session))

    for organization in asyncio.run(read()):
        chosen = organization.cds_rule_variants or {}
        variants = ", ".join(f"{rule}={variant}" for rule, variant in sorted(chosen.items()))
        typer.echo(
            f"{organization.code:20} {organization.name}" + (f"  [{variants}]" if variants else "")
        )
