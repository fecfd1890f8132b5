"""``valueloop worker`` and ``valueloop webhooks``: the delivery engine and webhook endpoints
from the command line (added to the ``valueloop`` command by app/cli.py)."""

from __future__ import annotations

import asyncio
import signal
from typing import Annotated

import typer

webhooks_cli = typer.Typer(
    help="Send signed flag events to other systems (Standard Webhooks).", no_args_is_help=True
)


def worker(
    once: Annotated[
        bool, typer.Option("--once", help="Deliver what is due now, then exit.")
    ] = False,
) -> None:
    """Deliver the outbox (webhooks, email) until stopped (Ctrl-C or SIGTERM). Run any
    number of these against PostgreSQL; `valueloop serve` runs one itself unless
    VALUELOOP_WORKER=off."""
    from app.commands import settings_or_exit as _settings
    from app.db import create_engine_for, session_factory
    from app.main import outbound_http
    from app.migrate import DatabaseNotMigrated, ensure_migrated
    from app.notifications import runtime
    from app.notifications.email.channel import log_configuration

    settings = _settings()

    async def run() -> None:
        engine = create_engine_for(settings.database_url, pool_size=settings.outbox_batch_size + 2)
        http = outbound_http(settings)
        try:
            await ensure_migrated(engine)
            log_configuration(settings)  # says once whether email is on, as serve does
            engine_worker = runtime.build_worker(settings, session_factory(engine), http)
            if once:
                await engine_worker.drain()
                return
            loop = asyncio.get_running_loop()
            for stop_signal in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(stop_signal, engine_worker.stop)
            await engine_worker.run()
        finally:
            await http.aclose()
            await engine.dispose()

    try:
        asyncio.run(run())
    except DatabaseNotMigrated as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc


@webhooks_cli.command("add")
def webhooks_add(
    url: Annotated[str, typer.Argument(help="Where to POST events (https).")],
    events: Annotated[
        str,
        typer.Option(
            help="Comma-separated: flag.created, flag.status_changed, flag.replied, "
            "flag.assigned, improvement.requested."
        ),
    ],
    secret: Annotated[
        str | None,
        typer.Option(help="Signing secret, whsec_ + base64; generated and printed if left out."),
    ] = None,
    allow_patient_data: Annotated[
        bool,
        typer.Option(
            "--allow-patient-data", help="Also send patient id, order text and note (PHI)."
        ),
    ] = False,
    description: Annotated[str | None, typer.Option(help="What the endpoint is.")] = None,
    org: Annotated[
        str | None,
        typer.Option(help="Only this organization's events (its code); default: every one's."),
    ] = None,
) -> None:
    """Add a webhook endpoint. A generated secret is printed once, alone on the last line."""
    from app.commands import database_session as _session
    from app.commands import fail as _fail
    from app.commands import settings_or_exit as _settings
    from app.errors import AppError
    from app.notifications import service
    from app.organizations import service as organizations

    settings = _settings()

    async def add() -> service.AddedWebhook:
        async with _session() as session:
            added = await service.add_webhook(
                session,
                url=url,
                events=[event.strip() for event in events.split(",") if event.strip()],
                settings=settings,
                secret=secret,
                allow_patient_data=allow_patient_data,
                description=description,
                organization_id=await organizations.id_of(session, org),
            )
            await session.commit()
            return added

    try:
        added = asyncio.run(add())
    except AppError as exc:
        raise _fail(exc.detail) from exc
    endpoint = added.endpoint
    typer.echo(f"Added webhook {endpoint.id} for {', '.join(endpoint.events)}.")
    if secret is None:
        typer.echo("Its signing secret is shown only now; give it to the receiving system:")
        typer.echo(added.secret)


@webhooks_cli.command("list")
def webhooks_list() -> None:
    """List webhook endpoints (never their secrets)."""
    from app.commands import database_session as _session
    from app.notifications import service

    async def read() -> None:
        async with _session() as session:
            for endpoint in await service.all_webhooks(session):
                state = "active" if endpoint.active else "off"
                phi = "  patient data" if endpoint.allow_patient_data else ""
                whose = (
                    f"  organization {endpoint.organization_id}" if endpoint.organization_id else ""
                )
                typer.echo(
                    f"{endpoint.id}  {state:6} {endpoint.url}  {','.join(endpoint.events)}"
                    f"{phi}{whose}"
                )

    asyncio.run(read())


@webhooks_cli.command("remove")
def webhooks_remove(
    endpoint_id: Annotated[str, typer.Argument(help="The endpoint's id (from `webhooks list`).")],
) -> None:
    """Remove a webhook endpoint; nothing more is sent to it."""
    import uuid

    from app.commands import database_session as _session
    from app.commands import fail as _fail
    from app.errors import AppError
    from app.notifications import service

    try:
        parsed = uuid.UUID(endpoint_id)
    except ValueError as exc:
        message = f"{endpoint_id!r} is not an endpoint id; see `valueloop webhooks list`."
        raise _fail(message) from exc

    async def remove() -> None:
        async with _session() as session:
            await service.remove_webhook(session, parsed)
            await session.commit()

    try:
        asyncio.run(remove())
    except AppError as exc:
        raise _fail(exc.detail) from exc
    typer.echo(f"Removed {parsed}.")
