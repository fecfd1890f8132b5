""" "You said, we did": shareable replies on closed flags, quoted with the flag's service and
reason, never with a patient or a clinician.

Each reply was checked when it was marked shareable (app.flags.shareable); it is checked again
here, against the staff directory as it is today, and dropped if it no longer passes.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from app.flags import shareable
from app.flags.catalog import REASON_LABELS, Reason
from app.flags.models import Flag, FlagEvent
from app.reports import repository
from app.reports.schemas import Example

MAX_EXAMPLES = 10


def _quotable(event: FlagEvent, flag: Flag, staff: frozenset[str]) -> bool:
    if not (event.details or {}).get("shareable") or not event.body:
        return False
    return not shareable.findings(event.body, shareable.Known.of(flag, staff))


def _example(event: FlagEvent, flag: Flag) -> Example:
    return Example(
        service=flag.order_display,
        reason=REASON_LABELS[Reason(flag.reason)],
        reply=event.body or "",
        closed_on=flag.closed_at.date() if flag.closed_at else None,
    )


async def examples(session: AsyncSession, where: Sequence[ColumnElement[bool]]) -> list[Example]:
    """Up to MAX_EXAMPLES quotable replies, the newest closed flags first, one per flag."""
    staff = await shareable.staff_name_parts(session)
    quoted: list[Example] = []
    seen: set[object] = set()
    for event, flag in await repository.closed_flag_replies(session, where):
        if flag.id in seen or not _quotable(event, flag, staff):
            continue
        seen.add(flag.id)
        quoted.append(_example(event, flag))
        if len(quoted) == MAX_EXAMPLES:
            break
    return quoted
