"""``valueloop cds-clients``: the CDS clients (EHRs) allowed to call ValueLoop's CDS Hooks
services. Bad input exits with status 2 and one line."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from app.commands import bad_input, database_session, read_json_file, settings_or_exit
from app.organizations.models import DEFAULT_ORGANIZATION_CODE

cds_clients_cli = typer.Typer(
    help="Register the CDS clients allowed to call the CDS Hooks services (signed JWTs).",
    no_args_is_help=True,
)
T = TypeVar("T")


def _run(work: Callable[[], Coroutine[Any, Any, T]]) -> T:
    from app.errors import AppError

    try:
        return asyncio.run(work())
    except AppError as exc:
        raise bad_input(exc.detail) from None


def _read_jwks(path: Path) -> dict[str, Any]:
    document = read_json_file(path)
    if not isinstance(document, dict):
        raise bad_input(f'{path} is not a JWK Set: expected {{"keys": [...]}}')
    return document


@cds_clients_cli.command("add")
def add(
    iss: Annotated[str, typer.Argument(help="The iss the CDS client puts in its JWTs.")],
    jwks_url: Annotated[
        str | None, typer.Option(help="Where the client publishes its JWK Set (https).")
    ] = None,
    jwks_file: Annotated[
        Path | None, typer.Option(help="A file holding the client's public JWK Set.")
    ] = None,
    name: Annotated[str | None, typer.Option(help="A name people recognise.")] = None,
    org: Annotated[
        str,
        typer.Option(help="The code of the organization the flags from its cards belong to."),
    ] = DEFAULT_ORGANIZATION_CODE,
) -> None:
    """Allow a CDS client (or replace its keys): --jwks-url URL or --jwks-file PATH."""
    from app.cds import clients
    from app.organizations import service as organizations

    if (jwks_url is None) == (jwks_file is None):
        raise bad_input("Give either --jwks-url URL or --jwks-file PATH (one of the two).")
    jwks = _read_jwks(jwks_file) if jwks_file is not None else None
    settings = settings_or_exit()

    async def register() -> tuple[str, bool]:
        async with database_session() as session:
            client, created = await clients.register(
                session,
                iss=iss,
                jwks_url=jwks_url,
                jwks=jwks,
                name=name,
                mode=settings.mode,
                organization_id=(await organizations.by_code(session, org)).id,
            )
            await session.commit()
            return client.iss, created

    registered, created = _run(register)
    source = jwks_url if jwks_url is not None else f"the keys in {jwks_file}"
    typer.echo(f"{'Registered' if created else 'Updated'} CDS client {registered} ({source}).")


@cds_clients_cli.command("list")
def list_clients() -> None:
    """List the CDS clients and where their keys are."""
    from app.cds import clients
    from app.organizations import service as organizations

    async def read() -> list[str]:
        async with database_session() as session:
            by_id = await organizations.names_by_id(session)
            return [
                f"{client.iss}  {'active' if client.active else 'deactivated':11}  "
                f"{client.jwks_url or 'stored JWK Set'}  {client.name}  "
                f"(organization {by_id[client.organization_id].code})"
                for client in await clients.all_clients(session)
            ]

    lines = _run(read)
    for line in lines:
        typer.echo(line)
    if not lines:
        typer.echo("No CDS clients registered; every CDS Hooks call is refused.")


def _change(iss: str, action: str) -> str:
    from app.cds import clients

    async def change() -> str:
        async with database_session() as session:
            if action == "remove":
                client = await clients.remove(session, iss)
            else:
                client = await clients.set_active(session, iss, active=action == "activate")
            await session.commit()
            return client.iss

    return _run(change)


@cds_clients_cli.command("remove")
def remove(iss: Annotated[str, typer.Argument(help="The client's iss.")]) -> None:
    """Forget a CDS client: its calls are refused from now on."""
    typer.echo(f"Removed CDS client {_change(iss, 'remove')}.")


@cds_clients_cli.command("deactivate")
def deactivate(iss: Annotated[str, typer.Argument(help="The client's iss.")]) -> None:
    """Refuse a CDS client's calls, keeping its registration."""
    typer.echo(f"Deactivated CDS client {_change(iss, 'deactivate')}.")


@cds_clients_cli.command("activate")
def activate(iss: Annotated[str, typer.Argument(help="The client's iss.")]) -> None:
    """Accept a deactivated CDS client's calls again."""
    typer.echo(f"Activated CDS client {_change(iss, 'activate')}.")
