"""SMART scopes in both syntaxes, as the simulated EHR grants and enforces them."""

from __future__ import annotations

import pytest

from ehr_sim.scopes import grantable, parse_resource_scope, permits


@pytest.mark.parametrize(
    ("text", "resource", "interactions"),
    [
        ("patient/Observation.read", "Observation", {"r", "s"}),
        ("user/*.write", "*", {"c", "u", "d"}),
        ("patient/*.*", "*", {"c", "r", "u", "d", "s"}),
        ("patient/ServiceRequest.rs", "ServiceRequest", {"r", "s"}),
        ("user/Patient.cruds", "Patient", {"c", "r", "u", "d", "s"}),
        ("patient/Condition.s", "Condition", {"s"}),
    ],
)
def test_v1_and_v2_resource_scopes_parse_to_interactions(text, resource, interactions):
    scope = parse_resource_scope(text)

    assert scope is not None
    assert (scope.resource_type, set(scope.interactions)) == (resource, interactions)


@pytest.mark.parametrize(
    "text",
    [
        "patient/Observation.sr",
        "patient/Observation.rs?category=laboratory",
        "openid",
        "patient/.rs",
        "x/Patient.rs",
    ],
)
def test_out_of_order_granular_and_non_resource_scopes_are_not_resource_scopes(text):
    assert parse_resource_scope(text) is None


def test_the_server_grants_known_scopes_within_the_clients_allowance():
    requested = [
        "launch",
        "openid",
        "patient/*.rs",
        "user/*.rs",
        "patient/Observation.rs?category=vital-signs",
        "bogus",
    ]

    assert grantable(requested) == ["launch", "openid", "patient/*.rs", "user/*.rs"]
    assert grantable(requested, ["launch", "patient/*.read"]) == ["launch", "patient/*.rs"]


def test_a_v1_read_scope_permits_read_and_search_but_a_v2_s_scope_only_search():
    assert permits(["patient/*.read"], "ServiceRequest", "r") is not None
    assert permits(["patient/ServiceRequest.s"], "ServiceRequest", "r") is None
    assert permits(["patient/ServiceRequest.s"], "ServiceRequest", "s") is not None
    assert permits(["patient/Patient.rs"], "ServiceRequest", "s") is None


def test_user_scopes_win_over_patient_scopes_so_the_compartment_limit_is_not_applied_twice():
    scope = permits(["patient/*.rs", "user/ServiceRequest.rs"], "ServiceRequest", "s")

    assert scope is not None
    assert scope.context == "user"
