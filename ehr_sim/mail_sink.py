"""``valueloop mail-sink``: a loopback SMTP server that keeps every message it receives as an
``.eml`` file, so a demo user can read the email ValueLoop sends (development and tests only).

It accepts any sender and recipient, relays nothing, and never leaves the machine: it listens
on 127.0.0.1 by default. The files open in any mail program, or as text.
"""

from __future__ import annotations

import asyncio
import itertools
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from aiosmtpd.smtp import SMTP, Envelope, Session


class MailFolder:
    """An aiosmtpd handler that writes each message to ``folder`` as ``<time>-<n>.eml``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._numbers = itertools.count(1)

    def write(self, envelope: Envelope) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        path = self.folder / f"{stamp}-{os.getpid()}-{next(self._numbers):04d}.eml"
        content = envelope.original_content or b""
        # Written under a temporary name and renamed: a reader never sees half a message.
        partial = path.with_suffix(".part")
        partial.write_bytes(content)
        partial.replace(path)
        return path

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        self.write(envelope)
        return "250 Message accepted for delivery"


async def start(folder: Path, *, host: str = "127.0.0.1", port: int = 8025) -> asyncio.Server:
    """Listen on ``host:port`` (0: any free port) in the running event loop."""
    handler = MailFolder(folder)
    loop = asyncio.get_running_loop()
    return await loop.create_server(lambda: SMTP(handler, hostname="mail-sink.local"), host, port)


def mail_sink(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8025,
    folder: Annotated[Path, typer.Option(help="Where received messages are written.")] = Path(
        "var/mail"
    ),
) -> None:
    """Run a loopback SMTP server that writes each message it receives to FOLDER as .eml.

    For the demo and tests only: point VALUELOOP_SMTP_URL at smtp://HOST:PORT.
    """

    async def serve() -> None:
        server = await start(folder, host=host, port=port)
        typer.echo(f"Mail sink on smtp://{host}:{port}; messages go to {folder}/")
        async with server:
            await server.serve_forever()

    try:
        asyncio.run(serve())
    except OSError as exc:
        typer.echo(f"Cannot start the mail sink: {exc}", err=True)
        raise typer.Exit(2) from exc
    except KeyboardInterrupt:
        pass
