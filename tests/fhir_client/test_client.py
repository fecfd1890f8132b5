"""FhirClient over httpx.MockTransport: the exact HTTP a read or search sends and survives."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import fhir.resources.patient
import httpx
import pytest
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.patient import Patient
from pydantic import BaseModel, ConfigDict

from fhir_client import (
    FhirClient,
    FhirConnectionError,
    FhirError,
    FhirForbiddenError,
    FhirHttpError,
    FhirInvalidRequestError,
    FhirInvalidResponseError,
    FhirNotFoundError,
    FhirRateLimitedError,
    FhirResponseTooLargeError,
    FhirTimeoutError,
    FhirUnauthorizedError,
    FhirUnsafeLinkError,
)
from tests.fhir_client.conftest import MakeClient
from tests.fhir_client.factories import (
    BASE,
    FHIR_JSON,
    TOKEN,
    bundle,
    fhir_response,
    medication_request,
    outcome,
    patient,
)

# --- read ---


async def test_read_returns_the_r4b_class_with_bearer_and_fhir_json_headers(
    make_client: MakeClient,
):
    client, recorded = make_client(lambda request: fhir_response(patient("pat-1")))

    resource = await client.read("Patient", "pat-1")

    assert isinstance(resource, Patient)
    assert not isinstance(resource, fhir.resources.patient.Patient)  # not the R5 default
    (request,) = recorded.requests
    assert request.method == "GET"
    assert str(request.url) == f"{BASE}/Patient/pat-1"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Accept"] == FHIR_JSON


async def test_read_without_a_token_sends_no_authorization_header(make_client: MakeClient):
    client, recorded = make_client(lambda request: fhir_response(patient()), token=None)

    await client.read("Patient", "pat-1")

    assert "Authorization" not in recorded.requests[0].headers


@pytest.mark.parametrize(
    "resource_id", ["../Practitioner/x", "a/b", "", "..", "pat 1", "p?x=1", "%2e"]
)
async def test_read_refuses_an_id_that_would_leave_its_path_segment(
    make_client: MakeClient, resource_id: str
):
    client, recorded = make_client(lambda request: fhir_response(patient()))

    with pytest.raises(FhirInvalidRequestError):
        await client.read("Patient", resource_id)

    assert recorded.requests == []


@pytest.mark.parametrize("resource_type", ["Coding", "patient", "Nonsense", "Patient/x", ""])
async def test_read_refuses_what_is_not_a_resource_type(
    make_client: MakeClient, resource_type: str
):
    client, recorded = make_client(lambda request: fhir_response(patient()))

    with pytest.raises(FhirInvalidRequestError):
        await client.read(resource_type, "x")

    assert recorded.requests == []


async def test_read_answered_with_another_resource_type_is_an_invalid_response(
    make_client: MakeClient,
):
    client, _ = make_client(lambda request: fhir_response(bundle()))

    with pytest.raises(FhirInvalidResponseError, match="expected a Patient resource, got Bundle"):
        await client.read("Patient", "pat-1")


async def test_read_answered_with_another_patient_is_an_invalid_response(
    make_client: MakeClient,
):
    client, _ = make_client(lambda request: fhir_response(patient("pat-2")))

    with pytest.raises(FhirInvalidResponseError, match="different Patient"):
        await client.read("Patient", "pat-1")


async def test_invalid_resource_message_names_the_element_but_not_the_value(
    make_client: MakeClient,
):
    client, _ = make_client(
        lambda request: fhir_response(patient(birthDate="born-SECRET-1950", gender="robot"))
    )

    with pytest.raises(FhirInvalidResponseError) as caught:
        await client.read("Patient", "pat-1")

    message = str(caught.value)
    assert "Patient/pat-1 is not valid FHIR" in message
    assert "birthDate" in message
    assert "SECRET" not in message
    assert caught.value.__cause__ is None  # pydantic's own text quotes the values


class _PatientFacts(BaseModel):
    """A caller's own model of the few elements it reads."""

    model_config = ConfigDict(extra="ignore")
    id: str
    gender: str


