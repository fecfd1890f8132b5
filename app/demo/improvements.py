"""Demo improvement work on the synthetic flags: one change live for eight weeks, with its
measured effect (whatever the synthetic flags show: they are spread evenly over time, so the
honest answer is usually "no clear change"), and one proposed. Made through the real services
(app/improvements/), so the replies to linked reporters and their flags' moves are the ones the
product makes. Only in an organization with flags and no improvement work yet."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.db import create_engine_for, session_factory
from app.demo.choices import LEADS
from app.flags import service as flags
from app.flags.filters import FlagFilters
from app.flags.repository import FlagSort
from app.flags.review import Actor
from app.improvements import repository, service, workflow
from app.improvements.catalog import ImprovementStatus, Kind
from app.improvements.schemas import ImprovementIn, ImprovementTransitionIn, TargetIn
from app.insights.repository import Dimension, counts_by
from app.kit.time import utcnow

ACTOR = Actor(name="A. Rivera", role="analyst")
LIVE_WEEKS = 8
MAX_LINKED = 25


async def _flags_on(
    session: AsyncSession, organization_id: uuid.UUID, system: str, code: str, limit: int
) -> list[uuid.UUID]:
    """The newest open flags on one order code, before the go-live date."""
    filters = FlagFilters(
        organization=organization_id,
        order_system=system,
        order_code=code,
        status=("submitted", "triaged", "accepted"),
        created_to=(utcnow() - timedelta(weeks=LIVE_WEEKS)).date(),
    )
    page = await flags.page(session, filters, sort=FlagSort.NEWEST, limit=limit, cursor=None)
    return [flag.id for flag in page.flags]


async def _propose(
    session: AsyncSession,
    organization_id: uuid.UUID,
    group: tuple[str | None, ...],
    label: str | None,
    kind: Kind,
) -> uuid.UUID | None:
    system, code = group
    if system is None or code is None:
        return None
    clinical, operational = LEADS[0]
    assert operational is not None, "the first demo lead is a dyad"
    body = ImprovementIn(
        title=f"Take {label or code} out of the default order set"
        if kind is Kind.EHR_BUILD
        else f"Teach when {label or code} adds nothing",
        kind=kind,
        targets=[TargetIn(system=system, code=code)],
        owners=[clinical.id, operational.id],
        flag_ids=await _flags_on(session, organization_id, system, code, MAX_LINKED),
    )
    improvement = await service.create(session, body, actor=ACTOR, organization_id=organization_id)
    return improvement.id


async def _go_live(session: AsyncSession, improvement_id: uuid.UUID, dashboard_url: str) -> None:
    for change in (
        ImprovementTransitionIn(to=ImprovementStatus.APPROVED),
        ImprovementTransitionIn(
            to=ImprovementStatus.LIVE,
            go_live=(utcnow() - timedelta(weeks=LIVE_WEEKS)).date(),
            reply="Your flag contributed to this change: the order is no longer pre-selected "
            "in the order set. Thank you for raising it.",
        ),
    ):
        await workflow.transition(
            session, improvement_id, change, actor=ACTOR, dashboard_url=dashboard_url
        )


async def seed_improvements(
    database_url: str, organization_id: uuid.UUID, *, dashboard_url: str
) -> int:
    """Add the demo's improvement work to the organization; how many were added."""
    engine = create_engine_for(database_url)
    try:
        async with session_factory(engine)() as session:
            if await repository.listing(session, organization_id=organization_id):
                return 0
            top = await counts_by(
                session, Dimension.SERVICE, FlagFilters(organization=organization_id)
            )
            made = 0
            if len(top) >= 1 and (
                live := await _propose(
                    session, organization_id, top[0].key, top[0].label, Kind.EHR_BUILD
                )
            ):
                await _go_live(session, live, dashboard_url)
                made += 1
            if len(top) >= 2 and await _propose(
                session, organization_id, top[1].key, top[1].label, Kind.EDUCATION
            ):
                made += 1
            await session.commit()
            return made
    finally:
        await engine.dispose()
