"""The CDS Hooks demo in a real browser: in the simulated EHR's chart, order a lumbar MRI for
the patient with recent low back pain, click Sign, see ValueLoop's card, open ValueLoop from
the card's SMART link (it loads on that patient, with the order as ``focus_order``), accept
the suggestion, and find the catch in the registry.

The EHR calls ValueLoop's order-sign service over real HTTP with its signed JWT; ValueLoop
knows the EHR as a CDS client by the JWKS URL the EHR publishes (``/cds/jwks``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from app.cds import clients
from app.config import Mode
from app.db import create_engine_for, create_sync_engine_for
from app.launch.models import AppSession
from ehr_sim.data import showcase
from tests.e2e.conftest import Stack, _in_own_thread

pytestmark = pytest.mark.browser

ORDER_SIGN = "valueloop-order-sign"
MRI = "MRI L-SPINE WO CONTRAST"


async def _register_cds_client(database_url: str, iss: str, jwks_url: str) -> str:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    engine = create_engine_for(database_url)
    try:
        factory = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
        async with factory() as session:
            client, _ = await clients.register(
                session, iss=iss, jwks_url=jwks_url, name="Simulated EHR", mode=Mode.DEMO
            )
            await session.commit()
        return client.iss
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def cds_stack(stack: Stack) -> Iterator[Stack]:
    """The stack's EHR with the showcase patient, calling ValueLoop's order-sign service, and
    registered with ValueLoop as a CDS client by its JWKS URL (as ./scripts/demo does)."""
    state = stack.sim.state
    if state.store.get("Patient", showcase.PATIENT_ID) is None:
        for resource in showcase.back_pain_patient(
            list(state.store.all("PractitionerRole")), datetime.now(UTC)
        ):
            state.store.add(resource)
    _in_own_thread(
        _register_cds_client(
            stack.database_url, stack.sim.fhir_base, f"{stack.sim.base_url}/cds/jwks"
        )
    )
    before = list(state.cds_services)
    state.cds_services = [f"{stack.base_url}/cds-services/{ORDER_SIGN}"]
    yield stack
    state.cds_services = before


def app_contexts(stack: Stack) -> list[str]:
    """The appContext of every app session: what ValueLoop kept of the launches."""
    engine = create_sync_engine_for(stack.database_url)
    try:
        with engine.connect() as connection:
            column = sa.inspect(AppSession).local_table.c.app_context
            return [value for (value,) in connection.execute(sa.select(column)) if value]
    finally:
        engine.dispose()


def test_a_card_at_signing_opens_valueloop_on_the_order_and_its_acceptance_is_a_catch(
    page: Any, cds_stack: Stack
) -> None:
    stack = cds_stack
    page.goto(f"{stack.chart_url}chart/encounters/{showcase.ENCOUNTER_ID}")
    page.get_by_label("New order").select_option(label=f"{MRI} (CPT 72148)")
    page.get_by_role("button", name="Add draft order").click()
    page.get_by_role("cell", name=MRI).wait_for()
    [draft] = [
        order
        for order in stack.sim.state.store.all("ServiceRequest")
        if order.get("encounter", {}).get("reference") == f"Encounter/{showcase.ENCOUNTER_ID}"
        and order["status"] == "draft"
    ]
    reference = f"ServiceRequest/{draft['id']}"

    page.get_by_role("button", name="Sign orders").click()
    card = page.get_by_role("region", name="CDS card: ValueLoop: likely low-value care")
    card.wait_for()
    assert "Imaging for uncomplicated low back pain" in card.inner_text()
    assert draft["status"] == "draft"  # held until the clinician decides

    with page.expect_response(lambda r: "/api/v1/clinician/context" in r.url) as answered:
        card.get_by_role("button", name="Open in ValueLoop").click()
    context = answered.value.json()
    assert context["focus_order"] == reference
    assert reference in {f"{o['resource_type']}/{o['fhir_id']}" for o in context["orders"]}
    frame = page.frame_locator('aside.panel iframe[title="ValueLoop"]')
    frame.locator('main#app[data-state="ready"]').wait_for()
    assert any(f'"order": "{reference}"' in kept for kept in app_contexts(stack))
    # Opened on that order: its flag form is open with no click, on the rule's reason.
    [shown] = [o["display"] for o in context["orders"] if o["fhir_id"] == draft["id"]]
    form = frame.get_by_role("form", name=f"Flag {shown}")
    form.wait_for()
    assert form.locator("input[name=reason]:checked").count() == 1

    page.get_by_role("region", name="CDS card: ValueLoop: likely low-value care").get_by_role(
        "button", name="Accept suggestion"
    ).click()
    page.get_by_text(f"Removed: {MRI}.").wait_for()
    assert draft["status"] == "revoked"

    with stack.api() as api:
        flags = api.get("/flags", params={"limit": 50}).json()["items"]
    [catch] = [flag for flag in flags if flag["order"]["fhir_id"] == draft["id"]]
    assert (catch["timing"], catch["tags"]) == ("before", ["cds-catch"])