async def test_read_as_validates_into_the_callers_own_model(make_client: MakeClient):
    client, recorded = make_client(lambda request: fhir_response(patient("pat-1", gender="female")))

    facts = await client.read_as(_PatientFacts, "Patient", "pat-1")

    assert facts == _PatientFacts(id="pat-1", gender="female")
    assert str(recorded.requests[0].url) == f"{BASE}/Patient/pat-1"
    assert recorded.requests[0].headers["Authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (bundle(), "expected a Patient resource, got Bundle"),
        (patient("pat-2", gender="female"), "different Patient"),
        ({"resourceType": "Patient", "id": "pat-1"}, "Patient/pat-1 is not valid FHIR: gender"),
        ([1, 2], "expected a FHIR resource"),
    ],
)
async def test_read_as_refuses_what_read_refuses(make_client: MakeClient, answer, message):
    client, _ = make_client(lambda request: fhir_response(answer))

    with pytest.raises(FhirInvalidResponseError, match=message) as caught:
        await client.read_as(_PatientFacts, "Patient", "pat-1")

    assert caught.value.__cause__ is None


async def test_read_as_refuses_an_id_that_would_leave_its_path_segment(make_client: MakeClient):
    client, recorded = make_client(lambda request: fhir_response(patient()))

    with pytest.raises(FhirInvalidRequestError):
        await client.read_as(_PatientFacts, "Patient", "../Practitioner/x")

    assert recorded.requests == []


async def test_malformed_json_is_an_invalid_response_and_not_retried(make_client: MakeClient):
    client, recorded = make_client(
        lambda request: httpx.Response(200, content=b'{"resourceType": "Patient", "id": ')
    )

    with pytest.raises(FhirInvalidResponseError, match="malformed JSON"):
        await client.read("Patient", "pat-1")

    assert len(recorded.requests) == 1


# --- errors from the server ---


async def test_operation_outcome_diagnostics_are_surfaced_on_the_error(make_client: MakeClient):
    client, _ = make_client(
        lambda request: fhir_response(outcome("Patient/pat-9 does not exist."), status=404)
    )

    with pytest.raises(FhirNotFoundError) as caught:
        await client.read("Patient", "pat-9")

    error = caught.value
    assert error.status == 404
    assert error.issues == ("Patient/pat-9 does not exist.",)
    assert isinstance(error.outcome, OperationOutcome)
    assert "HTTP 404 Not Found: Patient/pat-9 does not exist." in str(error)


async def test_an_error_body_that_is_not_an_outcome_leaves_issues_empty(make_client: MakeClient):
    client, _ = make_client(lambda request: httpx.Response(502, text="<html>Bad gateway</html>"))

    with pytest.raises(FhirHttpError) as caught:
        await client.read("Patient", "pat-1")

    assert (caught.value.status, caught.value.issues, caught.value.outcome) == (502, (), None)


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (400, FhirHttpError),
        (401, FhirUnauthorizedError),
        (403, FhirForbiddenError),
        (404, FhirNotFoundError),
        (410, FhirNotFoundError),
        (500, FhirHttpError),
    ],
)
async def test_answers_that_retrying_cannot_change_are_not_retried(
    make_client: MakeClient, status: int, error_class: type[FhirHttpError]
):
    client, recorded = make_client(lambda request: fhir_response(outcome("no"), status=status))

    with pytest.raises(error_class) as caught:
        await client.read("Patient", "pat-1")

    assert caught.value.status == status
    assert len(recorded.requests) == 1


# --- retries ---


def answers(*responses: httpx.Response | Exception):
    """A handler that gives these answers in turn (an exception is raised instead)."""
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        answer = queue.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return handler


async def test_502_503_504_are_retried_until_success(make_client: MakeClient):
    client, recorded = make_client(
        answers(
            fhir_response(outcome("bad gateway"), status=502),
            fhir_response(outcome("unavailable"), status=503),
            fhir_response(outcome("gateway timeout"), status=504),
            fhir_response(patient()),
        ),
        max_retries=3,
    )

    resource = await client.read("Patient", "pat-1")

    assert resource.id == "pat-1"
    assert len(recorded.requests) == 4


async def test_after_max_retries_the_last_error_is_raised_typed(make_client: MakeClient):
    client, recorded = make_client(
        lambda request: fhir_response(outcome("down for maintenance"), status=503),
        max_retries=2,
    )

    with pytest.raises(FhirHttpError) as caught:
        await client.read("Patient", "pat-1")

    assert caught.value.status == 503
    assert caught.value.issues == ("down for maintenance",)
    assert len(recorded.requests) == 3


