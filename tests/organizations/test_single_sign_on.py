"""Single sign-on creates unknown people at the system level (every organization's flags) only
while one organization uses the registry; with several, an admin adds them first."""

from __future__ import annotations

import pytest

from app.auth.models import Role
from app.organizations import service as organizations
from app.staff.errors import NoValueLoopRole
from tests.factories import make_staff
from tests.staff.test_directory import identity, sign_in


async def test_with_several_organizations_an_unknown_person_is_refused(session_factory):
    async with session_factory() as session:
        await organizations.add(session, "practice", name="Riverside Family Practice")
        await session.commit()

    with pytest.raises(NoValueLoopRole, match="--org"):
        await sign_in(session_factory)


async def test_a_person_an_admin_added_with_an_organization_signs_in_and_keeps_it(
    session_factory,
):
    async with session_factory() as session:
        practice = await organizations.add(session, "practice", name="Riverside Family Practice")
        await session.commit()
    added = await make_staff(
        session_factory, email=identity().email, organization="practice", role=Role.LEAD
    )

    person = await sign_in(session_factory)

    assert person.id == added.id
    assert person.organization_id == practice.id


async def test_with_one_organization_single_sign_on_works_as_before(session_factory):
    person = await sign_in(session_factory)

    assert person.organization_id is None
