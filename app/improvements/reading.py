"""Reading improvement work as the API and the dashboard show it: the board's summaries and
one improvement with its evidence, flags and timeline (each read in a fixed number of
queries, whatever the number of improvements or flags)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app.flags import owners
from app.flags import views as flag_views
from app.improvements import repository, views
from app.improvements.catalog import ImprovementStatus
from app.improvements.evidence import evidence
from app.improvements.models import Improvement
from app.improvements.schemas import ImprovementDetail, ImprovementSummary
from app.staff.repository import staff_by_ids


async def summaries(
    session: AsyncSession,
    *,
    statuses: Sequence[ImprovementStatus] = (),
    flag_id: uuid.UUID | None = None,
    organization_id: uuid.UUID | None = None,
) -> list[ImprovementSummary]:
    found = await repository.listing(
        session, statuses=statuses, flag_id=flag_id, organization_id=organization_id
    )
    stakes = await repository.at_stake(session, [improvement.id for improvement in found])
    people = await staff_by_ids(session, views.owner_ids(found))
    no_flags = repository.AtStake()
    return [
        views.summary(improvement, stakes.get(improvement.id, no_flags), people)
        for improvement in found
    ]


async def detail(session: AsyncSession, improvement: Improvement) -> ImprovementDetail:
    flags = await repository.linked_flags(session, improvement.id)
    flag_owners = await owners.people_for(session, flags)
    people = await staff_by_ids(session, views.owner_ids([improvement]))
    return views.detail(
        improvement,
        people=people,
        evidence=await evidence(session, improvement),
        flags=[flag_views.summary(flag, flag_owners) for flag in flags],
        events=await repository.timeline(session, improvement.id),
    )
