"""FhirClient and fetch_launch_context against the simulated EHR over real HTTP.

Expectations come from the simulator's store (the source of truth), never from guessed
counts; fault switches are reset after every test that sets them.
"""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.patient import Patient

from ehr_sim.config import SimSettings
from ehr_sim.server import SimServer
from fhir_client import (
    FhirClient,
    FhirForbiddenError,
    FhirInvalidResponseError,
    FhirUnauthorizedError,
    fetch_launch_context,
)

Json = dict[str, Any]


@pytest.fixture(scope="module")
def sim() -> Iterator[SimServer]:
    with SimServer(SimSettings(patients=12, seed=7)) as server:
        yield server


@dataclass(frozen=True)
class Chart:
    """The encounter with the most orders (of both kinds), and its patient."""

    patient: str
    encounter: str
    other_patient: str


def stored(sim: SimServer, resource_type: str) -> list[Json]:
    return list(sim.state.store.all(resource_type))


def reference(resource: Json, key: str) -> str | None:
    element = resource.get(key)
    return element.get("reference") if isinstance(element, dict) else None


@pytest.fixture(scope="module")
def chart(sim: SimServer) -> Chart:
    orders: dict[str, dict[str, int]] = {}
    for resource_type in ("ServiceRequest", "MedicationRequest"):
        for order in stored(sim, resource_type):
            if encounter_ref := reference(order, "encounter"):
                per_type = orders.setdefault(encounter_ref, {})
                per_type[resource_type] = per_type.get(resource_type, 0) + 1
    with_both = [ref for ref, per_type in orders.items() if len(per_type) == 2]
    assert with_both, "the synthetic data has no encounter with both kinds of order"
    busiest = max(with_both, key=lambda ref: sum(orders[ref].values()))
    encounter = sim.state.store.get("Encounter", busiest.removeprefix("Encounter/"))
    assert encounter is not None
    patient = encounter["subject"]["reference"].removeprefix("Patient/")
    other = next(p["id"] for p in stored(sim, "Patient") if p["id"] != patient)
    return Chart(patient=patient, encounter=encounter["id"], other_patient=other)


def issue_token(sim: SimServer, chart: Chart) -> str:
    grants = sim.state.grants
    grant = grants.issue_tokens(
        client_id="t",
        scopes=("patient/*.rs",),
        context=grants.create_launch(
            user="Practitioner/prac-00001", patient=chart.patient, encounter=chart.encounter
        ),
        lifetime=timedelta(minutes=5),
        with_refresh=False,
    )
    return grant.access_token


@dataclass
class Connection:
    http: httpx.AsyncClient
    sent: list[httpx.Request]

    def client(self, sim: SimServer, token: str, **options: Any) -> FhirClient:
        options.setdefault("backoff_base", 0.01)
        return FhirClient(self.http, sim.fhir_base, token, **options)

    async def set_faults(self, sim: SimServer, **faults: object) -> None:
        response = await self.http.put(f"{sim.base_url}/_sim/faults", json=faults)
        assert response.status_code == 200, response.text


@pytest.fixture
async def connection(sim: SimServer) -> AsyncIterator[Connection]:
    sent: list[httpx.Request] = []

    async def record(request: httpx.Request) -> None:
        if request.url.path.startswith("/fhir"):
            sent.append(request)

    async with httpx.AsyncClient(event_hooks={"request": [record]}) as http:
        conn = Connection(http, sent)
        yield conn
        # Every test leaves the EHR healthy for the next one.
        await conn.set_faults(sim)


@pytest.fixture
def token(sim: SimServer, chart: Chart) -> str:
    return issue_token(sim, chart)


async def test_read_returns_the_patient_as_an_r4b_model(sim, chart, connection, token):
    client = connection.client(sim, token)

    patient = await client.read("Patient", chart.patient)

    assert isinstance(patient, Patient)
    assert patient.id == chart.patient


