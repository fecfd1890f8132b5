"""A CDS call without prefetch: ValueLoop reads the patient, the encounter and the conditions
from ``fhirServer`` with ``fhirAuthorization`` (CDS Hooks 2.0 "FHIR Resource Access"), here the
simulated EHR, and judges the orders exactly as it would with the same data prefetched. Only a
registered EHR is read, and a server that refuses the token is a clear refusal."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest

from app.cds import service
from app.cds.errors import EhrDataUnavailable
from app.cds.schemas import FhirAuthorization, HookRequest
from app.ehrs.errors import UnknownIssuer
from app.organizations.models import DEFAULT_ORGANIZATION_ID
from tests.cds.test_cards import conditions, hook_request
from tests.lowvalue.factories import service_request

pytestmark = pytest.mark.usefixtures("clean_tables")


def back_pain_charts(sim) -> list[tuple[str, dict[str, Any]]]:
    """Simulated patients with low back pain on record, each with that condition's encounter."""
    charts = []
    for found in sim.state.store.all("Condition"):
        codes = {c.get("code") for c in found.get("code", {}).get("coding", [])}
        if "M54.50" in codes and found.get("encounter"):
            encounter_id = found["encounter"]["reference"].split("/")[1]
            encounter = next(e for e in sim.state.store.all("Encounter") if e["id"] == encounter_id)
            charts.append((found["subject"]["reference"].split("/")[1], encounter))
    assert len(charts) >= 2, "the simulated EHR has low back pain charts"
    return charts


def token_for(sim, patient: str, encounter: str) -> str:
    grants = sim.state.grants
    grant = grants.issue_tokens(
        client_id="cds",
        scopes=("patient/*.rs",),
        context=grants.create_launch(
            user="Practitioner/prac-00001", patient=patient, encounter=encounter
        ),
        lifetime=timedelta(minutes=5),
        with_refresh=False,
    )
    return str(grant.access_token)


Chart = tuple[str, dict[str, Any]]


def call_for(chart: Chart, sim, *, prefetch: dict[str, Any] | None, token: str) -> HookRequest:
    patient, encounter = chart
    order = service_request("cpt", "72148")
    order["subject"] = {"reference": f"Patient/{patient}"}
    order["authoredOn"] = encounter["period"]["start"]
    return HookRequest.model_validate(
        {
            "hook": "order-sign",
            "hookInstance": str(uuid.uuid4()),
            "fhirServer": sim.fhir_base,
            "fhirAuthorization": {
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": 300,
                "scope": "patient/*.rs",
                "subject": "cds-service",
            },
            "context": {
                "userId": "Practitioner/prac-00001",
                "patientId": patient,
                "encounterId": encounter["id"],
                "draftOrders": {"resourceType": "Bundle", "entry": [{"resource": order}]},
            },
            "prefetch": prefetch,
        }
    )


def prefetched(chart: Chart, sim) -> dict[str, Any]:
    """What an EHR that prefetches would send for the same chart."""
    patient, encounter = chart
    store = sim.state.store
    mine = [c for c in store.all("Condition") if c["subject"]["reference"] == f"Patient/{patient}"]
    return {
        "patient": next(p for p in store.all("Patient") if p["id"] == patient),
        "encounter": encounter,
        "conditions": {
            "resourceType": "Bundle",
            "type": "searchset",
            "link": [{"relation": "self", "url": f"Condition?patient={patient}"}],
            "entry": [{"resource": c} for c in mine],
        },
    }


async def rules_carded(session_factory, settings, call: HookRequest) -> list[str]:
    async with session_factory() as session, httpx.AsyncClient(timeout=10) as http:
        answer = await service.cards_for(
            "valueloop-order-sign",
            call,
            session=session,
            http=http,
            settings=settings,
            client_iss="https://ehr.test",
            organization_id=DEFAULT_ORGANIZATION_ID,
        )
    return [card.source.topic.code for card in answer.cards if card.source.topic]


async def test_without_prefetch_the_ehr_is_read_and_the_answer_is_the_same(
    ehr, session_factory, settings
):
    answers = []
    for chart in back_pain_charts(ehr.sim):
        token = token_for(ehr.sim, chart[0], chart[1]["id"])
        read = await rules_carded(
            session_factory, settings, call_for(chart, ehr.sim, prefetch=None, token=token)
        )
        sent = await rules_carded(
            session_factory,
            settings,
            call_for(chart, ehr.sim, prefetch=prefetched(chart, ehr.sim), token=token),
        )
        assert read == sent, chart[0]
        answers.append(tuple(read))

    # The synthetic charts hold both: an MRI in the first weeks of back pain, and one with a
    # red flag (fever) that exempts it.
    assert set(answers) == {("low-back-pain-imaging",), ()}


async def test_a_fhir_server_that_is_not_a_registered_ehr_is_never_read(
    sim, session_factory, settings
):
    # The simulated EHR is running but not registered with ValueLoop in this test.
    call = call_for(back_pain_charts(sim)[0], sim, prefetch=None, token="whatever")

    with pytest.raises(UnknownIssuer):
        await rules_carded(session_factory, settings, call)


async def test_a_token_the_ehr_refuses_is_a_clear_refusal(ehr, session_factory, settings):
    call = call_for(
        back_pain_charts(ehr.sim)[0], ehr.sim, prefetch=None, token="not-a-token-the-ehr-issued"
    )

    with pytest.raises(EhrDataUnavailable, match="FHIR server could not be read"):
        await rules_carded(session_factory, settings, call)


async def test_history_the_ehr_will_not_give_leaves_only_those_rules_silent(
    ehr, session_factory, settings, caplog
):
    # Everything prefetched but the history, which the EHR refuses (the token is not its own):
    # the back pain MRI still gets its card; the pre-op X-ray, which needs to know of a booked
    # surgery, stays silent rather than guess.
    call = hook_request(service_request("cpt", "72148"), conditions=conditions("M54.50"))
    call.context.draftOrders["entry"].append(
        {"resource": {**service_request("cpt", "71046"), "id": "sr2"}}
    )
    call = call.model_copy(
        update={
            "fhirServer": ehr.sim.fhir_base,
            "fhirAuthorization": FhirAuthorization(
                access_token="refused",
                token_type="Bearer",
                expires_in=300,
                scope="patient/*.rs",
                subject="cds-service",
            ),
        }
    )

    with caplog.at_level(logging.WARNING, logger="app.cds.service"):
        carded = await rules_carded(session_factory, settings, call)

    assert carded == ["low-back-pain-imaging"]
    assert "history search failed" in caplog.text
    assert "refused" not in caplog.text  # the token never reaches a log
