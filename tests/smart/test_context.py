"""Launch context (SMART App Launch 2.x "Launch context arrives with your access_token")."""

from __future__ import annotations

from typing import Any

import pytest

from smart import APP_CONTEXT_MAX_LENGTH, LaunchContext, launch_context, normalise_reference
from tests.smart.factories import ISS, token_response

REQUESTED = ("launch", "openid", "fhirUser", "patient/ServiceRequest.rs")


def context_from(
    raw_context: dict[str, Any] | None = None,
    claims: dict[str, Any] | None = None,
    **token_overrides: Any,
) -> LaunchContext:
    token = token_response(raw_context=raw_context or {}, **token_overrides)
    return launch_context(token, claims, fhir_base=ISS, requested=REQUESTED)


def test_reads_every_field_an_ehr_launch_brings():
    context = context_from(
        {
            "patient": "pat-1",
            "encounter": "enc-1",
            "fhirContext": [{"reference": "ServiceRequest/sr-1"}],
            "need_patient_banner": False,
            "smart_style_url": "https://ehr.example.org/style.json",
            "tenant": "north",
            "intent": "reconcile",
        },
        {"fhirUser": f"{ISS}/Practitioner/prac-1"},
    )

    assert context.patient == "pat-1"
    assert context.encounter == "enc-1"
    assert context.fhir_user == "Practitioner/prac-1"
    assert (context.fhir_user_type, context.fhir_user_id) == ("Practitioner", "prac-1")
    assert context.fhir_context == ("ServiceRequest/sr-1",)
    assert context.need_patient_banner is False
    assert context.smart_style_url == "https://ehr.example.org/style.json"
    assert context.tenant == "north"
    assert context.intent == "reconcile"
    assert context.granted.allows_read("ServiceRequest")


@pytest.mark.parametrize(
    ("fhir_user", "expected"),
    [
        (f"{ISS}/Practitioner/prac-1", "Practitioner/prac-1"),
        (f"{ISS}/", None),
        ("Practitioner/prac-1", "Practitioner/prac-1"),
        ("https://identity.example.org/api/PractitionerRole/role-9", "PractitionerRole/role-9"),
        (f"{ISS}/Practitioner/prac-1/_history/3", "Practitioner/prac-1"),
        ("Patient/p.1-a", "Patient/p.1-a"),
        ("prac-1", None),
        ("practitioner/prac-1", None),
        ("Practitioner/has space", None),
        ("", None),
        (42, None),
    ],
)
def test_fhir_user_is_normalised_to_type_and_id(fhir_user, expected):
    context = context_from(claims={"fhirUser": fhir_user})

    assert context.fhir_user == expected
    if expected is None:
        assert context.fhir_user_type is None
        assert context.fhir_user_id is None


def test_without_validated_claims_there_is_no_user():
    # A fhirUser beside the access token is not verified: it is ignored.
    context = context_from({"fhirUser": "Practitioner/prac-1"}, claims=None)

    assert context.fhir_user is None


def test_fhir_context_accepts_smart_2_1_objects_and_2_0_strings():
    context = context_from(
        {
            "fhirContext": [
                {"reference": "ServiceRequest/sr-1"},
                f"{ISS}/MedicationRequest/mr-1",
                {"canonical": "http://example.org/Questionnaire/q"},
                {"identifier": {"value": "x"}, "type": "DocumentReference"},
                {"reference": "ServiceRequest/sr-1"},
                7,
            ]
        }
    )

    assert context.fhir_context == ("ServiceRequest/sr-1", "MedicationRequest/mr-1")


@pytest.mark.parametrize("banner", [None, "false", 0])
def test_patient_banner_is_shown_unless_the_ehr_says_false(banner):
    raw = {} if banner is None else {"need_patient_banner": banner}

    assert context_from(raw).need_patient_banner is True


def test_patient_and_encounter_accept_references_as_well_as_ids():
    context = context_from({"patient": "Patient/pat-1", "encounter": "Encounter/enc-1"})

    assert (context.patient, context.encounter) == ("pat-1", "enc-1")


def test_malformed_patient_and_encounter_are_dropped():
    context = context_from({"patient": "a/b/c", "encounter": 12})

    assert (context.patient, context.encounter) == (None, None)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "/relative/style.json", "javascript:x"])
def test_a_style_url_that_is_not_absolute_http_is_dropped(url):
    assert context_from({"smart_style_url": url}).smart_style_url is None


def test_granted_scopes_default_to_the_requested_ones_when_the_ehr_omits_scope():
    context = context_from(scope=None)

    assert context.granted.scopes == frozenset(REQUESTED)


def test_granted_scopes_follow_a_narrower_grant():
    context = context_from(scope="launch openid")

    assert not context.granted.allows_read("ServiceRequest")


def test_normalise_reference_is_usable_on_its_own():
    assert normalise_reference(f"{ISS}/Encounter/e-1", fhir_base=ISS + "/") == "Encounter/e-1"


def test_a_cds_links_app_context_is_kept_as_the_string_sent():
    app_context = '{"order": "ServiceRequest/sr-1", "rule": "r", "card": "c"}'

    assert context_from({"appContext": app_context}).app_context == app_context
    assert context_from({}).app_context is None


@pytest.mark.parametrize("value", [{"order": "ServiceRequest/sr-1"}, ["x"], 12, True, ""])
def test_an_app_context_that_is_not_a_string_is_ignored(value):
    assert context_from({"appContext": value}).app_context is None


def test_an_app_context_over_the_length_limit_is_dropped_whole():
    longest = "x" * APP_CONTEXT_MAX_LENGTH

    assert context_from({"appContext": longest}).app_context == longest
    assert context_from({"appContext": longest + "x"}).app_context is None
