"""``valueloop prices``: load the organization's price list from a CSV file, and show it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from app.commands import database_session
from app.prices.errors import PriceListInvalid

prices_cli = typer.Typer(
    help="The organization's own price list, used ahead of the Medicare reference prices.",
    no_args_is_help=True,
)


@prices_cli.command("load")
def load(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            readable=True,
            help="CSV with columns: code system, code, price, currency, source, effective date.",
        ),
    ],
) -> None:
    """Replace the price list with FILE, all or nothing: any bad line keeps it all out."""
    from app.prices import service

    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        typer.echo(f"{file} is not UTF-8 text; save it as 'CSV UTF-8'.", err=True)
        raise typer.Exit(1) from exc

    async def run() -> int:
        async with database_session() as session:
            loaded = await service.load(session, text, loaded_by="cli")
            await session.commit()
            return loaded.count

    try:
        count = asyncio.run(run())
    except PriceListInvalid as exc:
        typer.echo(exc.detail, err=True)
        for problem in exc.extensions["problems"]:
            column = f" ({problem['column'].replace('_', ' ')})" if problem["column"] else ""
            typer.echo(f"  line {problem['line']}{column}: {problem['detail']}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"Loaded {count} prices from {file}; they replace the previous list.")


@prices_cli.command("list")
def list_prices() -> None:
    """Show the loaded price list."""
    from app.prices import service

    async def run() -> None:
        async with database_session() as session:
            loaded = await service.price_list(session)
        if not loaded.count:
            typer.echo("No price list loaded; flags use the Medicare reference prices.")
            return
        for entry in loaded.entries:
            typer.echo(
                f"{entry.effective_date}  {entry.code_system}|{entry.code}  "
                f"{entry.price} {entry.currency}  {entry.source}"
            )

    asyncio.run(run())
