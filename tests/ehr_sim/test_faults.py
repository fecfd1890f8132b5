"""The simulated EHR's fault switches, over real HTTP: what a client of a bad day sees."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from ehr_sim.config import SimSettings
from ehr_sim.server import SimServer

FHIR_JSON = "application/fhir+json"


@pytest.fixture(scope="module")
def sim() -> Iterator[SimServer]:
    with SimServer(SimSettings(patients=3, seed=11)) as server:
        yield server


@pytest.fixture
def http(sim: SimServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sim.base_url, timeout=10) as client:
        yield client
        # Every test leaves the EHR healthy for the next one.
        client.put("/_sim/faults", json={}).raise_for_status()


def set_faults(http: httpx.Client, **faults: object) -> None:
    response = http.put("/_sim/faults", json=faults)
    assert response.status_code == 200, response.text


def patient_token(sim: SimServer) -> str:
    patient = next(sim.state.store.all("Patient"))["id"]
    grants = sim.state.grants
    grant = grants.issue_tokens(
        client_id="fault-tests",
        scopes=("patient/*.rs",),
        context=grants.create_launch(user="Practitioner/any", patient=patient),
        lifetime=timedelta(minutes=5),
        with_refresh=False,
    )
    return grant.access_token


def test_faults_start_off_and_put_replaces_them_all(http):
    assert http.get("/_sim/faults").json()["error_rate"] == 0.0

    set_faults(http, latency_ms=5, too_many_requests=2)
    set_faults(http, service_unavailable=1)

    faults = http.get("/_sim/faults").json()
    assert faults["service_unavailable"] == 1
    assert faults["latency_ms"] == 0
    assert faults["too_many_requests"] == 0


def test_put_faults_refuses_unknown_switches(http):
    response = http.put("/_sim/faults", json={"explode": True})

    assert response.status_code == 422


def test_latency_delays_fhir_requests_but_not_the_simulator_controls(http):
    set_faults(http, latency_ms=300)

    started = time.monotonic()
    assert http.get("/fhir/metadata").status_code == 200
    fhir_seconds = time.monotonic() - started
    started = time.monotonic()
    assert http.get("/_sim/faults").status_code == 200
    control_seconds = time.monotonic() - started

    assert fhir_seconds >= 0.3
    assert control_seconds < 0.3


def test_too_many_requests_answers_429_with_retry_after_then_recovers(sim, http):
    set_faults(http, too_many_requests=2, retry_after_seconds=7)

    first = http.get("/fhir/metadata")
    second = http.get("/fhir/Patient", headers={"Authorization": f"Bearer {patient_token(sim)}"})
    third = http.get("/fhir/metadata")

    for throttled in (first, second):
        assert throttled.status_code == 429
        assert throttled.headers["retry-after"] == "7"
        assert throttled.headers["content-type"] == FHIR_JSON
        assert throttled.json()["resourceType"] == "OperationOutcome"
        assert throttled.json()["issue"][0]["code"] == "throttled"
    assert third.status_code == 200
    assert sim.state.faults.too_many_requests == 0


def test_service_unavailable_answers_503_for_the_next_n_requests(sim, http):
    set_faults(http, service_unavailable=1)

    unavailable = http.get("/fhir/metadata")
    assert http.get("/_sim/faults").json()["service_unavailable"] == 0
    recovered = http.get("/fhir/metadata")

    assert unavailable.status_code == 503
    assert unavailable.json()["issue"][0]["code"] == "transient"
    assert recovered.status_code == 200


def test_token_endpoint_faults_answer_in_oauth_error_json(http):
    set_faults(http, service_unavailable=1)

    response = http.post("/auth/token", data={"grant_type": "authorization_code", "code": "x"})

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"] == "temporarily_unavailable"


def test_malformed_json_sends_half_the_real_body_as_a_200(sim, http):
    set_faults(http, malformed_json=1)
    headers = {"Authorization": f"Bearer {patient_token(sim)}"}

    broken = http.get("/fhir/Patient", headers=headers)
    intact = http.get("/fhir/Patient", headers=headers)

    assert broken.status_code == 200
    assert broken.headers["content-type"] == FHIR_JSON
    assert broken.content.startswith(b'{"resourceType":"Bundle"')
    with pytest.raises(json.JSONDecodeError):
        json.loads(broken.content)
    assert intact.json()["resourceType"] == "Bundle"
    assert len(broken.content) == len(intact.content) // 2


def test_error_rate_one_fails_every_faulted_request(http):
    set_faults(http, error_rate=1.0)

    statuses = {http.get("/fhir/metadata").status_code for _ in range(5)}
    outcome = http.get("/fhir/metadata").json()

    assert statuses == {500}
    assert outcome["issue"][0]["code"] == "exception"


def test_error_rate_is_reproducible_after_each_put(http):
    def run() -> list[int]:
        set_faults(http, error_rate=0.5)
        return [http.get("/fhir/metadata").status_code for _ in range(16)]

    first, second = run(), run()

    assert first == second
    assert set(first) == {200, 500}


def test_slow_body_sends_headers_at_once_and_the_body_over_time(http):
    set_faults(http, slow_body_ms=400)

    started = time.monotonic()
    with http.stream("GET", "/fhir/metadata") as response:
        headers_seconds = time.monotonic() - started
        chunks = list(response.iter_raw())
    body_seconds = time.monotonic() - started - headers_seconds

    assert response.status_code == 200
    assert headers_seconds < 0.3
    assert body_seconds >= 0.3
    assert json.loads(b"".join(chunks))["resourceType"] == "CapabilityStatement"


def test_faults_leave_the_rest_of_the_simulator_alone(http):
    set_faults(http, error_rate=1.0, too_many_requests=3)

    assert http.get("/_sim/faults").status_code == 200
    assert http.get("/auth/jwks").status_code == 200
    assert http.get("/_sim/faults").json()["too_many_requests"] == 3
