"""A "caught before" flag records the rule that caught it, as an in-EHR flag records the rules
that agreed with it (``flag.rule_agreement``)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.flags.models import Flag
from tests.cds.test_endpoints import a_card, feedback, outcome

pytestmark = pytest.mark.usefixtures("clean_tables")


async def test_a_catch_flag_records_the_rule_that_caught_it(client, signer, session_factory):
    card = await a_card(client, signer)
    accepted = outcome(
        card, "accepted", acceptedSuggestions=[{"id": card["suggestions"][0]["uuid"]}]
    )

    assert (await feedback(client, signer, accepted)).status_code == 200

    async with session_factory() as session:
        [flag] = (await session.scalars(sa.select(Flag))).all()
    [agreed] = flag.rule_agreement or []
    assert agreed["rule_id"] == "low-back-pain-imaging"
    assert agreed["rule_version"]
    assert agreed["title"] == card["source"]["topic"]["display"]
    assert agreed["source_url"] == card["source"]["url"]


async def test_a_catch_belongs_to_the_organization_of_the_cds_client_that_showed_it(
    client, signer, session_factory
):
    from app.cds import clients
    from app.cds.models import CdsClient
    from app.organizations import service as organizations

    async with session_factory() as session:
        practice = await organizations.add(session, "practice", name="Riverside Family Practice")
        await session.flush()
        await session.execute(sa.update(CdsClient).values(organization_id=practice.id))
        await session.commit()
    clients.KNOWN_CLIENTS.clear()  # as changing a client's registration does
    card = await a_card(client, signer)
    accepted = outcome(
        card, "accepted", acceptedSuggestions=[{"id": card["suggestions"][0]["uuid"]}]
    )

    assert (await feedback(client, signer, accepted)).status_code == 200

    async with session_factory() as session:
        [flag] = (await session.scalars(sa.select(Flag))).all()
    assert flag.organization_id == practice.id
