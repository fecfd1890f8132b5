"""Reading a case from a CDS Hooks request, as ``valueloop rules explain`` does."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from lowvalue import CaseError, HistoryRequest, Outcome, case_from_cds_request, evaluate
from tests.lowvalue.factories import condition, encounter, patient, procedure, service_request


def bundle(*resources: dict[str, Any], self_url: str | None = None) -> dict[str, Any]:
    body = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": r} for r in resources],
    }
    if self_url:
        body["link"] = [{"relation": "self", "url": self_url}]
    return body


def request(**prefetch: Any) -> dict[str, Any]:
    return {
        "hook": "order-sign",
        "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "context": {
            "userId": "Practitioner/1",
            "patientId": "p1",
            "draftOrders": bundle(service_request("cpt", "77080")),
        },
        "prefetch": {"patient": patient(sex="female"), "encounter": encounter(), **prefetch},
    }


def test_a_history_bundle_with_a_self_link_counts_as_a_complete_search():
    url = "https://ehr.example/fhir/Procedure?patient=p1&date=ge2020-01-01"
    case = case_from_cds_request(
        request(
            historyProcedures=bundle(self_url=url),
            historyOrders=bundle(self_url="ServiceRequest?patient=Patient/p1"),
        )
    )

    assert case.searched == (
        HistoryRequest("Procedure", "p1", "date", since=date(2020, 1, 1)),
        HistoryRequest("ServiceRequest", "p1"),
    )
    (dxa,) = [d for d in evaluate(case) if d.rule_id == "dxa-repeat-within-two-years"]
    assert dxa.outcome is Outcome.NOT_LOW_VALUE


def test_a_history_bundle_filtered_by_code_proves_nothing_by_absence():
    url = "Procedure?patient=p1&code=http://www.ama-assn.org/go/cpt|77080"
    case = case_from_cds_request(request(historyProcedures=bundle(self_url=url)))

    assert case.searched == ()


def test_conditions_and_history_resources_are_read_from_prefetch():
    case = case_from_cds_request(
        request(
            conditions=bundle(
                condition("Z79.52"), {"resourceType": "OperationOutcome", "issue": []}
            ),
            historyProcedures=bundle(procedure("cpt", "77080", on=date(2026, 1, 1))),
        )
    )

    assert len(case.conditions) == 1
    assert len(case.history) == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "a JSON object"),
        ({"context": {}}, "draftOrders is missing"),
        ({"context": {"draftOrders": bundle()}, "prefetch": {}}, "prefetch.patient is missing"),
    ],
)
def test_a_request_of_the_wrong_shape_is_refused(body, message):
    with pytest.raises(CaseError, match=message):
        case_from_cds_request(body)


def test_a_resource_that_is_not_r4_is_refused_naming_the_element():
    body = request()
    body["context"]["draftOrders"] = bundle({"resourceType": "ServiceRequest", "status": "draft"})

    with pytest.raises(CaseError, match=r"draft order 1 is not valid FHIR R4: (intent|subject)"):
        case_from_cds_request(body)
