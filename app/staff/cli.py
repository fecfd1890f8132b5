"""``valueloop staff``: the staff directory from the command line (add, list, deactivate,
reactivate). Registered on the main command in app/cli.py."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import Role
from app.commands import database_session
from app.errors import AppError
from app.staff import service
from app.staff.models import Staff
from app.staff.schemas import StaffCreate

staff_cli = typer.Typer(
    help="The staff directory: the people who own flags and sign in to the dashboard.",
    no_args_is_help=True,
)
T = TypeVar("T")


def _run(work: Callable[[AsyncSession], Awaitable[T]], *, commit: bool) -> T:
    """Run ``work`` in one transaction; an AppError is printed and exits with status 1."""

    async def run() -> T:
        async with database_session() as session:
            result = await work(session)
            if commit:
                await session.commit()
            return result

    try:
        return asyncio.run(run())
    except AppError as exc:
        typer.echo(exc.detail, err=True)
        raise typer.Exit(1) from exc


def _line(person: Staff) -> str:
    state = "active" if person.active else "deactivated"
    return (
        f"{person.id}  {person.role:8} {state:12} {person.email or '(no email)':32} {person.name}"
        + ("" if person.organization_id else "  (system level)")
    )


@staff_cli.command("add")
def add(
    email: Annotated[str, typer.Argument(help="Their work email (stored lower-case).")],
    name: Annotated[str, typer.Option(help="Their name as colleagues know it.")],
    role: Annotated[Role, typer.Option(help="lead, analyst or admin.")],
    org: Annotated[
        str | None,
        typer.Option(help="Their organization's code; none: the system level (sees all)."),
    ] = None,
) -> None:
    """Add a person to the staff directory."""
    try:
        data = StaffCreate(email=email, name=name, role=role, organization=org)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        typer.echo(f"Cannot add {email!r}: {problems}", err=True)
        raise typer.Exit(2) from exc
    person = _run(lambda session: service.add(session, data), commit=True)
    typer.echo(f"Added {person.name} <{person.email}> as {person.role} ({person.id}).")


@staff_cli.command("list")
def list_staff() -> None:
    """List everyone in the directory, deactivated people included."""
    for person in _run(service.everyone, commit=False):
        typer.echo(_line(person))


@staff_cli.command("deactivate")
def deactivate(email: Annotated[str, typer.Argument(help="Their email in the directory.")]) -> None:
    """Deactivate a person: their sign-ins, sessions and tokens stop; their history stays."""
    person = _run(lambda session: service.set_active(session, email, active=False), commit=True)
    typer.echo(f"Deactivated {person.name} <{person.email}>.")


@staff_cli.command("reactivate")
def reactivate(email: Annotated[str, typer.Argument(help="Their email in the directory.")]) -> None:
    """Reactivate a deactivated person."""
    person = _run(lambda session: service.set_active(session, email, active=True), commit=True)
    typer.echo(f"Reactivated {person.name} <{person.email}>.")
