"""What the flag core announces when a flag changes, for other parts of the app to act on in
the same transaction (the outbox of notifications).

The flag core does not import those parts (they build on it, tests/test_architecture.py): the
composition root puts a listener on the sessions it makes (``session.info``, see
:func:`listening`), and the flag writes call :func:`announce_events` after saving. A session
without a listener (a script's, a test's) announces to nobody.

Events announced, and their details:

- ``flag.created``: none
- ``flag.status_changed``: ``from_status``, ``to_status``
- ``flag.replied``: none (a reply the reporter sees; internal comments are not announced)
- ``flag.assigned``: the assignment's timeline details (who owns the flag now)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from app.flags.models import EventKind, Flag, FlagEvent

LISTENER_KEY = "valueloop.flag_listener"


class FlagListener(Protocol):
    """Called inside the write's transaction, after the flag is saved; must not commit."""

    async def __call__(
        self, session: AsyncSession, flag: Flag, event: str, details: Mapping[str, Any]
    ) -> None: ...


def listening(listener: FlagListener) -> dict[str, Any]:
    """The ``info`` for a sessionmaker whose sessions announce to ``listener``."""
    return {LISTENER_KEY: listener}


def announced(event: FlagEvent) -> tuple[str, dict[str, Any]] | None:
    """The announcement a timeline event makes, if any: (event name, details)."""
    if event.kind == EventKind.CREATED:
        return "flag.created", {}
    if event.kind == EventKind.STATUS_CHANGE:
        return "flag.status_changed", {
            "from_status": event.from_status,
            "to_status": event.to_status,
        }
    if event.kind == EventKind.REPLY and event.visible_to_reporter:
        return "flag.replied", {}
    if event.kind == EventKind.ASSIGNMENT:
        return "flag.assigned", dict(event.details or {})
    return None


async def announce_events(session: AsyncSession, flag: Flag, events: Iterable[FlagEvent]) -> None:
    """Announce what ``events`` (just written to ``flag``'s timeline) say happened, in order."""
    listener: FlagListener | None = session.info.get(LISTENER_KEY)
    if listener is None:
        return
    for event in events:
        if (announcement := announced(event)) is not None:
            name, details = announcement
            await listener(session, flag, name, details)
