"""The closed loop, seen from the reporter: their flags, what became of each, and the replies
they have not read yet."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.flags import repository as flags_repository
from app.flags.errors import FlagNotFound
from app.reporter import repository

MAX_LISTED = 100


@dataclass(frozen=True)
class ReplySeen:
    id: int
    at: datetime
    author: str
    body: str
    unread: bool


@dataclass(frozen=True)
class ReportedFlag:
    id: uuid.UUID
    created_at: datetime
    status: str
    reason: str
    order_display: str
    replies: list[ReplySeen]

    @property
    def unread(self) -> int:
        return sum(reply.unread for reply in self.replies)


async def flags_of(session: AsyncSession, *, issuer: str, fhir_user: str) -> list[ReportedFlag]:
    flags = await repository.reporter_flags(
        session, issuer=issuer, fhir_user=fhir_user, limit=MAX_LISTED
    )
    ids = [flag.id for flag in flags]
    replies = await repository.replies_to(session, ids)
    markers = await repository.read_markers(session, ids)
    by_flag: dict[uuid.UUID, list[ReplySeen]] = {flag_id: [] for flag_id in ids}
    for event in replies:
        assert event.id is not None
        by_flag[event.flag_id].append(
            ReplySeen(
                id=event.id,
                at=event.at,
                author=event.actor_name,
                body=event.body or "",
                unread=event.id > markers.get(event.flag_id, 0),
            )
        )
    return [
        ReportedFlag(
            id=flag.id,
            created_at=flag.created_at,
            status=flag.status,
            reason=flag.reason,
            order_display=flag.order_display,
            replies=by_flag[flag.id],
        )
        for flag in flags
    ]


async def mark_replies_read(
    session: AsyncSession, flag_id: uuid.UUID, *, issuer: str, fhir_user: str
) -> None:
    """Opening a flag's replies marks them read, for its own reporter only."""
    flag = await flags_repository.get(session, flag_id)
    if flag is None or flag.issuer != issuer or flag.reporter_fhir_user != fhir_user:
        raise FlagNotFound("You have no flag with that id.")
    replies = await repository.replies_to(session, [flag_id])
    if replies and replies[-1].id is not None:
        await repository.mark_read(session, flag_id, replies[-1].id)


async def already_flagged(
    session: AsyncSession, *, issuer: str, fhir_user: str | None, orders: list[tuple[str, str]]
) -> set[tuple[str, str]]:
    """The orders (type, id) among ``orders`` that this reporter flagged in an earlier launch."""
    if fhir_user is None:
        return set()
    found = await repository.orders_flagged_by(
        session, issuer=issuer, fhir_user=fhir_user, order_ids=[order_id for _, order_id in orders]
    )
    return found & set(orders)
