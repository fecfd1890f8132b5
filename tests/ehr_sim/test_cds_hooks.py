"""The simulated EHR as a CDS Hooks 2.0 client: order entry, the order-sign call (request
shape, signed JWT, prefetch, access token), the cards in the chart (escaped), what Accept,
Override and the card's SMART link do, and signing when the service is down."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from ehr_sim import orders
from ehr_sim.clients import ClientRegistration, ClientRegistry
from ehr_sim.config import SimSettings
from ehr_sim.data import showcase
from ehr_sim.server import SimServer
from tests.ehr_sim.cds_service import FakeCdsService

ENCOUNTER = showcase.ENCOUNTER_ID
PATIENT = showcase.PATIENT_ID


@pytest.fixture(scope="module")
def service() -> Iterator[FakeCdsService]:
    with FakeCdsService() as fake:
        yield fake


@pytest.fixture(scope="module")
def sim(service: FakeCdsService) -> Iterator[SimServer]:
    clients = ClientRegistry(
        [
            ClientRegistration(
                client_id="app",
                name="The App",
                redirect_uris=[f"{service.base_url}/launch/callback"],
                launch_url=f"{service.base_url}/launch",
            )
        ]
    )
    settings = SimSettings(patients=3, showcase_patient=True, cds_services=[service.service_url])
    with SimServer(settings, clients) as server:
        yield server


@pytest.fixture(autouse=True)
def fresh(sim: SimServer, service: FakeCdsService) -> None:
    """Each test starts with no drafts or cards, no recorded requests, the service configured."""
    for draft in orders.drafts(sim.state.store, ENCOUNTER):
        draft["status"] = "entered-in-error"
    service.cards = []
    service.requests.clear()
    sim.state.cards.clear()
    sim.state.cds_services = [service.service_url]


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10, follow_redirects=False) as client:
        yield client


def order(sim: SimServer, http: httpx.Client, orderable: str = "mri-lumbar-spine") -> str:
    """A new draft order on the showcase encounter; its reference."""
    before = {o["id"] for o in sim.state.store.all("ServiceRequest")}
    response = http.post(
        f"{sim.base_url}/chart/encounters/{ENCOUNTER}/orders", data={"orderable": orderable}
    )
    assert response.status_code == 303, response.text
    [new] = [o for o in sim.state.store.all("ServiceRequest") if o["id"] not in before]
    return f"ServiceRequest/{new['id']}"


def sign(sim: SimServer, http: httpx.Client) -> httpx.Response:
    return http.post(f"{sim.base_url}/chart/encounters/{ENCOUNTER}/sign")


def status(sim: SimServer, reference: str) -> str:
    resource = sim.state.store.get("ServiceRequest", reference.split("/")[1])
    assert resource is not None
    return str(resource["status"])


def a_card(reference: str, **overrides: Any) -> dict[str, Any]:
    card_id = str(uuid.uuid4())
    card: dict[str, Any] = {
        "uuid": card_id,
        "summary": "Likely low-value care: imaging for low back pain",
        "detail": "Judged on today's date.\n- Low-value when: first back pain in 42 days",
        "indicator": "warning",
        "source": {"label": "Test rules", "url": "https://example.org/rules"},
        "suggestions": [
            {
                "label": "Remove this order",
                "uuid": str(uuid.uuid5(uuid.UUID(card_id), "remove")),
                "actions": [
                    {"type": "delete", "description": "Remove it", "resourceId": [reference]}
                ],
            }
        ],
        "selectionBehavior": "at-most-one",
        "overrideReasons": [
            {"system": "urn:test", "code": "shared-decision", "display": "Shared decision"},
            {"system": "urn:test", "code": "other", "display": "Other"},
        ],
        "links": [
            {
                "label": "Open in The App",
                "url": "",  # set by the test: the app's launch URL
                "type": "smart",
                "appContext": f'{{"order": "{reference}"}}',
            }
        ],
    }
    card.update(overrides)
    return card


def test_a_new_order_is_a_draft_service_request_on_the_encounter(sim, http):
    reference = order(sim, http, "vitamin-d")

    draft = sim.state.store.get("ServiceRequest", reference.split("/")[1])
    assert draft is not None
    assert (draft["status"], draft["intent"]) == ("draft", "order")
    assert draft["subject"]["reference"] == f"Patient/{PATIENT}"
    assert draft["encounter"] == {"reference": f"Encounter/{ENCOUNTER}"}
    assert draft["code"]["coding"][0]["code"] == "82306"
    assert draft["authoredOn"]
    page = http.get(f"{sim.base_url}/chart/encounters/{ENCOUNTER}").text
    assert "VITAMIN D 25 HYDROXY" in page


def test_signing_sends_a_cds_hooks_2_order_sign_request(sim, http, service):
    reference = order(sim, http)

    sign(sim, http)

    [call] = service.hook_calls()
    body = call.body
    assert body["hook"] == "order-sign"
    uuid.UUID(body["hookInstance"])
    assert body["fhirServer"] == sim.fhir_base
    context = body["context"]
    assert context["userId"].startswith("Practitioner/")
    assert (context["patientId"], context["encounterId"]) == (PATIENT, ENCOUNTER)
    bundle = context["draftOrders"]
    assert bundle["resourceType"] == "Bundle"
    [entry] = bundle["entry"]
    assert f"ServiceRequest/{entry['resource']['id']}" == reference
    assert entry["resource"]["status"] == "draft"
    authorization = body["fhirAuthorization"]
    assert authorization["token_type"] == "Bearer"
    assert 0 < authorization["expires_in"] <= 300
    assert authorization["subject"]
    assert authorization["scope"].startswith("patient/")


def test_every_call_carries_a_jwt_that_verifies_against_the_published_jwks(sim, http, service):
    sim.state.cds_discovery.clear()  # so the discovery call is made again
    order(sim, http)
    sign(sim, http)
    jwks = KeySet.import_key_set(http.get(f"{sim.base_url}/cds/jwks").json())

    seen = []
    for request in service.requests:
        scheme, _, token = request.headers["authorization"].partition(" ")
        decoded = jwt.decode(token, jwks, algorithms=["ES384"])
        claims = decoded.claims
        assert scheme == "Bearer"
        assert (decoded.header["alg"], decoded.header["typ"]) == ("ES384", "JWT")
        assert decoded.header["kid"] == sim.state.cds_keys.kid
        assert claims["iss"] == sim.fhir_base
        assert claims["aud"] == f"{service.base_url}{request.path}"
        assert 0 < claims["exp"] - claims["iat"] <= 300
        seen.append(claims["jti"])
    assert [r.path for r in service.requests] == [
        "/cds-services",
        urlsplit(service.service_url).path,
    ]
    assert len(set(seen)) == len(seen)


def test_prefetch_fills_each_template_from_the_store(sim, http, service):
    order(sim, http)

    sign(sim, http)

    prefetch = service.hook_calls()[0].body["prefetch"]
    assert prefetch["patient"]["id"] == PATIENT
    assert prefetch["encounter"]["id"] == ENCOUNTER
    assert prefetch["user"]["resourceType"] == "Practitioner"
    conditions = prefetch["conditions"]
    assert [e["resource"]["code"]["coding"][0]["code"] for e in conditions["entry"]] == ["M54.50"]
    [self_link] = [link["url"] for link in conditions["link"] if link["relation"] == "self"]
    assert self_link.startswith(f"{sim.fhir_base}/Condition?patient={PATIENT}")
    assert prefetch["historyServiceRequests"]["resourceType"] == "Bundle"
    assert "unfillable" not in prefetch  # a token the EHR has no value for


def test_the_access_token_given_reads_this_patient_only(sim, http, service):
    order(sim, http)
    sign(sim, http)
    token = service.hook_calls()[0].body["fhirAuthorization"]["access_token"]
    other = next(p["id"] for p in sim.state.store.all("Patient") if p["id"] != PATIENT)
    headers = {"Authorization": f"Bearer {token}"}

    own = http.get(f"{sim.fhir_base}/Patient/{PATIENT}", headers=headers)
    theirs = http.get(f"{sim.fhir_base}/Patient/{other}", headers=headers)

    assert (own.status_code, theirs.status_code) == (200, 403)


def test_without_a_card_the_orders_are_signed_at_once(sim, http):
    reference = order(sim, http, "physical-therapy")

    page = sign(sim, http)

    assert status(sim, reference) == "active"
    assert "Signed: Ambulatory referral to Physical Therapy." in page.text


def test_a_service_that_is_down_is_named_and_the_orders_are_still_signed(sim, http):
    sim.state.cds_services = ["http://127.0.0.1:9/cds-services/valueloop-order-sign"]
    reference = order(sim, http)

    page = sign(sim, http)

    assert page.status_code == 200
    assert status(sim, reference) == "active"
    assert "Decision support unavailable: http://127.0.0.1:9/cds-services could not be" in page.text


def test_card_text_is_escaped_and_unsafe_links_are_not_links(sim, http, service):
    reference = order(sim, http)
    service.cards = [
        a_card(
            reference,
            summary='<script>alert("s")</script>',
            detail="<img src=x onerror=alert(1)>",
            source={"label": "<b>src</b>", "url": "javascript:alert(1)"},
        )
    ]

    page = sign(sim, http).text

    for raw in ("<script>alert", "<img src=x", "<b>src"):
        assert raw not in page
    assert "&lt;script&gt;alert(&quot;s&quot;)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "javascript:" not in page
    assert status(sim, reference) == "draft"  # held for the clinician's decision


def test_accepting_the_suggestion_removes_the_draft_and_sends_feedback(sim, http, service):
    reference = order(sim, http)
    card = a_card(reference)
    service.cards = [card]
    sign(sim, http)

    page = http.post(
        f"{sim.base_url}/chart/cards/{card['uuid']}/accept",
        data={"suggestion": card["suggestions"][0]["uuid"]},
    )

    assert status(sim, reference) == "revoked"
    assert "Removed: MRI L-SPINE WO CONTRAST." in page.text
    [feedback] = service.feedback()
    [item] = feedback.body["feedback"]
    assert (item["card"], item["outcome"]) == (card["uuid"], "accepted")
    assert item["acceptedSuggestions"] == [{"id": card["suggestions"][0]["uuid"]}]
    assert item["outcomeTimestamp"]
    assert feedback.path == f"{urlsplit(service.service_url).path}/feedback"


def test_overriding_sends_the_reason_and_comment_then_signs(sim, http, service):
    reference = order(sim, http)
    card = a_card(reference)
    service.cards = [card]
    sign(sim, http)

    http.post(
        f"{sim.base_url}/chart/cards/{card['uuid']}/override",
        data={"reason": "0", "comment": "discussed with the patient"},
    )

    assert status(sim, reference) == "active"
    [item] = service.feedback()[0].body["feedback"]
    assert item["outcome"] == "overridden"
    assert item["overrideReason"] == {
        "reason": card["overrideReasons"][0],
        "userComment": "discussed with the patient",
    }


def test_an_override_needs_one_of_the_cards_reasons(sim, http, service):
    reference = order(sim, http)
    card = a_card(reference)
    service.cards = [card]
    sign(sim, http)

    refused = http.post(f"{sim.base_url}/chart/cards/{card['uuid']}/override", data={})

    assert refused.status_code == 400
    assert (status(sim, reference), service.feedback()) == ("draft", [])


def test_the_cards_smart_link_launches_the_app_with_app_context_and_the_order(sim, http, service):
    reference = order(sim, http)
    card = a_card(reference)
    card["links"][0]["url"] = f"{service.base_url}/launch"
    service.cards = [card]
    sign(sim, http)

    opened = http.post(
        f"{sim.base_url}/chart/cards/{card['uuid']}/launch", data={"link": "0", "mode": "window"}
    )
    panel = http.post(f"{sim.base_url}/chart/cards/{card['uuid']}/launch", data={"link": "0"})

    assert opened.status_code == 303
    target = urlsplit(opened.headers["location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == f"{service.base_url}/launch"
    params = parse_qs(target.query)
    assert params["iss"] == [sim.fhir_base]
    launch = sim.state.grants._launches[params["launch"][0]]
    assert launch.app_context == card["links"][0]["appContext"]
    assert launch.fhir_context == ({"reference": reference},)
    assert (launch.patient, launch.encounter) == (PATIENT, ENCOUNTER)
    assert re.search(r'<iframe title="The App" src="http://127\.0\.0\.1:\d+/launch\?', panel.text)
    assert "Accept suggestion" in panel.text  # the card stays beside the app