async def test_429_waits_the_retry_after_seconds_then_retries(make_client: MakeClient):
    client, recorded = make_client(
        answers(
            fhir_response(outcome("slow down"), status=429, headers={"Retry-After": "1"}),
            fhir_response(patient()),
        ),
        backoff_base=0.0,
    )
    started = time.monotonic()

    await client.read("Patient", "pat-1")

    assert time.monotonic() - started >= 0.95
    assert len(recorded.requests) == 2


async def test_429_with_an_http_date_retry_after_is_retried(make_client: MakeClient):
    soon = format_datetime(datetime.now(UTC) + timedelta(seconds=1), usegmt=True)
    client, recorded = make_client(
        answers(
            fhir_response(outcome("slow down"), status=429, headers={"Retry-After": soon}),
            fhir_response(patient()),
        )
    )

    await client.read("Patient", "pat-1")

    assert len(recorded.requests) == 2


async def test_a_retry_after_longer_than_the_cap_is_not_waited_for(make_client: MakeClient):
    client, recorded = make_client(
        lambda request: fhir_response(
            outcome("come back in an hour"), status=429, headers={"Retry-After": "3600"}
        )
    )
    started = time.monotonic()

    with pytest.raises(FhirRateLimitedError) as caught:
        await client.read("Patient", "pat-1")

    assert time.monotonic() - started < 1
    assert caught.value.retry_after == 3600
    assert "Retry-After: 3600 s" in str(caught.value)
    assert len(recorded.requests) == 1


async def test_429_still_throttled_after_the_retries_is_a_rate_limited_error(
    make_client: MakeClient,
):
    client, recorded = make_client(
        lambda request: fhir_response(outcome("busy"), status=429, headers={"Retry-After": "0"}),
        max_retries=2,
    )

    with pytest.raises(FhirRateLimitedError):
        await client.read("Patient", "pat-1")

    assert len(recorded.requests) == 3


async def test_connection_errors_are_retried_then_raised_as_connection_errors(
    make_client: MakeClient,
):
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    client, recorded = make_client(refuse, max_retries=2)

    with pytest.raises(FhirConnectionError, match=r"could not reach https://ehr\.example"):
        await client.read("Patient", "pat-1")

    assert len(recorded.requests) == 3


async def test_a_connection_error_then_success_returns_the_resource(make_client: MakeClient):
    client, recorded = make_client(
        answers(httpx.ConnectError("reset"), httpx.ReadTimeout("slow"), fhir_response(patient()))
    )

    assert (await client.read("Patient", "pat-1")).id == "pat-1"
    assert len(recorded.requests) == 3


