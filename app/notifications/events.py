"""From a flag event to the deliveries it causes, stored in the event's own transaction.

:func:`notify_flag` asks each planner who must hear about the event (webhook endpoints;
emails to reporters and owners) and puts the planned deliveries in the outbox. The flag writes
reach it through :mod:`app.flags.hooks`: the composition root (app/main.py) installs a
:class:`FlagNotifier` on the app's sessions.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.flags.models import Flag
from app.notifications import outbox, webhooks
from app.notifications.channels import PlannedDelivery
from app.notifications.email import planning as email_planning

# Who must hear about a flag event: (session, flag, event, details, settings) -> deliveries.
# A planner reads what it needs in the session and must not commit or write anything itself.
Planner = Callable[
    [AsyncSession, Flag, str, Mapping[str, Any], Settings], Awaitable[Sequence[PlannedDelivery]]
]


async def _webhook_planner(
    session: AsyncSession, flag: Flag, event: str, details: Mapping[str, Any], settings: Settings
) -> Sequence[PlannedDelivery]:
    return await webhooks.plan(session, flag, event, details, dashboard_url=settings.base_url)


# Webhooks, then email (app/notifications/email/): each planner says who must hear of an event.
PLANNERS: tuple[Planner, ...] = (_webhook_planner, email_planning.plan)


async def notify_flag(
    session: AsyncSession,
    flag: Flag,
    event: str,
    *,
    details: Mapping[str, Any],
    settings: Settings,
    planners: Sequence[Planner] = PLANNERS,
) -> list[PlannedDelivery]:
    """Plan every delivery ``event`` on ``flag`` causes and enqueue them in the caller's
    transaction (no commit): a rolled-back flag change sends nothing."""
    planned: list[PlannedDelivery] = []
    for planner in planners:
        planned.extend(await planner(session, flag, event, details, settings))
    await outbox.enqueue(session, planned)
    return planned


class FlagNotifier:
    """The :class:`app.flags.hooks.FlagListener` the app installs on its sessions."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    async def __call__(
        self, session: AsyncSession, flag: Flag, event: str, details: Mapping[str, Any]
    ) -> None:
        await notify_flag(session, flag, event, details=details, settings=self._settings)
