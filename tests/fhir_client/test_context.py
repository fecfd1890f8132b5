"""fetch_launch_context against an untidy EHR on httpx.MockTransport.

The simulated EHR (test_against_sim.py) is tidy: it honours ``encounter`` and never answers
for another patient. Real EHRs do not always; these tests play those EHRs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fhir.resources.R4B.medication import Medication

from fhir_client import (
    FhirInvalidResponseError,
    FhirNotFoundError,
    LaunchContextData,
    fetch_launch_context,
)
from tests.fhir_client.conftest import AnyHandler, MakeClient
from tests.fhir_client.factories import (
    Json,
    bundle,
    condition,
    encounter,
    fhir_response,
    medication_request,
    outcome,
    patient,
    service_request,
)


@dataclass
class FakeEhr:
    """Reads by id, and searches that match only on ``patient`` (and ``encounter`` unless
    the EHR ``ignores_encounter``, in which case it says so in an outcome entry)."""

    resources: list[Json]
    ignores_encounter: bool = False
    announce_ignored: bool = True
    failing_types: dict[str, int] = field(default_factory=dict)
    searches: list[httpx.URL] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        parts = request.url.path.removeprefix("/fhir/R4/").split("/")
        if parts[0] in self.failing_types:
            return fhir_response(outcome("not allowed"), status=self.failing_types[parts[0]])
        if len(parts) == 2:
            for resource in self.resources:
                if (resource["resourceType"], resource["id"]) == tuple(parts):
                    return fhir_response(resource)
            return fhir_response(outcome(f"{parts[0]}/{parts[1]} is unknown"), status=404)
        self.searches.append(request.url)
        return fhir_response(self.search(parts[0], request.url.params))

    def search(self, resource_type: str, params: httpx.QueryParams) -> Json:
        matches = []
        for resource in self.resources:
            if resource["resourceType"] != resource_type:
                continue
            if resource["subject"]["reference"] != f"Patient/{params['patient']}":
                continue
            wanted = params.get("encounter")
            named = resource.get("encounter", {}).get("reference")
            if wanted and not self.ignores_encounter and named != f"Encounter/{wanted}":
                continue
            category = params.get("category")
            if category and resource["category"][0]["coding"][0]["code"] != category:
                continue
            matches.append(resource)
        outcomes = []
        if params.get("encounter") and self.ignores_encounter and self.announce_ignored:
            outcomes.append(
                outcome("Search parameters ignored by this server: encounter.", severity="warning")
            )
        return bundle(matches, outcomes=outcomes)


async def launch(
    make_client: MakeClient,
    ehr: AnyHandler,
    *,
    encounter_id: str | None = "enc-1",
    fhir_user: str | None = None,
    **options: Any,
) -> LaunchContextData:
    client, _ = make_client(ehr, **options)
    return await fetch_launch_context(
        client, patient_id="pat-1", encounter_id=encounter_id, fhir_user=fhir_user
    )


def ids(resources: list[Any]) -> list[str]:
    return [resource.id for resource in resources]


async def test_the_encounters_orders_of_every_status_are_returned(make_client: MakeClient):
    ehr = FakeEhr(
        [
            patient(),
            encounter(),
            medication_request("mr-active"),
            medication_request("mr-stopped", status="stopped"),
            medication_request("mr-completed", status="completed"),
            medication_request("mr-other-visit", encounter_id="enc-0"),
            service_request("sr-1"),
            condition("dx-1"),
            condition("problem-1", encounter_id=None, category="problem-list-item"),
        ]
    )

    context = await launch(make_client, ehr)

    assert context.patient.id == "pat-1"
    assert context.encounter is not None
    assert context.encounter.id == "enc-1"
    assert ids(context.medication_requests) == ["mr-active", "mr-stopped", "mr-completed"]
    assert ids(context.service_requests) == ["sr-1"]
    assert ids(context.conditions) == ["dx-1", "problem-1"]
    assert context.warnings == []
    searched = {(url.path, url.params.get("encounter")) for url in ehr.searches}
    assert ("/fhir/R4/MedicationRequest", "enc-1") in searched
    assert ("/fhir/R4/ServiceRequest", "enc-1") in searched


async def test_an_ignored_encounter_parameter_falls_back_to_patient_and_dates(
    make_client: MakeClient,
):
    ehr = FakeEhr(
        [
            patient(),
            encounter(period={"start": "2025-03-10T09:00:00Z", "end": "2025-03-10T11:00:00Z"}),
            medication_request("mr-this-visit"),
            medication_request("mr-other-visit", encounter_id="enc-0"),
            medication_request("mr-unlinked-during", encounter_id=None),
            medication_request(
                "mr-unlinked-before", encounter_id=None, authoredOn="2024-11-02T10:00:00Z"
            ),
            service_request("sr-unlinked-same-day", encounter_id=None, authoredOn="2025-03-10"),
        ],
        ignores_encounter=True,
    )

    context = await launch(make_client, ehr)

    assert ids(context.medication_requests) == ["mr-this-visit", "mr-unlinked-during"]
    assert ids(context.service_requests) == ["sr-unlinked-same-day"]
    assert (
        "The EHR ignored the encounter parameter of the MedicationRequest search; "
        "MedicationRequest records were matched by patient and the encounter's dates instead."
    ) in context.warnings


async def test_orders_naming_other_encounters_trigger_the_fallback_without_an_outcome(
    make_client: MakeClient,
):
    ehr = FakeEhr(
        [
            patient(),
            encounter(),
            medication_request("mr-this-visit"),
            medication_request("mr-other-visit", encounter_id="enc-0"),
        ],
        ignores_encounter=True,
        announce_ignored=False,
    )

    context = await launch(make_client, ehr)

    assert ids(context.medication_requests) == ["mr-this-visit"]
    assert any("ignored the encounter parameter" in w for w in context.warnings)


async def test_an_encounter_without_a_start_keeps_only_orders_that_name_it(
    make_client: MakeClient,
):
    undated = encounter()
    del undated["period"]
    ehr = FakeEhr(
        [
            patient(),
            undated,
            medication_request("mr-this-visit"),
            medication_request("mr-unlinked", encounter_id=None),
        ],
        ignores_encounter=True,
    )

    context = await launch(make_client, ehr)

    assert ids(context.medication_requests) == ["mr-this-visit"]
    assert any("has no start date" in w for w in context.warnings)


async def test_records_of_another_patient_are_never_returned(make_client: MakeClient):
    ehr = FakeEhr([patient(), encounter(), medication_request("mr-1")])
    leaked = medication_request("mr-leak", patient_id="pat-2")

    def careless(request: httpx.Request) -> httpx.Response:
        response = ehr(request)
        if request.url.path.endswith("/MedicationRequest"):
            body = response.json()
            body["entry"].append({"resource": leaked, "search": {"mode": "match"}})
            return fhir_response(body)
        return response

    client, _ = make_client(careless)
    context = await fetch_launch_context(client, patient_id="pat-1", encounter_id="enc-1")

    assert ids(context.medication_requests) == ["mr-1"]
    assert (
        "The EHR returned 1 MedicationRequest record(s) of another patient; they are not shown."
    ) in context.warnings


async def test_medication_references_are_kept_and_their_medications_read(
    make_client: MakeClient,
):
    by_reference = medication_request(
        "mr-ref", medicationReference={"reference": "Medication/med-1", "display": "Amoxicillin"}
    )
    del by_reference["medicationCodeableConcept"]
    medication = {"resourceType": "Medication", "id": "med-1", "code": {"text": "amoxicillin"}}
    ehr = FakeEhr([patient(), encounter(), by_reference, medication])

    context = await launch(make_client, ehr)

    assert ids(context.medication_requests) == ["mr-ref"]
    assert [type(m) for m in context.medications] == [Medication]
    assert ids(context.medications) == ["med-1"]
    assert context.warnings == []


async def test_an_unreadable_medication_is_a_warning(make_client: MakeClient):
    by_reference = medication_request("mr-ref", medicationReference={"reference": "Medication/x"})
    del by_reference["medicationCodeableConcept"]
    ehr = FakeEhr([patient(), encounter(), by_reference], failing_types={"Medication": 403})

    context = await launch(make_client, ehr)

    assert ids(context.medication_requests) == ["mr-ref"]
    assert context.medications == []
    assert any(w.startswith("1 medications could not be read") for w in context.warnings)


async def test_diagnoses_the_condition_search_missed_are_read(make_client: MakeClient):
    unlinked_diagnosis = condition("dx-unlinked", encounter_id=None)
    visit = encounter(diagnosis=[{"condition": {"reference": "Condition/dx-unlinked"}}])
    ehr = FakeEhr([patient(), visit, unlinked_diagnosis])

    context = await launch(make_client, ehr)

    assert ids(context.conditions) == ["dx-unlinked"]


async def test_conditions_that_cannot_be_read_are_a_warning_not_a_failed_launch(
    make_client: MakeClient,
):
    ehr = FakeEhr(
        [patient(), encounter(), medication_request("mr-1")], failing_types={"Condition": 403}
    )

    context = await launch(make_client, ehr)

    assert ids(context.medication_requests) == ["mr-1"]
    assert context.conditions == []
    assert any(w.startswith("The problem list could not be read") for w in context.warnings)
    assert any(
        w.startswith("The encounter's diagnoses could not be read") for w in context.warnings
    )


async def test_a_missing_patient_fails_the_launch(make_client: MakeClient):
    ehr = FakeEhr([encounter()])

    with pytest.raises(FhirNotFoundError):
        await launch(make_client, ehr)


async def test_an_encounter_of_another_patient_fails_the_launch(make_client: MakeClient):
    ehr = FakeEhr([patient(), encounter(patient_id="pat-2")])

    with pytest.raises(FhirInvalidResponseError, match="different patient"):
        await launch(make_client, ehr)


async def test_without_an_encounter_every_order_of_the_patient_is_returned(
    make_client: MakeClient,
):
    ehr = FakeEhr(
        [
            patient(),
            medication_request("mr-1"),
            medication_request("mr-2", encounter_id="enc-0"),
            condition("problem-1", encounter_id=None, category="problem-list-item"),
        ]
    )

    context = await launch(make_client, ehr, encounter_id=None)

    assert context.encounter is None
    assert ids(context.medication_requests) == ["mr-1", "mr-2"]
    assert ids(context.conditions) == ["problem-1"]
    assert all("encounter" not in url.params for url in ehr.searches)
