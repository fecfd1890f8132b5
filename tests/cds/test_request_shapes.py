"""Hook calls as real CDS clients send them, and calls that are not CDS Hooks at all.

The first test follows the shape of the CDS Hooks order-sign R4 example (a NutritionOrder
and a MedicationRequest in ``draftOrders``, identifiers, ``meta``, a narrative, and the STU3
``Dosage.doseQuantity`` the example still carries). Our values are synthetic.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import Any

import pytest

from lowvalue import SYSTEMS
from lowvalue import evaluator as evaluator_module
from tests.cds.jwt_factory import Signer
from tests.cds.test_endpoints import bearer
from tests.lowvalue.factories import (
    ON,
    condition,
    encounter,
    patient,
    service_request,
)

pytestmark = pytest.mark.usefixtures("clean_tables")

SERVICE = "valueloop-order-sign"
PATH = f"/cds-services/{SERVICE}"
SECRET = "Synthetic Jane Doe"


def nutrition_order() -> dict[str, Any]:
    return {
        "resourceType": "NutritionOrder",
        "id": "diet-1",
        "identifier": [{"system": "http://hospital.example/nutrition", "value": "77"}],
        "status": "draft",
        "intent": "order",
        "patient": {"reference": "Patient/p1"},
        "dateTime": ON.isoformat(),
        "oralDiet": {"type": [{"text": "Soft diet"}]},
    }


def antibiotic_as_ehrs_send_it() -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "id": "med-1",
        "meta": {"lastUpdated": f"{ON.isoformat()}T09:15:00-04:00"},
        "text": {
            "status": "generated",
            "div": '<div xmlns="http://www.w3.org/1999/xhtml">amoxicillin 500 mg</div>',
        },
        "status": "draft",
        "intent": "order",
        "authoredOn": ON.isoformat(),
        "medicationCodeableConcept": {
            "coding": [
                {"system": SYSTEMS["atc"], "code": "J01CA04", "display": "amoxicillin"},
                {"system": "http://hospital.example/formulary", "code": "AMOX500"},
            ],
            "text": "amoxicillin 500 mg capsule",
        },
        "subject": {"reference": "Patient/p1"},
        "dosageInstruction": [
            {
                "text": "1 capsule three times a day for 7 days",
                # STU3's element, not R4's (R4 has doseAndRate): the spec's own example sends it.
                "doseQuantity": {"value": 1, "unit": "capsule"},
            }
        ],
    }


def bundle(*resources: dict[str, Any], search: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": resource} for resource in resources],
    }
    if search is not None:
        found["link"] = [{"relation": "self", "url": search}]
    return found


def spec_shaped_call(*orders: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "hook": "order-sign",
        "hookInstance": str(uuid.uuid4()),
        "context": {
            "userId": "PractitionerRole/123",
            "patientId": "p1",
            "encounterId": "e1",
            "draftOrders": bundle(*orders),
        },
        "prefetch": {
            "patient": patient(age=40),
            "encounter": encounter(),
            "conditions": bundle(condition("J06.9"), search="Condition?patient=p1"),
            "historyMedicationRequests": bundle(search="MedicationRequest?patient=p1"),
        },
    }
    body.update(overrides)
    return body


async def test_a_call_shaped_like_the_specifications_example_is_answered(client, signer):
    body = spec_shaped_call(nutrition_order(), antibiotic_as_ehrs_send_it())

    response = await client.post(PATH, json=body, headers=bearer(signer, PATH))

    assert response.status_code == 200, response.text
    # The diet is no order any rule reads; the antibiotic for a cold is judged, STU3 element
    # and all, and gets its card.
    [card] = response.json()["cards"]
    assert card["source"]["topic"]["code"] == "antibiotics-viral-uri"
    assert card["suggestions"][0]["actions"][0]["resourceId"] == ["MedicationRequest/med-1"]


async def test_a_call_with_only_orders_no_rule_reads_gets_no_cards(client, signer):
    body = spec_shaped_call(nutrition_order())

    response = await client.post(PATH, json=body, headers=bearer(signer, PATH))

    assert response.status_code == 200, response.text
    assert response.json()["cards"] == []


def without(body: dict[str, Any], *path: str) -> dict[str, Any]:
    inner = body
    for key in path[:-1]:
        inner = inner[key]
    del inner[path[-1]]
    return body


MALFORMED = {
    "no hookInstance": (
        lambda: without(spec_shaped_call(service_request()), "hookInstance"),
        "hookInstance",
    ),
    "hookInstance not a uuid": (
        lambda: spec_shaped_call(service_request(), hookInstance="call-7"),
        "hookInstance",
    ),
    "no context": (lambda: without(spec_shaped_call(service_request()), "context"), "context"),
    "no patientId": (
        lambda: without(spec_shaped_call(service_request()), "context", "patientId"),
        "context.patientId",
    ),
    "draftOrders not an object": (
        lambda: spec_shaped_call(
            service_request(),
            context={"userId": "Practitioner/1", "patientId": "p1", "draftOrders": ["x"]},
        ),
        "context.draftOrders",
    ),
    "a hook this service does not answer": (
        lambda: spec_shaped_call(service_request(), hook="patient-view"),
        "hook",
    ),
    "no Patient in prefetch and no FHIR server": (
        lambda: without(spec_shaped_call(service_request()), "prefetch", "patient"),
        "prefetch.patient is missing",
    ),
    "a draft order that is not valid FHIR R4": (
        lambda: spec_shaped_call(without(service_request(), "intent")),
        "draft order 1 is not valid FHIR R4: intent",
    ),
    "the order-select hook at the order-sign service": (
        lambda: spec_shaped_call(service_request(), hook="order-select"),
        "answers the order-sign hook",
    ),
}


@pytest.mark.parametrize(("make", "named"), MALFORMED.values(), ids=MALFORMED.keys())
async def test_a_malformed_call_is_a_400_that_says_what_is_wrong(client, signer, make, named):
    response = await client.post(PATH, json=make(), headers=bearer(signer, PATH))

    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert named in response.json()["detail"]


async def test_a_malformed_call_without_a_jwt_learns_nothing_about_its_fields(client):
    body = without(spec_shaped_call(service_request()), "hookInstance")

    response = await client.post(PATH, json=body)

    assert response.status_code == 401
    assert "hookInstance" not in response.text


async def test_a_body_that_is_not_json_is_a_400(client, signer):
    response = await client.post(
        PATH,
        content=b'{"hook": "order-sign",',
        headers={**bearer(signer, PATH), "Content-Type": "application/json"},
    )

    assert response.status_code == 400
    assert "not valid JSON" in response.json()["detail"]


async def test_a_failing_rule_leaves_the_other_cards_and_logs_no_patient_data(
    client,
    signer: Signer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
):
    order_step = evaluator_module._order_step

    def failing(rule: Any, order: Any, on: Any) -> Any:
        if rule.id == "vitamin-d-testing":
            raise ValueError(f"cannot read {SECRET}")
        return order_step(rule, order, on)

    monkeypatch.setattr(evaluator_module, "_order_step", failing)
    back_pain = condition("M54.50", onset=ON - timedelta(days=10))
    body = spec_shaped_call(
        service_request("cpt", "72148", id="mri"), service_request("cpt", "82306", id="vitd")
    )
    body["prefetch"]["conditions"] = bundle(back_pain, search="Condition?patient=p1")

    with caplog.at_level(logging.INFO):
        response = await client.post(PATH, json=body, headers=bearer(signer, PATH))

    assert response.status_code == 200, response.text
    [card] = response.json()["cards"]
    assert card["source"]["topic"]["code"] == "low-back-pain-imaging"
    assert "vitamin-d-testing" in caplog.text
    assert SECRET not in caplog.text


async def test_a_jwt_spent_on_a_refused_call_cannot_be_used_again(client, signer):
    headers = bearer(signer, PATH)
    refused = await client.post(
        PATH, json=spec_shaped_call(service_request(), hook="x"), headers=headers
    )

    replayed = await client.post(PATH, json=spec_shaped_call(service_request()), headers=headers)

    assert refused.status_code == 400
    assert replayed.status_code == 401
    assert "used before" in replayed.json()["detail"]
