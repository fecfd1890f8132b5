"""Where a server-named URL may lead, and how a searchset page is sorted."""

from __future__ import annotations

import httpx
import pytest
from fhir.resources.R4B.operationoutcome import OperationOutcome

from fhir_client.errors import FhirInvalidResponseError, FhirUnsafeLinkError
from fhir_client.paging import FhirBase, read_page
from tests.fhir_client.factories import bundle, medication_request, outcome


@pytest.mark.parametrize(
    ("url", "inside"),
    [
        ("https://ehr.example/fhir/R4", True),
        ("https://ehr.example/fhir/R4/", True),
        ("https://ehr.example/fhir/R4?_getpages=x", True),
        ("https://EHR.EXAMPLE:443/fhir/R4/Patient/1", True),
        ("https://ehr.example/fhir/R4/../R4/Patient", True),  # normalised by httpx first
        ("https://ehr.example/fhir", False),
        ("https://ehr.example/fhir/R4-evil", False),
        ("https://ehr.example/fhir/R4/%2E%2E/x", False),
        ("https://ehr.example.attacker.example/fhir/R4", False),
        ("http://ehr.example/fhir/R4", False),
        ("https://ehr.example:8443/fhir/R4", False),
        ("https://me:pw@ehr.example/fhir/R4", False),
    ],
)
def test_the_base_contains_only_its_origin_and_path_prefix(url: str, inside: bool):
    base = FhirBase.parse("https://ehr.example/fhir/R4/")

    assert base.contains(httpx.URL(url)) is inside


def test_a_root_base_contains_every_path_on_its_origin():
    base = FhirBase.parse("http://127.0.0.1:8100")

    assert base.contains(httpx.URL("http://127.0.0.1:8100/Patient/1"))
    assert not base.contains(httpx.URL("http://127.0.0.1:8101/Patient/1"))
    assert str(base.resource_url("Patient", "1")) == "http://127.0.0.1:8100/Patient/1"


def test_resolve_names_only_the_foreign_origin_in_its_message():
    base = FhirBase.parse("https://ehr.example/fhir/R4")

    with pytest.raises(FhirUnsafeLinkError) as caught:
        base.resolve(
            "https://me:pw-SECRET@attacker.example/collect?token=abc",
            relative_to=base.url,
            what="next link",
        )

    assert "https://attacker.example" in str(caught.value)
    assert "token=abc" not in str(caught.value)
    assert "SECRET" not in str(caught.value)


def test_read_page_sorts_entries_by_search_mode():
    body = bundle(
        [medication_request("mr-1")],
        outcomes=[outcome("ignored: _sort", severity="warning")],
        next_url="https://ehr.example/fhir/R4?page=2",
        total=7,
    )
    # Servers that leave out search.mode: an OperationOutcome is still an outcome.
    body["entry"].append({"resource": outcome("note", severity="information")})
    body["entry"].append({"resource": {"resourceType": "Medication", "id": "m"}})
    body["entry"].append({"resource": medication_request("mr-2"), "search": {"mode": "weird"}})
    body["entry"].append("not an object")

    page = read_page(body, "MedicationRequest", page_number=4)

    assert [r.id for r in page.matches] == ["mr-1"]
    assert [r.id for r in page.included] == ["m"]
    assert all(isinstance(o, OperationOutcome) for o in page.outcomes)
    assert len(page.outcomes) == 2
    assert page.next_link == "https://ehr.example/fhir/R4?page=2"
    assert page.total == 7
    assert page.invalid == [
        "page 4, entry 5: unknown search mode 'weird'",
        "page 4, entry 6: not a JSON object",
    ]


def test_read_page_refuses_a_bundle_whose_envelope_is_invalid():
    with pytest.raises(FhirInvalidResponseError, match="link"):
        read_page(
            {"resourceType": "Bundle", "type": "searchset", "link": "next"},
            "MedicationRequest",
            page_number=1,
        )
