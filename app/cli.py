"""The ``valueloop`` command: serve, migrate, manage API tokens and the staff directory, seed
synthetic data, deliver notifications, explain the low-value rules."""

from __future__ import annotations

import asyncio
import uuid
from importlib.metadata import entry_points
from typing import Annotated

import sqlalchemy as sa
import typer

from app.auth.models import Role
from app.cds.cli import rules_cli
from app.cds.clients_cli import cds_clients_cli
from app.commands import database_session as _session
from app.commands import fail as _fail
from app.commands import settings_or_exit as _settings
from app.config import Settings
from app.notifications.cli import webhooks_cli, worker
from app.organizations.cli import organizations_cli
from app.organizations.models import DEFAULT_ORGANIZATION_CODE
from app.prices.cli import prices_cli
from app.staff.cli import staff_cli

cli = typer.Typer(
    help="ValueLoop: clinicians flag low-value care inside the EHR; quality teams close the loop.",
    no_args_is_help=True,
    add_completion=False,
)
ehrs_cli = typer.Typer(
    help="Register the EHRs allowed to launch ValueLoop (SMART on FHIR).", no_args_is_help=True
)
tokens_cli = typer.Typer(
    help="Create, list and revoke API tokens for the quality team.", no_args_is_help=True
)
cli.add_typer(tokens_cli, name="tokens")
cli.add_typer(ehrs_cli, name="ehrs")
cli.add_typer(staff_cli, name="staff")
cli.add_typer(webhooks_cli, name="webhooks")
cli.command()(worker)
cli.add_typer(prices_cli, name="prices")
cli.add_typer(rules_cli, name="rules")
cli.add_typer(cds_clients_cli, name="cds-clients")
cli.add_typer(organizations_cli, name="orgs")


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Run the web app (API, docs at /docs). The database must be migrated first."""
    import uvicorn

    from app.db import create_engine_for
    from app.migrate import DatabaseNotMigrated, ensure_migrated

    settings = _settings()

    async def check() -> None:
        engine = create_engine_for(settings.database_url)
        try:
            await ensure_migrated(engine)
        finally:
            await engine.dispose()

    try:
        asyncio.run(check())
    except DatabaseNotMigrated as exc:
        raise _fail(str(exc)) from exc
    uvicorn.run("app.main:create_app", factory=True, host=host, port=port, access_log=False)


@cli.command()
def migrate() -> None:
    """Create or upgrade the database schema to this release."""
    from app.migrate import upgrade

    settings = _settings()
    upgrade(settings.database_url)
    typer.echo("Database is at the newest schema.")


@cli.command()
def seed(
    flags: Annotated[
        int, typer.Option(min=1, max=10_000_000, help="How many flags to create.")
    ] = 500,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same data.")] = 1,
    if_empty: Annotated[
        bool, typer.Option(help="Only seed a registry that has no flags yet.")
    ] = False,
    org: Annotated[
        list[str] | None,
        typer.Option(help="The organization the flags belong to; repeat to share them out."),
    ] = None,
    improvements: Annotated[
        bool,
        typer.Option(
            help="Also start improvement work on each organization's commonest services: one "
            "change live for eight weeks (with its replies to reporters), one proposed."
        ),
    ] = False,
) -> None:
    """Fill the registry with realistic synthetic flags and timelines (never real patients),
    and the staff directory with the synthetic people who own and work them."""
    from app.db import create_sync_engine_for
    from app.demo import synthetic
    from app.flags.models import Flag

    settings = _settings()
    engine = create_sync_engine_for(settings.database_url)
    codes = [code.strip().lower() for code in org or [DEFAULT_ORGANIZATION_CODE]]
    try:
        found = _organization_ids(engine, codes)
        # The people flags are owned by, even when the flags themselves are already there.
        synthetic.seed_directory(engine)
        existing = 0
        if if_empty:
            with engine.connect() as connection:
                existing = connection.execute(
                    sa.select(sa.func.count()).select_from(Flag)
                ).scalar_one()
        if existing:
            typer.echo(f"The registry already has {existing} flags; nothing seeded.")
        else:
            written = synthetic.seed(
                engine, flags, seed=seed, organizations=[found[code] for code in codes]
            )
            typer.echo(f"Seeded {written} synthetic flags.")
    except sa.exc.OperationalError as exc:
        raise _fail(
            f"Cannot write to the database ({exc.orig}). Run `valueloop migrate` first?"
        ) from exc
    finally:
        engine.dispose()
    # Made once per organization, so also on a registry seeded before (the demo's second run).
    if improvements:
        _seed_improvements(settings, [found[code] for code in dict.fromkeys(codes)])


def _organization_ids(engine: sa.Engine, codes: list[str]) -> dict[str, uuid.UUID]:
    """The ids of the organizations ``codes`` name; an unknown code ends the command."""
    from sqlmodel import col

    from app.organizations.models import Organization

    with engine.connect() as connection:
        code_column, id_column = col(Organization.code), col(Organization.id)
        query = sa.select(code_column, id_column).where(code_column.in_(codes))
        found: dict[str, uuid.UUID] = {
            str(row[0]): row[1] for row in connection.execute(query).all()
        }
    if missing := [code for code in codes if code not in found]:
        raise _fail(f"No organization has the code {', '.join(missing)}; see `orgs list`.")
    return found


def _seed_improvements(settings: Settings, organization_ids: list[uuid.UUID]) -> None:
    from app.demo.improvements import seed_improvements

    made = sum(
        asyncio.run(
            seed_improvements(
                settings.database_url, organization_id, dashboard_url=settings.base_url
            )
        )
        for organization_id in organization_ids
    )
    typer.echo(f"Started {made} demo improvements.")


@tokens_cli.command("create")
def tokens_create(
    role: Annotated[Role | None, typer.Option(help="A service token's role.")] = None,
    name: Annotated[
        str | None, typer.Option(help="A service token's name, e.g. 'Ticketing bridge'.")
    ] = None,
    staff: Annotated[
        str | None, typer.Option(help="The email of the person the token belongs to.")
    ] = None,
    org: Annotated[
        str | None,
        typer.Option(help="A service token's organization code; none: the system level."),
    ] = None,
) -> None:
    """Create an API token: a person's (--staff EMAIL, their role and organization) or a named
    service token (--role ROLE --name NAME [--org CODE]; without --org it sees every
    organization). The token is printed once, alone on the last line."""
    from app.auth import service
    from app.errors import AppError
    from app.organizations import service as organizations
    from app.staff import service as directory

    if (staff is None) == (role is None or name is None) or (staff and (role or name or org)):
        raise _fail(
            "Give --staff EMAIL for a person's token (it follows their organization), or "
            "--role and --name [--org CODE] for a service."
        )

    async def create() -> tuple[str, str, str]:
        async with _session() as session:
            if staff is not None:
                person = await directory.by_email(session, staff)
                issued = service.issue(
                    session,
                    name=person.name,
                    role=Role(person.role),
                    created_by="cli",
                    staff=person,
                )
            else:
                assert role is not None and name is not None  # noqa: PT018 - checked above
                issued = service.issue(
                    session,
                    name=name,
                    role=role,
                    created_by="cli",
                    organization_id=await organizations.id_of(session, org),
                )
            await session.commit()
            return issued.record.role, issued.record.name, issued.secret

    try:
        token_role, token_name, secret = asyncio.run(create())
    except AppError as exc:
        raise _fail(exc.detail) from exc
    typer.echo(
        f"Created a {token_role} token for {token_name!r}. It is shown only now; store it safely:"
    )
    typer.echo(secret)


@tokens_cli.command("list")
def tokens_list() -> None:
    """List API tokens (never their secrets)."""
    from app.auth import service

    async def read() -> None:
        async with _session() as session:
            for record in await service.list_tokens(session):
                state = f"revoked {record.revoked_at:%Y-%m-%d}" if record.revoked_at else "active"
                typer.echo(
                    f"{record.id}  {record.role:8} {record.token_prefix}…  {state:18} {record.name}"
                )

    asyncio.run(read())


@tokens_cli.command("revoke")
def tokens_revoke(
    token_id: Annotated[str, typer.Argument(help="The token's id (from `tokens list`).")],
) -> None:
    """Revoke an API token at once."""
    import uuid

    from app.auth import service
    from app.errors import AppError

    try:
        parsed = uuid.UUID(token_id)
    except ValueError as exc:
        raise _fail(f"{token_id!r} is not a token id; see `valueloop tokens list`.") from exc

    async def revoke() -> None:
        async with _session() as session:
            await service.revoke(session, parsed)
            await session.commit()

    try:
        asyncio.run(revoke())
    except AppError as exc:
        raise _fail(exc.detail) from exc
    typer.echo(f"Revoked {parsed}.")


@ehrs_cli.command("add")
def ehrs_add(
    issuer: Annotated[str, typer.Argument(help="The EHR's FHIR base URL (the launch's iss).")],
    client_id: Annotated[str, typer.Option(help="ValueLoop's client id at this EHR.")],
    client_secret: Annotated[
        str | None, typer.Option(help="For client_secret_basic (a confidential client).")
    ] = None,
    private_key_jwt: Annotated[
        bool, typer.Option("--private-key-jwt", help="Authenticate with our signed assertion.")
    ] = False,
    frame_origin: Annotated[
        list[str] | None, typer.Option(help="An origin allowed to frame ValueLoop; repeatable.")
    ] = None,
    name: Annotated[str | None, typer.Option(help="A name people recognise.")] = None,
    org: Annotated[
        str, typer.Option(help="The code of the organization its flags belong to.")
    ] = DEFAULT_ORGANIZATION_CODE,
) -> None:
    """Register an EHR (or update its registration). Launches from others are refused."""
    from app.ehrs import service as ehrs
    from app.ehrs.secrets import secret_box
    from app.errors import AppError
    from app.organizations import service as organizations

    if client_secret and private_key_jwt:
        raise _fail("Give either --client-secret or --private-key-jwt, not both.")
    kind = ehrs.ClientAuthKind.NONE
    if client_secret:
        kind = ehrs.ClientAuthKind.BASIC
    elif private_key_jwt:
        kind = ehrs.ClientAuthKind.PRIVATE_KEY_JWT

    async def add() -> str:
        async with _session() as session:
            ehr = await ehrs.register(
                session,
                issuer=issuer,
                client_id=client_id,
                client_auth=kind,
                client_secret=client_secret,
                frame_origins=frame_origin or [],
                name=name,
                box=secret_box(_settings()),
                organization_id=(await organizations.by_code(session, org)).id,
            )
            await session.commit()
            return ehr.issuer

    try:
        registered = asyncio.run(add())
    except AppError as exc:
        raise _fail(exc.detail) from exc
    typer.echo(f"Registered {registered} ({kind.value}).")


@ehrs_cli.command("list")
def ehrs_list() -> None:
    """List registered EHRs (never their secrets)."""
    from app.ehrs import service as ehrs

    async def read() -> None:
        async with _session() as session:
            for ehr in await ehrs.all_registered(session):
                origins = ", ".join(ehr.frame_origins) or "(no frame origins)"
                typer.echo(f"{ehr.issuer}  client {ehr.client_id}  {ehr.client_auth}  {origins}")

    asyncio.run(read())


def _add_plugin_commands() -> None:
    """Commands other installed packages contribute (entry point group ``valueloop.commands``).

    This is how the development-only simulated EHR adds ``valueloop ehr-sim`` without
    ValueLoop's code depending on it.
    """
    for entry_point in entry_points(group="valueloop.commands"):
        try:
            command = entry_point.load()
        except ImportError:
            continue  # e.g. the production image, which leaves the simulator's code out
        cli.command(name=entry_point.name)(command)


def main() -> None:
    _add_plugin_commands()
    cli(prog_name="valueloop")


if __name__ == "__main__":
    main()
