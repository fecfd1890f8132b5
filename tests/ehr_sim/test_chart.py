"""The simulated EHR's chart page: what the demo shows, and a real EHR launch from a button."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from ehr_sim.clients import ClientRegistration, ClientRegistry
from ehr_sim.config import SimSettings
from ehr_sim.server import SimServer

LAUNCH_URL = "http://127.0.0.1:9/launch"


@pytest.fixture(scope="module")
def sim() -> Iterator[SimServer]:
    clients = ClientRegistry(
        [
            ClientRegistration(
                client_id="valueloop",
                name="ValueLoop",
                redirect_uris=["http://127.0.0.1:9/launch/callback"],
                launch_url=LAUNCH_URL,
            )
        ]
    )
    with SimServer(SimSettings(patients=8), clients) as server:
        yield server


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10, follow_redirects=False) as client:
        yield client


def a_patient_with_an_encounter(sim: SimServer) -> tuple[str, str]:
    encounter = next(sim.state.store.all("Encounter"))
    return encounter["subject"]["reference"].split("/")[1], encounter["id"]


def test_patient_list_shows_every_patient_with_a_link_to_the_chart(sim, http):
    page = http.get(f"{sim.base_url}/")

    assert page.status_code == 200
    assert "synthetic patients only" in page.text
    for patient in sim.state.store.all("Patient"):
        assert f'href="/chart/patients/{patient["id"]}"' in page.text


def test_chart_offers_side_panel_and_full_window_launches_per_encounter(sim, http):
    patient, encounter = a_patient_with_an_encounter(sim)

    page = http.get(f"{sim.base_url}/chart/patients/{patient}")

    assert page.status_code == 200
    assert f'value="{encounter}"' in page.text
    assert "Launch ValueLoop (side panel)" in page.text
    assert "Launch ValueLoop (full window)" in page.text


def test_side_panel_launch_frames_the_app_360px_wide_with_iss_and_launch(sim, http):
    patient, encounter = a_patient_with_an_encounter(sim)

    page = http.post(
        f"{sim.base_url}/chart/launch",
        data={
            "client_id": "valueloop",
            "patient": patient,
            "encounter": encounter,
            "mode": "panel",
        },
    )

    assert page.status_code == 200
    assert 'width="360"' in page.text
    src = page.text.split('<iframe title="ValueLoop" src="')[1].split('"')[0].replace("&amp;", "&")
    assert src.startswith(LAUNCH_URL + "?")
    params = parse_qs(urlsplit(src).query)
    assert params["iss"] == [sim.fhir_base]
    launch = sim.state.grants.launch(params["launch"][0], max_age=timedelta(minutes=5))
    assert launch is not None
    assert (launch.patient, launch.encounter) == (patient, encounter)
    assert launch.need_patient_banner is False  # the chart around the panel shows the patient


def test_full_window_launch_redirects_to_the_app_and_asks_for_a_patient_banner(sim, http):
    patient, encounter = a_patient_with_an_encounter(sim)

    response = http.post(
        f"{sim.base_url}/chart/launch",
        data={
            "client_id": "valueloop",
            "patient": patient,
            "encounter": encounter,
            "mode": "window",
        },
    )

    assert response.status_code == 303
    params = parse_qs(urlsplit(response.headers["location"]).query)
    assert params["iss"] == [sim.fhir_base]
    assert params["launch"]


def test_launch_for_an_unknown_app_is_refused(sim, http):
    patient, encounter = a_patient_with_an_encounter(sim)

    page = http.post(
        f"{sim.base_url}/chart/launch",
        data={"client_id": "nope", "patient": patient, "encounter": encounter},
    )

    assert page.status_code == 400
    assert "Unknown app or patient" in page.text


def test_the_simulators_own_api_description_builds(sim, http):
    response = http.get(f"{sim.base_url}/_sim/openapi.json")

    assert response.status_code == 200
    assert "/auth/authorize" in response.json()["paths"]
