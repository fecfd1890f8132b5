"""The demo's showcase patient gets ValueLoop's cards where the demo says: the rules judge a
lumbar MRI, a lumbar X-ray and a vitamin D level low-value for them, and nothing else on the
simulated chart's order list, on the prefetch the EHR fills from ValueLoop's templates."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

import lowvalue
from app.cds.service import PREFETCH
from ehr_sim import cds_client, orders
from ehr_sim.app import create_sim_app
from ehr_sim.config import SimSettings
from ehr_sim.data import showcase

EXPECTED = {
    "mri-lumbar-spine": {"low-back-pain-imaging"},
    "xray-lumbar-spine": {"low-back-pain-imaging"},
    "vitamin-d": {"vitamin-d-testing"},
}


@pytest.mark.parametrize("orderable", sorted(orders.ORDERABLES))
def test_the_showcase_patients_orders_are_judged_as_the_demo_says(orderable):
    state = create_sim_app(SimSettings(patients=2, showcase_patient=True)).state.sim
    encounter = state.store.get("Encounter", showcase.ENCOUNTER_ID)
    draft = orders.add_draft(
        state.store, encounter, orderable, requester="Practitioner/x", now=datetime.now(UTC)
    )
    context = {
        "userId": "Practitioner/prac-00001",
        "patientId": showcase.PATIENT_ID,
        "encounterId": showcase.ENCOUNTER_ID,
        "draftOrders": cds_client.draft_bundle([draft]),
    }
    prefetch = cds_client.fill_prefetch(state, PREFETCH, context)

    decisions = lowvalue.evaluate(
        lowvalue.case_from_cds_request({"context": context, "prefetch": prefetch})
    )

    low_value = {d.rule_id for d in decisions if d.outcome is lowvalue.Outcome.LOW_VALUE}
    assert low_value == EXPECTED.get(orderable, set())
