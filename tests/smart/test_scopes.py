"""Scopes (SMART App Launch 2.x "Scopes and Launch Context"): what we ask, what we got."""

from __future__ import annotations

import pytest

from smart import parse_granted, requested_scopes
from tests.smart.factories import smart_configuration

RESOURCES = ("Patient", "Encounter", "ServiceRequest")


def test_ehr_launch_asks_for_launch_identity_and_v2_reads_when_supported():
    scopes = requested_scopes(smart_configuration(), ehr_launch=True, resources=RESOURCES)

    assert scopes == [
        "launch",
        "openid",
        "fhirUser",
        "patient/Patient.rs",
        "patient/Encounter.rs",
        "patient/ServiceRequest.rs",
    ]


def test_falls_back_to_v1_scopes_when_the_server_does_not_know_v2():
    config = smart_configuration(
        capabilities=frozenset({"launch-ehr", "permission-v1"}),
        scopes_supported=frozenset({"patient/*.read"}),
    )

    scopes = requested_scopes(config, ehr_launch=True, resources=("ServiceRequest",))

    assert scopes == ["launch", "openid", "fhirUser", "patient/ServiceRequest.read"]


def test_standalone_launch_asks_the_ehr_to_pick_a_patient():
    scopes = requested_scopes(smart_configuration(), ehr_launch=False, resources=("Patient",))

    assert scopes[0] == "launch/patient"
    assert "launch" not in scopes


def test_extra_scopes_come_as_given_without_duplicates():
    scopes = requested_scopes(
        smart_configuration(),
        ehr_launch=True,
        resources=("Patient", "Patient"),
        extra=("openid", "fhirUser", "offline_access", "openid"),
    )

    assert scopes == ["launch", "openid", "fhirUser", "offline_access", "patient/Patient.rs"]


def test_user_level_scopes_on_request():
    scopes = requested_scopes(
        smart_configuration(), ehr_launch=True, resources=("Patient",), extra=(), level="user"
    )

    assert scopes == ["launch", "user/Patient.rs"]


@pytest.mark.parametrize("resource", ["serviceRequest", "Patient.rs", "Patient?x=1", ""])
def test_a_name_that_is_not_a_resource_type_is_a_programming_error(resource):
    with pytest.raises(ValueError, match="resource type"):
        requested_scopes(smart_configuration(), ehr_launch=True, resources=(resource,))


def test_granted_scope_left_out_means_everything_requested():
    # RFC 6749 5.1: scope is optional "if identical to the scope requested by the client".
    granted = parse_granted(None, ["launch", "patient/ServiceRequest.rs"])

    assert granted.scopes == {"launch", "patient/ServiceRequest.rs"}


def test_granted_scope_may_be_narrower_than_requested():
    granted = parse_granted("launch patient/Patient.rs", ["launch", "patient/Patient.rs", "x"])

    assert granted.scopes == {"launch", "patient/Patient.rs"}
    assert "x" not in granted
    assert "launch" in granted


def test_an_empty_granted_scope_grants_nothing():
    assert parse_granted("", ["patient/Patient.rs"]).scopes == frozenset()


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        ("patient/ServiceRequest.rs", True),
        ("patient/ServiceRequest.r", True),
        ("patient/ServiceRequest.cruds", True),
        ("patient/ServiceRequest.read", True),
        ("patient/ServiceRequest.*", True),
        ("user/ServiceRequest.read", True),
        ("patient/*.rs", True),
        ("user/*.read", True),
        ("system/*.read", True),
        ("patient/ServiceRequest.s", False),
        ("patient/ServiceRequest.cud", False),
        ("patient/ServiceRequest.write", False),
        ("patient/ServiceRequest.sr", False),  # letters out of order: not a v2 scope
        ("patient/Observation.rs", False),
        ("patient/ServiceRequest.rs?category=laboratory", False),  # granular: only part
        ("launch", False),
        ("ServiceRequest.read", False),
    ],
)
def test_allows_read_understands_both_syntaxes(scope, expected):
    assert parse_granted(scope, []).allows_read("ServiceRequest") is expected


def test_allows_search_is_separate_from_read():
    granted = parse_granted("patient/ServiceRequest.s patient/Encounter.r", [])

    assert granted.allows_search("ServiceRequest")
    assert not granted.allows_read("ServiceRequest")
    assert granted.allows_read("Encounter")
    assert not granted.allows_search("Encounter")