async def test_an_httpx_timeout_is_retried_then_raised_as_a_timeout(make_client: MakeClient):
    def time_out(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("read timed out", request=request)

    client, recorded = make_client(time_out, max_retries=1)

    with pytest.raises(FhirTimeoutError):
        await client.read("Patient", "pat-1")

    assert len(recorded.requests) == 2


async def test_a_server_slower_than_the_timeout_is_a_timeout_error(make_client: MakeClient):
    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(1)
        return fhir_response(patient())

    client, recorded = make_client(slow, timeout=0.05, max_retries=1)
    started = time.monotonic()

    with pytest.raises(FhirTimeoutError, match=r"took longer than 0\.05 s"):
        await client.read("Patient", "pat-1")

    assert time.monotonic() - started < 0.5
    assert len(recorded.requests) == 2


# --- the response size cap ---


class Body:
    """A streamed body that counts how much of it was pulled."""

    def __init__(self, chunks: int, size: int) -> None:
        self.chunks, self.size, self.pulled = chunks, size, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(self.chunks):
            self.pulled += 1
            yield b" " * self.size


async def test_a_body_past_the_cap_stops_being_read(make_client: MakeClient):
    body = Body(chunks=100, size=1000)
    client, _ = make_client(
        lambda request: httpx.Response(200, content=body), max_response_bytes=5000
    )

    with pytest.raises(FhirResponseTooLargeError, match="more than 5000 bytes"):
        await client.read("Patient", "pat-1")

    assert body.pulled <= 6


async def test_a_declared_length_past_the_cap_is_refused_before_reading(make_client: MakeClient):
    body = Body(chunks=10, size=1000)
    client, _ = make_client(
        lambda request: httpx.Response(200, content=body, headers={"Content-Length": "10000"}),
        max_response_bytes=5000,
    )

    with pytest.raises(FhirResponseTooLargeError):
        await client.read("Patient", "pat-1")

    assert body.pulled == 0


async def test_an_oversized_error_body_still_gives_the_status(make_client: MakeClient):
    client, _ = make_client(
        lambda request: httpx.Response(404, content=b"x" * 10_000), max_response_bytes=1000
    )

    with pytest.raises(FhirNotFoundError):
        await client.read("Patient", "pat-1")


# --- search and paging ---


async def test_search_sends_params_and_follows_next_links_across_pages(make_client: MakeClient):
    pages = {
        "1": bundle(
            [medication_request("mr-1"), medication_request("mr-2")],
            next_url=f"{BASE}?_getpages=abc&_getpagesoffset=2",
            total=5,
        ),
        "2": bundle(
            [medication_request("mr-3"), medication_request("mr-4")],
            next_url="?_getpages=abc&_getpagesoffset=4",  # relative: resolved on the page URL
        ),
        "3": bundle([medication_request("mr-5")]),
    }

    def handler(request: httpx.Request) -> httpx.Response:
        offset = request.url.params.get("_getpagesoffset")
        return fhir_response(pages[{None: "1", "2": "2", "4": "3"}[offset]])

    client, recorded = make_client(handler)

    result = await client.search(
        "MedicationRequest",
        {"patient": "pat-1", "status": ["active", "stopped"], "_count": "2"},
    )

    assert [r.id for r in result.resources] == ["mr-1", "mr-2", "mr-3", "mr-4", "mr-5"]
    assert all(isinstance(r, MedicationRequest) for r in result.resources)
    assert (result.truncated, result.total, result.outcomes, result.invalid) == (False, 5, [], [])
    first = recorded.requests[0].url
    assert first.path == "/fhir/R4/MedicationRequest"
    assert first.params.multi_items() == [
        ("patient", "pat-1"),
        ("status", "active"),
        ("status", "stopped"),
        ("_count", "2"),
    ]
    assert all(r.headers["Authorization"] == f"Bearer {TOKEN}" for r in recorded.requests)
    assert len(recorded.requests) == 3


async def test_next_links_rewritten_to_the_same_public_origin_are_followed(
    make_client: MakeClient,
):
    def handler(request: httpx.Request) -> httpx.Response:
        if "page" in request.url.params:
            return fhir_response(bundle([medication_request("mr-2")]))
        # Same origin spelled differently, deeper under the base path: still the base.
        return fhir_response(
            bundle(
                [medication_request("mr-1")],
                next_url="https://EHR.example:443/fhir/R4/MedicationRequest?page=2",
            )
        )

    client, recorded = make_client(handler)

    result = await client.search("MedicationRequest", {"patient": "pat-1"})

    assert [r.id for r in result.resources] == ["mr-1", "mr-2"]
    assert len(recorded.requests) == 2


@pytest.mark.parametrize(
    "link",
    [
        f"https://attacker.example/fhir/R4?_getpages=x&stolen={TOKEN}",
        "http://ehr.example/fhir/R4?page=2",  # downgraded to plain HTTP
        "https://ehr.example:8443/fhir/R4?page=2",  # another port
        "https://ehr.example/other/R4?page=2",  # outside the path prefix
        "https://ehr.example/fhir/R4-evil?page=2",  # a prefix of the string, not the path
        "https://ehr.example/fhir/R4/%2e%2e/%2e%2e/admin?page=2",  # escapes once decoded
        "https://user@ehr.example/fhir/R4?page=2",  # credentials in the URL
        "//attacker.example/fhir/R4?page=2",  # scheme-relative
    ],
)
async def test_a_next_link_off_the_fhir_base_is_refused_without_sending_anything(
    make_client: MakeClient, link: str
):
    client, recorded = make_client(
        lambda request: fhir_response(bundle([medication_request("mr-1")], next_url=link))
    )

    with pytest.raises(FhirUnsafeLinkError) as caught:
        await client.search("MedicationRequest", {"patient": "pat-1"})

    assert len(recorded.requests) == 1  # only the first page; the link was never requested
    assert TOKEN not in str(caught.value)
    assert "outside the FHIR base" in str(caught.value)


async def test_an_off_base_redirect_is_refused_even_when_the_shared_client_follows_redirects():
    attacker_hits: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "attacker.example":
            attacker_hits.append(request)
            return fhir_response(patient())
        return httpx.Response(302, headers={"Location": "https://attacker.example/Patient/pat-1"})

    async with httpx.AsyncClient(
        transport=httpx.MockTransport(handler), follow_redirects=True
    ) as http:
        client = FhirClient(http, BASE, TOKEN)
        with pytest.raises(FhirUnsafeLinkError):
            await client.read("Patient", "pat-1")

    assert attacker_hits == []


async def test_a_redirect_within_the_base_is_followed_with_the_token(make_client: MakeClient):
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/pat-old"):
            return httpx.Response(301, headers={"Location": "/fhir/R4/Patient/pat-1"})
        return fhir_response(patient())

    client, recorded = make_client(handler)

    with pytest.raises(FhirInvalidResponseError, match="different Patient"):
        # The merged record answers under its new id: followed, then refused as another id.
        await client.read("Patient", "pat-old")

    assert [r.url.path for r in recorded.requests] == [
        "/fhir/R4/Patient/pat-old",
        "/fhir/R4/Patient/pat-1",
    ]
    assert recorded.requests[1].headers["Authorization"] == f"Bearer {TOKEN}"


async def test_search_stops_at_max_pages_and_says_it_was_truncated(make_client: MakeClient):
    def handler(request: httpx.Request) -> httpx.Response:
        number = int(request.url.params.get("page", "1"))
        return fhir_response(
            bundle([medication_request(f"mr-{number}")], next_url=f"{BASE}?page={number + 1}")
        )

    client, recorded = make_client(handler, max_pages=3)

    result = await client.search("MedicationRequest", {"patient": "pat-1"})

    assert [r.id for r in result.resources] == ["mr-1", "mr-2", "mr-3"]
    assert result.truncated is True
    assert len(recorded.requests) == 3


async def test_a_next_link_back_to_a_page_already_read_ends_the_search(make_client: MakeClient):
    client, recorded = make_client(
        lambda request: fhir_response(
            bundle([medication_request("mr-1")], next_url=f"{BASE}/MedicationRequest?patient=pat-1")
        )
    )

    result = await client.search("MedicationRequest", {"patient": "pat-1"})

    assert [r.id for r in result.resources] == ["mr-1"]
    assert (result.truncated, len(recorded.requests)) == (False, 1)


async def test_a_resource_on_two_pages_is_returned_once(make_client: MakeClient):
    def handler(request: httpx.Request) -> httpx.Response:
        if "page" in request.url.params:
            return fhir_response(bundle([medication_request("mr-2"), medication_request("mr-3")]))
        return fhir_response(
            bundle(
                [medication_request("mr-1"), medication_request("mr-2")], next_url=f"{BASE}?page=2"
            )
        )

    client, _ = make_client(handler)

    result = await client.search("MedicationRequest", {"patient": "pat-1"})

    assert [r.id for r in result.resources] == ["mr-1", "mr-2", "mr-3"]


async def test_one_invalid_entry_is_reported_and_the_rest_are_kept(make_client: MakeClient):
    body = bundle(
        [
            medication_request("mr-1", status="stopped"),
            medication_request("mr-2", authoredOn="yesterday-SECRET"),
            medication_request("mr-3", status="completed"),
        ],
        outcomes=[outcome("Search parameters ignored: _sort.", severity="warning")],
    )
    body["entry"].append({"search": {"mode": "match"}})  # an entry without a resource
    body["entry"].append({"resource": patient(), "search": {"mode": "match"}})  # wrong type
    client, _ = make_client(lambda request: fhir_response(body))

    result = await client.search("MedicationRequest", {"patient": "pat-1"})

    assert [r.id for r in result.resources] == ["mr-1", "mr-3"]
    assert result.outcome_issues() == ["Search parameters ignored: _sort."]
    assert len(result.invalid) == 3
    assert result.invalid[0].startswith("page 1, entry 2: MedicationRequest/mr-2 is not valid FHIR")
    assert "authoredOn" in result.invalid[0]
    assert "SECRET" not in " ".join(result.invalid)
    assert "no resource" in result.invalid[1]
    assert "expected a MedicationRequest resource, got Patient/pat-1" in result.invalid[2]


async def test_included_resources_are_kept_apart_from_the_matches(make_client: MakeClient):
    body = bundle([medication_request("mr-1")])
    medication = {"resourceType": "Medication", "id": "med-1", "code": {"text": "amoxicillin"}}
    body["entry"].append({"resource": medication, "search": {"mode": "include"}})
    client, _ = make_client(lambda request: fhir_response(body))

    result = await client.search("MedicationRequest", {"patient": "pat-1"})

    assert [r.id for r in result.resources] == ["mr-1"]
    assert [r.id for r in result.included] == ["med-1"]


@pytest.mark.parametrize(
    "body",
    [
        patient(),
        {"resourceType": "Bundle", "type": "searchset", "entry": {"not": "a list"}},
        {"resourceType": "Bundle", "type": "searchset", "total": "many"},
        ["not", "an", "object"],
    ],
)
async def test_a_search_answered_with_no_valid_bundle_is_an_invalid_response(
    make_client: MakeClient, body: object
):
    client, _ = make_client(lambda request: httpx.Response(200, json=body))

    with pytest.raises(FhirInvalidResponseError, match="search of MedicationRequest"):
        await client.search("MedicationRequest", {"patient": "pat-1"})


# --- the token stays secret ---


async def test_the_token_never_appears_in_error_messages(make_client: MakeClient):
    client, _ = make_client(
        lambda request: fhir_response(
            outcome(f"The access token {TOKEN} is not one this server issued."), status=401
        )
    )

    with pytest.raises(FhirUnauthorizedError) as caught:
        await client.read("Patient", "pat-1")

    error = caught.value
    assert TOKEN not in str(error)
    assert TOKEN not in " ".join(error.issues)
    assert error.outcome is None
    assert "[redacted]" in str(error)


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectError(f"refused {TOKEN}"),
        httpx.ReadTimeout(f"slow {TOKEN}"),
    ],
)
async def test_transport_error_messages_do_not_carry_the_token(
    make_client: MakeClient, failure: Exception
):
    def handler(request: httpx.Request) -> httpx.Response:
        raise failure

    client, _ = make_client(handler, max_retries=0)

    with pytest.raises(FhirError) as caught:
        await client.search("Condition", {"patient": "pat-1"})

    assert TOKEN not in str(caught.value)


