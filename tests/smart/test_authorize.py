"""The authorization request (RFC 6749 4.1.1, SMART "Obtain authorization code") and the
callback (RFC 6749 4.1.2)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from smart import (
    AuthorizationDenied,
    Pkce,
    PkceNotSupportedError,
    SmartConfiguration,
    SmartError,
    StateError,
    authorize_url,
    check_response_issuer,
    new_pkce,
    parse_authorization_response,
)
from tests.smart.factories import (
    AUTHORIZE,
    CLIENT_ID,
    ISS,
    REDIRECT_URI,
    smart_configuration,
    well_known_document,
)

SCOPES = ["launch", "openid", "fhirUser", "patient/ServiceRequest.rs"]


def build(**overrides: Any) -> str:
    arguments: dict[str, Any] = {
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "scopes": SCOPES,
        "state": "st-1",
        "aud": ISS,
        "pkce": new_pkce(),
        "launch": "launch-xyz",
        "nonce": "n-1",
    }
    arguments.update(overrides)
    config = arguments.pop("config", smart_configuration())
    return authorize_url(config, **arguments)


def query(url: str) -> dict[str, str]:
    parsed = parse_qs(urlsplit(url).query, keep_blank_values=True)
    assert all(len(values) == 1 for values in parsed.values()), parsed
    return {key: values[0] for key, values in parsed.items()}


def test_url_carries_every_parameter_smart_asks_for():
    pkce = new_pkce()

    url = build(pkce=pkce)

    assert url.startswith(AUTHORIZE + "?")
    assert query(url) == {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "scope": "launch openid fhirUser patient/ServiceRequest.rs",
        "state": "st-1",
        "aud": ISS,
        "launch": "launch-xyz",
        "code_challenge": pkce.challenge,
        "code_challenge_method": "S256",
        "nonce": "n-1",
    }
    assert pkce.verifier not in url


def test_standalone_launch_sends_no_launch_parameter():
    params = query(build(launch=None, nonce=None))

    assert "launch" not in params
    assert "nonce" not in params


def test_openid_connect_sign_in_sends_no_aud_or_launch():
    params = query(build(aud=None, launch=None, scopes=["openid", "profile"]))

    assert "aud" not in params
    assert "launch" not in params
    assert params["scope"] == "openid profile"
    assert (params["state"], params["nonce"]) == ("st-1", "n-1")
    assert params["code_challenge_method"] == "S256"


def test_keeps_a_query_the_authorization_endpoint_already_has():
    config = smart_configuration(authorization_endpoint=f"{AUTHORIZE}?tenant=north")

    params = query(build(config=config))

    assert params["tenant"] == "north"
    assert params["client_id"] == CLIENT_ID


def test_sends_s256_when_the_ehr_does_not_advertise_methods():
    params = query(build(config=smart_configuration(code_challenge_methods_supported=None)))

    assert params["code_challenge_method"] == "S256"


def test_refuses_an_ehr_that_advertises_only_plain():
    config = smart_configuration(code_challenge_methods_supported=frozenset({"plain"}))

    with pytest.raises(PkceNotSupportedError):
        build(config=config)


def test_force_pkce_sends_s256_even_to_an_ehr_that_advertises_only_plain():
    config = smart_configuration(code_challenge_methods_supported=frozenset({"plain"}))

    params = query(build(config=config, force_pkce=True))

    assert params["code_challenge_method"] == "S256"


def test_never_sends_plain_pkce():
    with pytest.raises(SmartError, match="S256"):
        build(pkce=Pkce(verifier="v" * 43, challenge="v" * 43, method="plain"))


@pytest.mark.parametrize("missing", ["state", "aud", "client_id", "redirect_uri"])
def test_refuses_a_request_without_a_required_value(missing):
    with pytest.raises(SmartError, match=missing):
        build(**{missing: ""})


def test_refuses_a_request_without_scopes():
    with pytest.raises(SmartError, match="scope"):
        build(scopes=[])


def test_callback_with_a_code_gives_code_and_state():
    response = parse_authorization_response({"code": "c-1", "state": "st-1"})

    assert (response.code, response.state) == ("c-1", "st-1")
    assert "c-1" not in repr(response)


def test_callback_with_an_error_is_authorization_denied_with_the_state():
    params = {"error": "access_denied", "error_description": "User said no", "state": "st-1"}

    with pytest.raises(AuthorizationDenied) as caught:
        parse_authorization_response(params)

    assert caught.value.error == "access_denied"
    assert caught.value.description == "User said no"
    assert caught.value.state == "st-1"


def test_callback_without_state_is_a_state_error():
    with pytest.raises(StateError) as caught:
        parse_authorization_response({"code": "c-1"})

    assert caught.value.reason == "missing"


def test_callback_without_code_or_error_is_refused():
    with pytest.raises(SmartError, match="neither code nor error"):
        parse_authorization_response({"state": "st-1"})


# --- RFC 9207: which server answered ----------------------------------------------------------


@pytest.mark.parametrize("advertised", [True, False])
def test_response_from_the_server_the_request_went_to_is_accepted(advertised):
    config = smart_configuration(authorization_response_iss_parameter_supported=advertised)

    check_response_issuer(config, ISS)


@pytest.mark.parametrize(
    "iss",
    [
        "https://attacker.example/fhir",
        ISS + "/",  # RFC 9207 2.4: simple string comparison, no normalising
        ISS.upper(),
        "",
    ],
)
def test_response_naming_another_server_is_refused(iss):
    with pytest.raises(SmartError, match="another authorization server"):
        check_response_issuer(smart_configuration(), iss)


def test_response_without_iss_is_refused_when_the_server_promises_it():
    config = smart_configuration(authorization_response_iss_parameter_supported=True)

    with pytest.raises(SmartError, match="lacks the iss parameter"):
        check_response_issuer(config, None)


def test_response_without_iss_is_accepted_from_a_server_that_never_sends_it():
    check_response_issuer(smart_configuration(), None)


def test_response_with_iss_is_refused_when_the_server_named_no_issuer():
    with pytest.raises(SmartError):
        check_response_issuer(smart_configuration(issuer=None), ISS)


@pytest.mark.parametrize(("value", "expected"), [(True, True), (False, False), ("true", False)])
def test_discovery_reads_whether_the_server_sends_iss(value, expected):
    document = well_known_document(authorization_response_iss_parameter_supported=value)

    config = SmartConfiguration.from_well_known(document)

    assert config.authorization_response_iss_parameter_supported is expected
