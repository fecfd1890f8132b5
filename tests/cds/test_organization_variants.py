"""The calling CDS client's organization chooses the variant of a published measure its calls
run, over the installation's: the PSA measure's "sensitive" variant (from age 70) for the
practice, the default "specific" one (from 75) for the hospital."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.cds import clients
from app.cds.models import CdsClient
from app.organizations import service as organizations
from tests.cds.test_cards import conditions, hook_request
from tests.cds.test_endpoints import SERVICE, bearer
from tests.lowvalue.factories import patient, service_request

pytestmark = pytest.mark.usefixtures("clean_tables")

PSA = "psa-screening-older-men"


async def psa_cards_at_72(client, signer) -> list[str]:
    call = hook_request(service_request("cpt", "84153"), conditions=conditions())
    call.prefetch["patient"] = patient(age=72)  # type: ignore[index]
    path = f"/cds-services/{SERVICE}"
    response = await client.post(
        path, json=call.model_dump(mode="json"), headers=bearer(signer, path)
    )
    assert response.status_code == 200, response.text
    return [card["source"]["topic"]["code"] for card in response.json()["cards"]]


async def test_the_calling_clients_organization_chooses_the_variant(
    client, signer, session_factory
):
    hospital = await psa_cards_at_72(client, signer)
    async with session_factory() as session:
        practice = await organizations.add(session, "practice", name="Riverside Family Practice")
        await organizations.choose_variants(session, "practice", {PSA: "sensitive"})
        await session.flush()
        await session.execute(sa.update(CdsClient).values(organization_id=practice.id))
        await session.commit()
    clients.KNOWN_CLIENTS.clear()  # as registering or changing a client does

    practices = await psa_cards_at_72(client, signer)

    assert hospital == []
    assert practices == [PSA]
