"""The simulated EHR's FHIR R4 API over real HTTP: capabilities, read, search, paging, scopes.

Expectations come from the simulator's own store (the source of truth), never from counts
guessed at; every resource the server sends is validated with ``fhir.resources`` (R4B).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fhir.resources.R4B import get_fhir_model_class

from ehr_sim.config import SimSettings
from ehr_sim.server import SimServer

FHIR_JSON = "application/fhir+json"
PAGE_SIZE = 10
Resource = dict[str, Any]


@pytest.fixture(scope="module")
def sim() -> Iterator[SimServer]:
    with SimServer(SimSettings(patients=12, seed=5, page_size=PAGE_SIZE)) as server:
        yield server


@pytest.fixture(scope="module")
def fhir(sim: SimServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sim.fhir_base, timeout=10) as client:
        yield client


def validate(resource: Resource) -> None:
    """Raises unless ``resource`` (and, for a Bundle, every entry) is valid FHIR."""
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)


def issue(
    sim: SimServer, *scopes: str, patient: str | None = None, encounter: str | None = None
) -> dict[str, str]:
    grants = sim.state.grants
    grant = grants.issue_tokens(
        client_id="fhir-api-tests",
        scopes=scopes,
        context=grants.create_launch(
            user="Practitioner/prac-00001", patient=patient, encounter=encounter
        ),
        lifetime=timedelta(minutes=5),
        with_refresh=False,
    )
    return {"Authorization": f"Bearer {grant.access_token}"}


def stored(sim: SimServer, resource_type: str, **where: str) -> list[Resource]:
    """Stored resources, in search order, whose top-level references or values match."""

    def value(resource: Resource, key: str) -> Any:
        element = resource.get(key)
        return element.get("reference") if isinstance(element, dict) else element

    return [
        resource
        for resource in sim.state.store.all(resource_type)
        if all(value(resource, key) == wanted for key, wanted in where.items())
    ]


def ids(resources: list[Resource]) -> list[str]:
    return [resource["id"] for resource in resources]


def matches(bundle: Resource) -> list[str]:
    validate(bundle)
    return [e["resource"]["id"] for e in bundle.get("entry", []) if e["search"]["mode"] == "match"]


def outcomes(bundle: Resource) -> list[Resource]:
    return [e["resource"] for e in bundle.get("entry", []) if e["search"]["mode"] == "outcome"]


def link(bundle: Resource, relation: str) -> str | None:
    return next((x["url"] for x in bundle["link"] if x["relation"] == relation), None)


def search_all(fhir: httpx.Client, path: str, headers: dict[str, str], **params: str) -> Resource:
    response = fhir.get(path, params={**params, "_count": "1000"}, headers=headers)
    assert response.status_code == 200, response.text
    bundle: Resource = response.json()
    assert link(bundle, "next") is None
    return bundle


def assert_outcome(response: httpx.Response, status: int, code: str) -> Resource:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == FHIR_JSON
    outcome: Resource = response.json()
    validate(outcome)
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["code"] == code
    assert outcome["issue"][0]["diagnostics"]
    return outcome


@dataclass(frozen=True)
class Chart:
    """A patient with an encounter that has orders, and a different patient."""

    patient: str
    encounter: str
    other_patient: str


@pytest.fixture(scope="module")
def chart(sim: SimServer) -> Chart:
    """The encounter with the most orders among those with orders, prescriptions and vitals."""
    counts: dict[str, dict[str, int]] = {}
    for resource_type in ("ServiceRequest", "MedicationRequest", "Observation"):
        for resource in stored(sim, resource_type):
            if "encounter" in resource:
                per_type = counts.setdefault(resource["encounter"]["reference"], {})
                per_type[resource_type] = per_type.get(resource_type, 0) + 1
    candidates = [ref for ref, per_type in counts.items() if len(per_type) == 3]
    assert candidates, "the synthetic data has no encounter with all three kinds of record"
    encounter_ref = max(candidates, key=lambda ref: counts[ref]["ServiceRequest"])
    encounter = sim.state.store.get("Encounter", encounter_ref.split("/")[1])
    assert encounter is not None
    patient = encounter["subject"]["reference"].split("/")[1]
    with_orders = {order["subject"]["reference"] for order in stored(sim, "ServiceRequest")}
    other = next(ref.split("/")[1] for ref in sorted(with_orders) if ref != f"Patient/{patient}")
    return Chart(patient=patient, encounter=encounter["id"], other_patient=other)


@pytest.fixture
def user(sim: SimServer) -> dict[str, str]:
    """A user-level token for every patient; fresh per test, as one test expires all tokens."""
    return issue(sim, "user/*.rs")


# --- capabilities --------------------------------------------------------------------------------


def test_metadata_is_a_smart_capability_statement_anyone_can_read(sim, fhir):
    response = fhir.get("/metadata")

    assert response.status_code == 200
    assert response.headers["content-type"] == FHIR_JSON
    statement = response.json()
    validate(statement)
    assert statement["fhirVersion"] == "4.0.1"
    assert "json" in statement["format"]
    rest = statement["rest"][0]
    assert rest["mode"] == "server"
    service = rest["security"]["service"][0]["coding"][0]
    assert service == {
        "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
        "code": "SMART-on-FHIR",
    }
    (oauth,) = rest["security"]["extension"]
    assert oauth["url"] == "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"
    uris = {ext["url"]: ext["valueUri"] for ext in oauth["extension"]}
    assert uris == {
        "authorize": f"{sim.base_url}/auth/authorize",
        "token": f"{sim.base_url}/auth/token",
    }
    resources = {resource["type"]: resource for resource in rest["resource"]}
    assert {
        "Patient",
        "Encounter",
        "ServiceRequest",
        "MedicationRequest",
        "Condition",
        "Observation",
        "Procedure",
        "Practitioner",
        "PractitionerRole",
        "Organization",
        "Location",
        "Coverage",
    } <= set(resources)
    for resource in resources.values():
        assert [i["code"] for i in resource["interaction"]] == ["read", "search-type"]
    orders = {p["name"]: p["type"] for p in resources["ServiceRequest"]["searchParam"]}
    assert orders["patient"] == "reference"
    assert orders["status"] == "token"
    assert orders["authored"] == "date"
    assert orders["_lastUpdated"] == "date"


# --- read ----------------------------------------------------------------------------------------


def test_read_returns_the_stored_resource_with_last_updated(sim, fhir, user, chart):
    encounter = sim.state.store.get("Encounter", chart.encounter)

    response = fhir.get(f"/Encounter/{chart.encounter}", headers=user)

    assert response.status_code == 200
    assert response.headers["content-type"] == FHIR_JSON
    body = response.json()
    validate(body)
    assert body["meta"]["lastUpdated"]
    assert response.headers["last-modified"].endswith("GMT")
    assert {key: value for key, value in body.items() if key != "meta"} == encounter


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/ServiceRequest/sr-does-not-exist", "not-found"),
        ("/Basic/1", "not-supported"),
        ("/Patient/pat-00001/_history", "not-supported"),
    ],
)
def test_unknown_resources_and_types_are_404_operation_outcomes(fhir, user, path, code):
    assert_outcome(fhir.get(path, headers=user), 404, code)


# --- search parameters ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["patient", "subject"])
def test_search_by_patient_accepts_a_reference_or_a_bare_id(sim, fhir, user, chart, name):
    expected = ids(stored(sim, "ServiceRequest", subject=f"Patient/{chart.patient}"))

    by_reference = fhir.get(
        "/ServiceRequest", params={name: f"Patient/{chart.patient}"}, headers=user
    )
    by_id = fhir.get("/ServiceRequest", params={name: chart.patient}, headers=user)

    assert expected
    assert matches(by_reference.json()) == expected
    assert matches(by_id.json()) == expected
    assert by_reference.json()["total"] == len(expected)


@pytest.mark.parametrize("resource_type", ["ServiceRequest", "MedicationRequest", "Observation"])
def test_search_by_encounter(sim, fhir, user, chart, resource_type):
    expected = ids(stored(sim, resource_type, encounter=f"Encounter/{chart.encounter}"))

    by_reference = search_all(
        fhir, f"/{resource_type}", user, encounter=f"Encounter/{chart.encounter}"
    )
    by_id = search_all(fhir, f"/{resource_type}", user, encounter=chart.encounter)

    assert expected
    assert matches(by_reference) == expected
    assert matches(by_id) == expected


def test_search_status_with_commas_means_any_of_them(sim, fhir, user):
    statuses = sorted({order["status"] for order in stored(sim, "MedicationRequest")})
    assert len(statuses) >= 2
    wanted = statuses[:2]
    expected = [
        order["id"] for order in stored(sim, "MedicationRequest") if order["status"] in wanted
    ]

    bundle = search_all(fhir, "/MedicationRequest", user, status=",".join(wanted))

    assert matches(bundle) == expected


def test_search_intent(sim, fhir, user):
    intents = {order["intent"] for order in stored(sim, "ServiceRequest")}
    for intent in [*intents, "filler-order"]:
        expected = ids(stored(sim, "ServiceRequest", intent=intent))

        assert matches(search_all(fhir, "/ServiceRequest", user, intent=intent)) == expected


def test_search_category_by_code_or_system_and_code(sim, fhir, user):
    coding = next(
        order["category"][0]["coding"][0]
        for order in stored(sim, "ServiceRequest")
        if order.get("category") and order["category"][0].get("coding")
    )
    expected = [
        order["id"]
        for order in stored(sim, "ServiceRequest")
        if any(
            c["code"] == coding["code"]
            for category in order.get("category", [])
            for c in category.get("coding", [])
        )
    ]

    by_code = search_all(fhir, "/ServiceRequest", user, category=coding["code"])
    by_system = search_all(
        fhir, "/ServiceRequest", user, category=f"{coding['system']}|{coding['code']}"
    )
    wrong_system = search_all(
        fhir, "/ServiceRequest", user, category=f"http://loinc.org|{coding['code']}"
    )

    assert matches(by_code) == expected
    assert matches(by_system) == expected
    assert matches(wrong_system) == []


def test_search_code_token(sim, fhir, user):
    conditions = stored(sim, "Condition")
    coding = next(c["code"]["coding"][0] for c in conditions if c["code"].get("coding"))
    expected = [
        condition["id"]
        for condition in conditions
        if any(
            (c.get("system"), c["code"]) == (coding["system"], coding["code"])
            for c in condition["code"].get("coding", [])
        )
    ]

    bundle = search_all(fhir, "/Condition", user, code=f"{coding['system']}|{coding['code']}")

    assert expected
    assert matches(bundle) == expected


def test_search_medication_code_reads_medication_codeable_concept(sim, fhir, user):
    coded = next(
        order
        for order in stored(sim, "MedicationRequest")
        if order.get("medicationCodeableConcept", {}).get("coding")
    )
    code = coded["medicationCodeableConcept"]["coding"][0]["code"]
    expected = [
        order["id"]
        for order in stored(sim, "MedicationRequest")
        if any(
            c["code"] == code for c in order.get("medicationCodeableConcept", {}).get("coding", [])
        )
    ]

    assert matches(search_all(fhir, "/MedicationRequest", user, code=code)) == expected


@pytest.mark.parametrize(
    ("resource_type", "param", "element"),
    [
        ("ServiceRequest", "authored", "authoredOn"),
        ("MedicationRequest", "authoredon", "authoredOn"),
        ("Observation", "date", "effectiveDateTime"),
    ],
)
@pytest.mark.parametrize("prefix", ["", "eq", "ge", "gt", "le", "lt"])
def test_search_dates_with_prefixes(sim, fhir, user, resource_type, param, element, prefix):
    resources = [r for r in stored(sim, resource_type) if element in r]
    # All stored instants are UTC ("...Z"), so day precision compares as text.
    days = sorted({r[element][:10] for r in resources})
    day = days[len(days) // 2]
    compare = {
        "": str.__eq__,
        "eq": str.__eq__,
        "ge": str.__ge__,
        "gt": str.__gt__,
        "le": str.__le__,
        "lt": str.__lt__,
    }[prefix]
    expected = [r["id"] for r in resources if compare(r[element][:10], day)]

    bundle = search_all(fhir, f"/{resource_type}", user, **{param: f"{prefix}{day}"})

    assert expected
    assert matches(bundle) == expected


def test_search_repeated_date_parameters_are_a_range(sim, fhir, user):
    orders = stored(sim, "ServiceRequest")
    days = sorted({order["authoredOn"][:10] for order in orders})
    low, high = days[1], days[-2]
    expected = [o["id"] for o in orders if low <= o["authoredOn"][:10] <= high]

    response = fhir.get(
        "/ServiceRequest",
        params=[("authored", f"ge{low}"), ("authored", f"le{high}"), ("_count", "1000")],
        headers=user,
    )

    assert matches(response.json()) == expected


def test_search_encounter_date_looks_at_the_period(sim, fhir, user, chart):
    encounter = sim.state.store.get("Encounter", chart.encounter)
    assert encounter is not None
    start_day = encounter["period"]["start"][:10]

    on_or_after = search_all(fhir, "/Encounter", user, patient=chart.patient, date=f"ge{start_day}")
    before = search_all(fhir, "/Encounter", user, patient=chart.patient, date=f"lt{start_day}")

    assert chart.encounter in matches(on_or_after)
    assert chart.encounter not in matches(before)


@pytest.mark.parametrize("value", ["2024-13-01", "yesterday", "ap2024-01-01", "ge"])
def test_a_malformed_date_is_a_400_operation_outcome(fhir, user, value):
    response = fhir.get("/ServiceRequest", params={"authored": value}, headers=user)

    assert_outcome(response, 400, "invalid")


def test_search_last_updated_filters_on_meta_last_updated(sim, fhir, user, chart):
    everything = search_all(fhir, "/Observation", user, patient=chart.patient)
    stamps = {
        e["resource"]["id"]: e["resource"]["meta"]["lastUpdated"] for e in everything["entry"]
    }
    day = sorted(stamp[:10] for stamp in stamps.values())[len(stamps) // 2]
    expected = [key for key, stamp in stamps.items() if stamp[:10] >= day]

    bundle = search_all(fhir, "/Observation", user, patient=chart.patient, _lastUpdated=f"ge{day}")

    assert len(stamps) == len(stored(sim, "Observation", subject=f"Patient/{chart.patient}"))
    assert expected
    assert matches(bundle) == expected


def test_search_by_id_takes_a_list(sim, fhir, user):
    wanted = ids(stored(sim, "Practitioner"))[1:3]

    bundle = search_all(fhir, "/Practitioner", user, _id=",".join(wanted))

    assert matches(bundle) == wanted


def test_post_search_with_a_form_body_finds_what_get_finds(sim, fhir, user, chart):
    statuses = {
        o["status"] for o in stored(sim, "ServiceRequest", subject=f"Patient/{chart.patient}")
    }
    params = {"patient": chart.patient, "status": ",".join(sorted(statuses))}

    posted = fhir.post("/ServiceRequest/_search", data=params, headers=user)
    got = fhir.get("/ServiceRequest", params=params, headers=user)

    assert posted.status_code == 200
    assert posted.headers["content-type"] == FHIR_JSON
    assert matches(posted.json()) == matches(got.json())
    assert matches(got.json())


# --- paging --------------------------------------------------------------------------------------


def test_count_defaults_to_the_page_size_and_is_capped(sim, fhir, user):
    total = sim.state.store.count("Observation")

    default = fhir.get("/Observation", headers=user).json()
    huge = fhir.get("/Observation", params={"_count": "5000"}, headers=user).json()

    assert total > PAGE_SIZE
    assert default["total"] == total
    assert len(default["entry"]) == PAGE_SIZE
    assert huge["link"][0]["url"].endswith("_count=1000")
    assert len(huge["entry"]) == min(total, 1000)


def test_count_zero_gives_the_total_only(sim, fhir, user):
    bundle = fhir.get("/Condition", params={"_count": "0"}, headers=user).json()

    assert bundle["total"] == sim.state.store.count("Condition")
    assert bundle["entry"] == []


@pytest.mark.parametrize("value", ["-1", "ten"])
def test_a_bad_count_is_a_400(fhir, user, value):
    assert_outcome(fhir.get("/Condition", params={"_count": value}, headers=user), 400, "invalid")


def test_paging_walks_every_match_once_with_absolute_links_on_the_fhir_base(sim, fhir, user):
    expected = ids(stored(sim, "ServiceRequest"))
    seen: list[str] = []
    response = fhir.get("/ServiceRequest", params={"_count": "4"}, headers=user)
    pages = 0
    while True:
        assert response.status_code == 200, response.text
        bundle = response.json()
        assert bundle["total"] == len(expected)
        assert (link(bundle, "self") or "").startswith(sim.fhir_base)
        if pages:
            assert link(bundle, "previous")
        seen += matches(bundle)
        pages += 1
        next_url = link(bundle, "next")
        if next_url is None:
            break
        parts = urlsplit(next_url)
        assert f"{parts.scheme}://{parts.netloc}{parts.path}" == sim.fhir_base
        response = fhir.get(next_url, headers=user)

    assert seen == expected
    assert pages == -(-len(expected) // 4)


def test_paging_keeps_the_filters_and_the_count(sim, fhir, user, chart):
    expected = ids(stored(sim, "Observation", subject=f"Patient/{chart.patient}"))
    first = fhir.get(
        "/Observation", params={"patient": chart.patient, "_count": "2"}, headers=user
    ).json()
    second = fhir.get(link(first, "next"), headers=user).json()

    assert len(expected) > 2
    assert matches(first) + matches(second) == expected[:4]
    assert second["total"] == len(expected)


def test_a_page_link_needs_a_token_like_any_search(sim, fhir, user):
    first = fhir.get("/ServiceRequest", params={"_count": "2"}, headers=user).json()

    assert_outcome(fhir.get(link(first, "next")), 401, "login")


def test_a_forged_page_link_is_a_400(sim, fhir, user):
    response = fhir.get(sim.fhir_base, params={"_getpages": "!!not-ours!!"}, headers=user)

    assert_outcome(response, 400, "invalid")


# --- parameters this server does not know --------------------------------------------------------


def test_unknown_parameters_are_ignored_and_reported_in_an_outcome_entry(sim, fhir, user, chart):
    expected = ids(stored(sim, "ServiceRequest", subject=f"Patient/{chart.patient}"))

    response = fhir.get(
        "/ServiceRequest",
        params={"patient": chart.patient, "_sort": "-authored", "color": "blue", "_count": "100"},
        headers=user,
    )

    assert response.status_code == 200
    bundle = response.json()
    assert matches(bundle) == expected
    (outcome,) = outcomes(bundle)
    validate(outcome)
    assert outcome["issue"][0]["severity"] == "warning"
    assert "_sort" in outcome["issue"][0]["diagnostics"]
    assert "color" in outcome["issue"][0]["diagnostics"]


def test_unknown_parameters_are_an_error_when_the_client_asks_for_strict_handling(fhir, user):
    response = fhir.get(
        "/ServiceRequest", params={"color": "blue"}, headers={**user, "Prefer": "handling=strict"}
    )

    assert_outcome(response, 400, "invalid")


def test_an_unsupported_modifier_is_a_400(fhir, user):
    response = fhir.get("/ServiceRequest", params={"code:below": "123"}, headers=user)

    assert_outcome(response, 400, "invalid")


# --- authentication ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer"}, {"Authorization": "Basic dXNlcjpwYXNz"}],
    ids=["none", "empty", "basic"],
)
def test_no_bearer_token_is_401_with_a_bearer_challenge(fhir, headers):
    response = fhir.get("/Patient", headers=headers)

    assert_outcome(response, 401, "login")
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_an_unknown_token_is_401_invalid_token(fhir, chart):
    response = fhir.get(
        f"/Patient/{chart.patient}", headers={"Authorization": "Bearer not-a-real-token"}
    )

    assert_outcome(response, 401, "login")
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_an_expired_token_is_401(sim, fhir, chart):
    headers = issue(sim, "user/*.rs")
    assert fhir.get(f"/Patient/{chart.patient}", headers=headers).status_code == 200

    sim.state.grants.expire_access_tokens()
    response = fhir.get(f"/Patient/{chart.patient}", headers=headers)

    outcome = assert_outcome(response, 401, "login")
    assert "expired" in outcome["issue"][0]["diagnostics"]
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


# --- scopes and the patient compartment ----------------------------------------------------------


def test_a_scope_for_another_type_is_403(sim, fhir, chart):
    headers = issue(sim, "launch", "patient/Patient.rs", patient=chart.patient)

    search = fhir.get("/ServiceRequest", params={"patient": chart.patient}, headers=headers)
    order = stored(sim, "ServiceRequest", subject=f"Patient/{chart.patient}")[0]
    read = fhir.get(f"/ServiceRequest/{order['id']}", headers=headers)

    assert_outcome(search, 403, "forbidden")
    assert_outcome(read, 403, "forbidden")
    assert "insufficient_scope" in search.headers["www-authenticate"]


def test_v2_read_and_search_letters_are_separate_permissions(sim, fhir, chart):
    order = stored(sim, "ServiceRequest", subject=f"Patient/{chart.patient}")[0]
    read_only = issue(sim, "patient/ServiceRequest.r", patient=chart.patient)
    search_only = issue(sim, "patient/ServiceRequest.s", patient=chart.patient)

    assert fhir.get(f"/ServiceRequest/{order['id']}", headers=read_only).status_code == 200
    assert_outcome(fhir.get("/ServiceRequest", headers=read_only), 403, "forbidden")
    assert fhir.get("/ServiceRequest", headers=search_only).status_code == 200
    assert_outcome(
        fhir.get(f"/ServiceRequest/{order['id']}", headers=search_only), 403, "forbidden"
    )


@pytest.mark.parametrize(
    "scopes",
    [("patient/*.read",), ("patient/ServiceRequest.rs", "patient/Patient.rs")],
    ids=["v1", "v2"],
)
def test_a_patient_scope_reads_and_searches_only_the_launch_patients_records(
    sim, fhir, chart, scopes
):
    headers = issue(sim, "launch", *scopes, patient=chart.patient, encounter=chart.encounter)
    own = stored(sim, "ServiceRequest", subject=f"Patient/{chart.patient}")
    theirs = stored(sim, "ServiceRequest", subject=f"Patient/{chart.other_patient}")

    implicit = search_all(fhir, "/ServiceRequest", headers)
    explicit = search_all(fhir, "/ServiceRequest", headers, patient=f"Patient/{chart.patient}")
    patients = search_all(fhir, "/Patient", headers)

    assert matches(implicit) == ids(own)
    assert matches(explicit) == ids(own)
    assert matches(patients) == [chart.patient]
    assert fhir.get(f"/ServiceRequest/{own[0]['id']}", headers=headers).status_code == 200
    assert fhir.get(f"/Patient/{chart.patient}", headers=headers).status_code == 200
    assert_outcome(
        fhir.get(f"/ServiceRequest/{theirs[0]['id']}", headers=headers), 403, "forbidden"
    )
    assert_outcome(fhir.get(f"/Patient/{chart.other_patient}", headers=headers), 403, "forbidden")


@pytest.mark.parametrize("name", ["patient", "subject"])
def test_a_patient_scope_searching_another_patient_is_403(sim, fhir, chart, name):
    headers = issue(sim, "patient/ServiceRequest.rs", patient=chart.patient)

    response = fhir.get("/ServiceRequest", params={name: chart.other_patient}, headers=headers)

    assert_outcome(response, 403, "forbidden")


def test_a_patient_scope_pages_stay_in_the_compartment(sim, fhir, chart):
    headers = issue(sim, "patient/Observation.rs", patient=chart.patient)
    expected = ids(stored(sim, "Observation", subject=f"Patient/{chart.patient}"))
    seen: list[str] = []
    url: str | None = "/Observation?_count=3"
    while url:
        bundle = fhir.get(url, headers=headers).json()
        seen += matches(bundle)
        url = link(bundle, "next")

    assert seen == expected


def test_a_patient_scope_covers_coverage_by_beneficiary(sim, fhir, chart):
    headers = issue(sim, "patient/Coverage.rs", patient=chart.patient)

    bundle = search_all(fhir, "/Coverage", headers)

    assert matches(bundle) == ids(stored(sim, "Coverage", beneficiary=f"Patient/{chart.patient}"))


@pytest.mark.parametrize(
    "resource_type", ["Practitioner", "PractitionerRole", "Organization", "Location"]
)
def test_a_patient_scope_reads_every_non_patient_resource(sim, fhir, chart, resource_type):
    headers = issue(sim, f"patient/{resource_type}.rs", patient=chart.patient)
    first = next(sim.state.store.all(resource_type))

    read = fhir.get(f"/{resource_type}/{first['id']}", headers=headers)
    search = search_all(fhir, f"/{resource_type}", headers)

    assert read.status_code == 200
    assert matches(search) == ids(stored(sim, resource_type))


def test_a_user_scope_searches_every_patient(sim, fhir, chart):
    headers = issue(sim, "user/ServiceRequest.read")

    bundle = search_all(fhir, "/ServiceRequest", headers, patient=chart.other_patient)

    assert matches(bundle) == ids(
        stored(sim, "ServiceRequest", subject=f"Patient/{chart.other_patient}")
    )


# --- every resource the server sends is valid FHIR -----------------------------------------------


@pytest.mark.parametrize(
    "resource_type",
    [
        "Patient",
        "Encounter",
        "ServiceRequest",
        "MedicationRequest",
        "Condition",
        "Observation",
        "Procedure",
        "Practitioner",
        "PractitionerRole",
        "Organization",
        "Location",
        "Coverage",
    ],
)
def test_every_search_result_and_read_is_valid_fhir(sim, fhir, user, resource_type):
    bundle = search_all(fhir, f"/{resource_type}", user, unknown_param="x")

    validate(bundle)
    for entry in bundle["entry"]:
        validate(entry["resource"])
        if entry["search"]["mode"] == "match":
            assert entry["fullUrl"] == f"{sim.fhir_base}/{resource_type}/{entry['resource']['id']}"
            assert entry["resource"]["meta"]["lastUpdated"]
    assert len(matches(bundle)) == sim.state.store.count(resource_type)
    for resource_id in matches(bundle)[:3]:
        validate(fhir.get(f"/{resource_type}/{resource_id}", headers=user).json())