async def test_the_client_repr_does_not_show_the_token():
    async with httpx.AsyncClient() as http:
        client = FhirClient(http, f"{BASE}/", TOKEN)

    assert TOKEN not in repr(client)
    assert repr(client) == f"FhirClient(base_url='{BASE}')"


@pytest.mark.parametrize("base_url", ["ehr.example/fhir", "ftp://ehr.example/fhir", f"{BASE}?x=1"])
async def test_a_base_url_that_is_not_an_http_base_is_a_configuration_error(base_url: str):
    async with httpx.AsyncClient() as http:
        with pytest.raises(ValueError, match="FHIR base URL"):
            FhirClient(http, base_url, TOKEN)


# --- gather ---


async def test_gather_overlaps_requests_and_keeps_argument_order(make_client: MakeClient):
    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.1)
        return fhir_response(patient(request.url.path.rsplit("/", 1)[1]))

    client, _ = make_client(slow)
    started = time.monotonic()

    results = await client.gather(*(client.read("Patient", f"pat-{n}") for n in range(5)))

    assert time.monotonic() - started < 0.3  # five 100 ms requests, at once
    assert [r.id for r in results] == [f"pat-{n}" for n in range(5)]


async def test_gather_raises_the_first_failure_itself_and_cancels_the_rest(
    make_client: MakeClient,
):
    finished: list[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/missing"):
            return fhir_response(outcome("gone"), status=404)
        await asyncio.sleep(0.5)
        finished.append(request.url.path)
        return fhir_response(patient())

    client, _ = make_client(handler)

    with pytest.raises(FhirNotFoundError):
        await client.gather(client.read("Patient", "pat-1"), client.read("Patient", "missing"))

    await asyncio.sleep(0.6)
    assert finished == []


async def test_gather_results_keep_their_types(make_client: MakeClient):
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/Patient/pat-1"):
            return fhir_response(patient())
        return fhir_response(bundle([medication_request("mr-1")]))

    client, _ = make_client(handler)

    found, orders = await client.gather(
        client.read("Patient", "pat-1"), client.search("MedicationRequest", {"patient": "pat-1"})
    )

    assert isinstance(found, Patient)
    assert [r.id for r in orders.resources] == ["mr-1"]