async def test_search_reads_every_page_of_a_small_page_size(sim, chart, connection, token):
    expected = [
        order["id"]
        for order in stored(sim, "MedicationRequest")
        if reference(order, "subject") == f"Patient/{chart.patient}"
    ]
    assert len(expected) > 2, "the chosen patient needs orders on several pages"
    client = connection.client(sim, token)

    result = await client.search("MedicationRequest", {"patient": chart.patient, "_count": "2"})

    assert [r.id for r in result.resources] == expected
    assert (result.total, result.truncated, result.invalid) == (len(expected), False, [])
    assert len(connection.sent) == math.ceil(len(expected) / 2)
    # The sim's next links are on the base itself ([base]?_getpages=...), HAPI style.
    assert {r.url.path for r in connection.sent[1:]} == {"/fhir"}


async def test_fetch_launch_context_returns_exactly_the_encounters_records(
    sim, chart, connection, token
):
    encounter_ref = f"Encounter/{chart.encounter}"
    patient_ref = f"Patient/{chart.patient}"

    def of_encounter(resource_type: str) -> set[str]:
        return {
            r["id"]
            for r in stored(sim, resource_type)
            if reference(r, "encounter") == encounter_ref
        }

    active_problems = {
        r["id"]
        for r in stored(sim, "Condition")
        if reference(r, "subject") == patient_ref
        and r["category"][0]["coding"][0]["code"] == "problem-list-item"
        and r["clinicalStatus"]["coding"][0]["code"] == "active"
    }
    client = connection.client(sim, token)

    context = await fetch_launch_context(
        client, patient_id=chart.patient, encounter_id=chart.encounter
    )

    assert context.patient.id == chart.patient
    assert isinstance(context.encounter, Encounter)
    assert context.encounter.id == chart.encounter
    assert {r.id for r in context.service_requests} == of_encounter("ServiceRequest")
    assert {r.id for r in context.medication_requests} == of_encounter("MedicationRequest")
    assert {r.id for r in context.conditions} == of_encounter("Condition") | active_problems
    assert context.warnings == []
    assert len(connection.sent) == 6  # one batch: nothing was left to read afterwards


async def test_fetch_launch_context_overlaps_its_requests(sim, chart, connection, token):
    client = connection.client(sim, token)
    await connection.set_faults(sim, latency_ms=100)

    started = time.monotonic()
    await fetch_launch_context(client, patient_id=chart.patient, encounter_id=chart.encounter)
    elapsed = time.monotonic() - started

    # Six requests of at least 100 ms each: one after another would take 600 ms or more.
    assert len(connection.sent) == 6
    assert elapsed < 0.35, f"{elapsed:.3f}"


async def test_429_from_the_ehr_is_retried(sim, chart, connection, token):
    await connection.set_faults(sim, too_many_requests=1, retry_after_seconds=0)
    client = connection.client(sim, token)

    patient = await client.read("Patient", chart.patient)

    assert patient.id == chart.patient
    assert len(connection.sent) == 2


async def test_503_from_the_ehr_is_retried(sim, chart, connection, token):
    await connection.set_faults(sim, service_unavailable=2)
    client = connection.client(sim, token, max_retries=3)

    result = await client.search("ServiceRequest", {"patient": chart.patient})

    assert result.resources
    assert len(connection.sent) == 3


async def test_malformed_json_from_the_ehr_is_an_invalid_response(sim, chart, connection, token):
    await connection.set_faults(sim, malformed_json=1)
    client = connection.client(sim, token)

    with pytest.raises(FhirInvalidResponseError, match="malformed JSON"):
        await client.search("MedicationRequest", {"patient": chart.patient})

    assert len(connection.sent) == 1  # not retried: the answer came, it was just broken


async def test_an_unknown_token_is_unauthorized_with_the_ehrs_reason(sim, chart, connection):
    client = connection.client(sim, "not-a-token-the-ehr-issued")

    with pytest.raises(FhirUnauthorizedError) as caught:
        await client.read("Patient", chart.patient)

    assert caught.value.issues == ("The access token is not one this server issued.",)
    assert "not-a-token-the-ehr-issued" not in str(caught.value)
    assert len(connection.sent) == 1


async def test_another_patients_record_is_forbidden_to_a_patient_token(
    sim, chart, connection, token
):
    client = connection.client(sim, token)

    with pytest.raises(FhirForbiddenError):
        await client.read("Patient", chart.other_patient)

    assert len(connection.sent) == 1
