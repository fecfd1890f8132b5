"""The order view: the same summary from the EHR's JSON and from an R4B model."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.servicerequest import ServiceRequest
from pydantic import ValidationError

from app.clinician.orders import OrderView, summarize_order

SERVICE_REQUEST = {
    "resourceType": "ServiceRequest",
    "id": "sr-1",
    "status": "active",
    "intent": "order",
    "category": [{"coding": [{"code": "363679005", "display": "Imaging"}]}],
    "code": {
        "coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "72148"}],
        "text": "MRI",
    },
    "subject": {"reference": "Patient/p-1"},
    "encounter": {"reference": "Encounter/e-1"},
    "authoredOn": "2026-12-01T09:30:00+01:00",
    "requester": {"reference": "Practitioner/x", "display": "Dr. Example"},
    "note": [{"text": "ignored: not read"}],
}
MEDICATION_REQUEST = {
    "resourceType": "MedicationRequest",
    "id": "mr-1",
    "status": "stopped",
    "intent": "order",
    "medicationReference": {"reference": "Medication/m-1", "display": "Zolpidem 10 mg"},
    "subject": {"reference": "Patient/p-1"},
    "authoredOn": "2026-12-01",
}


@pytest.mark.parametrize(
    ("document", "model"),
    [(SERVICE_REQUEST, ServiceRequest), (MEDICATION_REQUEST, MedicationRequest)],
)
def test_the_json_and_the_r4b_model_summarise_alike(document, model):
    from_json = summarize_order(document["resourceType"], OrderView.model_validate(document))
    from_model = summarize_order(
        document["resourceType"], OrderView.of(model.model_validate(document))
    )

    assert from_json == from_model


def test_a_service_request_summary_names_code_requester_category_and_time():
    summary = summarize_order("ServiceRequest", OrderView.model_validate(SERVICE_REQUEST))

    assert (summary.display, summary.code_system, summary.code) == (
        "MRI",
        "http://www.ama-assn.org/go/cpt",
        "72148",
    )
    assert (summary.requester, summary.category) == ("Dr. Example", "Imaging")
    assert summary.authored_on == datetime(2026, 12, 1, 8, 30, tzinfo=UTC)


def test_a_medication_by_reference_is_named_by_the_references_display():
    summary = summarize_order("MedicationRequest", OrderView.model_validate(MEDICATION_REQUEST))

    assert (summary.display, summary.status) == ("Zolpidem 10 mg", "stopped")
    assert summary.authored_on == datetime(2026, 12, 1, tzinfo=UTC)  # a day: its start


@pytest.mark.parametrize("value", ["2026", "2026-12"])
def test_a_year_or_month_alone_is_an_unknown_time(value):
    order = OrderView.model_validate({**SERVICE_REQUEST, "authoredOn": value})

    assert order.authored_on is None


@pytest.mark.parametrize(
    "change",
    [{"authoredOn": "2026-12-01T09:30:00"}, {"status": None}, {"id": 7}, {"authoredOn": "soon"}],
)
def test_what_fhir_does_not_allow_is_refused(change):
    with pytest.raises(ValidationError):
        OrderView.model_validate({**SERVICE_REQUEST, **change})
