"""The one place organization scoping is enforced: the session hook of app.organizations.scope.
Whatever shape a query over flags takes on a scoped session, it holds only the organization's
flags, or it is refused; it never holds another organization's."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from sqlmodel import col, select

from app.flags.models import Flag, FlagEvent
from app.organizations.scope import (
    OrganizationScope,
    UnscopedFlagQuery,
    bind,
    shared_totals_options,
)
from tests.organizations.conftest import TwoOrganizations


async def test_a_flag_of_another_organization_is_not_found_by_id(
    session_factory, two_organizations: TwoOrganizations
):
    orgs = two_organizations
    async with session_factory() as session:
        bind(session, OrganizationScope(orgs.flag_a.organization_id))

        assert await session.get(Flag, orgs.flag_b.id) is None
        assert (await session.get(Flag, orgs.flag_a.id)) is not None


async def test_column_selects_aggregates_joins_and_subqueries_are_scoped(
    session_factory, two_organizations: TwoOrganizations
):
    orgs = two_organizations
    async with session_factory() as session:
        bind(session, OrganizationScope(orgs.practice_id))
        ids = (await session.scalars(sa.select(col(Flag.id)))).all()
        count = await session.scalar(sa.select(sa.func.count(col(Flag.id))))
        joined = (
            await session.scalars(
                sa.select(col(FlagEvent.flag_id)).join(Flag, col(Flag.id) == FlagEvent.flag_id)
            )
        ).all()
        inner = sa.select(col(Flag.id)).scalar_subquery()
        in_subquery = (
            await session.scalars(select(FlagEvent).where(col(FlagEvent.flag_id).in_(inner)))
        ).all()

    assert ids == [orgs.flag_b.id]
    assert count == 1
    assert joined == [orgs.flag_b.id]
    assert [event.flag_id for event in in_subquery] == [orgs.flag_b.id]


async def test_a_query_the_hook_cannot_scope_is_refused_not_run(
    session_factory, two_organizations: TwoOrganizations
):
    orgs = two_organizations
    only_functions = sa.select(sa.func.count().filter(col(Flag.note).is_not(None)))
    raw = sa.text("SELECT count(*) FROM flag")
    async with session_factory() as session:
        bind(session, OrganizationScope(orgs.practice_id))
        with pytest.raises(UnscopedFlagQuery):
            await session.execute(only_functions)
        with pytest.raises(UnscopedFlagQuery):
            await session.execute(raw)
        # Written as an ORM statement it runs, scoped.
        scoped = await session.scalar(only_functions.select_from(Flag))

    assert scoped == 1


async def test_system_level_and_unbound_sessions_see_every_organization(
    session_factory, two_organizations: TwoOrganizations
):
    async with session_factory() as session:
        unbound = await session.scalar(sa.select(sa.func.count(col(Flag.id))))
        bind(session, OrganizationScope(None))
        system = await session.scalar(sa.select(sa.func.count(col(Flag.id))))

    assert unbound == system == 2


async def test_shared_totals_are_the_one_way_past_the_scope(
    session_factory, two_organizations: TwoOrganizations
):
    orgs = two_organizations
    async with session_factory() as session:
        bind(session, OrganizationScope(orgs.practice_id))
        total = await session.scalar(
            sa.select(sa.func.count(col(Flag.id))).execution_options(**shared_totals_options())
        )
        other = await session.scalar(
            sa.select(sa.func.count(col(Flag.id))).where(
                col(Flag.organization_id) == uuid.UUID(int=0)
            )
        )

    assert total == 2
    assert other == 0
