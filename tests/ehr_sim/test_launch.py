"""Every SMART launch flavour against the simulated EHR, by hand over real HTTP, and every
refusal a real EHR makes. The simulator must be strict, or it would hide our bugs."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, RSAKey

from ehr_sim.clients import ClientKind, ClientRegistration, ClientRegistry
from ehr_sim.config import SimSettings
from ehr_sim.server import SimServer

REDIRECT = "http://127.0.0.1:9/callback"
SECRET = "s3cret-for-tests-only"
RSA_KEY = RSAKey.generate_key(2048, parameters={"kid": "rsa-1"})
EC_KEY = ECKey.generate_key("P-384", parameters={"kid": "ec-1"})
OTHER_KEY = RSAKey.generate_key(2048, parameters={"kid": "rsa-1"})


def registry() -> ClientRegistry:
    return ClientRegistry(
        [
            ClientRegistration(client_id="app-public", name="Public app", redirect_uris=[REDIRECT]),
            ClientRegistration(
                client_id="app-secret",
                name="Symmetric app",
                kind=ClientKind.SYMMETRIC,
                client_secret=SECRET,
                redirect_uris=[REDIRECT],
            ),
            ClientRegistration(
                client_id="app-jwt",
                name="Asymmetric app",
                kind=ClientKind.ASYMMETRIC,
                jwks={"keys": [RSA_KEY.as_dict(private=False), EC_KEY.as_dict(private=False)]},
                redirect_uris=[REDIRECT],
            ),
        ]
    )


@pytest.fixture(scope="module")
def sim() -> Iterator[SimServer]:
    with SimServer(SimSettings(patients=12), registry()) as server:
        yield server


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10, follow_redirects=False) as client:
        yield client


@dataclass
class Pkce:
    verifier: str
    challenge: str

    @classmethod
    def new(cls) -> Pkce:
        verifier = secrets.token_urlsafe(48)
        digest = hashlib.sha256(verifier.encode()).digest()
        return cls(verifier, base64.urlsafe_b64encode(digest).decode().rstrip("="))


def first_patient_and_encounter(sim: SimServer) -> tuple[str, str]:
    encounter = next(sim.state.store.all("Encounter"))
    return encounter["subject"]["reference"].split("/")[1], encounter["id"]


def ehr_launch(sim: SimServer, http: httpx.Client, **context: Any) -> str:
    patient, encounter = first_patient_and_encounter(sim)
    body = {
        "user": "Practitioner/prac-00001",
        "patient": patient,
        "encounter": encounter,
        **context,
    }
    response = http.post(f"{sim.base_url}/_sim/launches", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["launch"])


def authorize(
    sim: SimServer,
    http: httpx.Client,
    pkce: Pkce,
    *,
    client_id: str = "app-public",
    **overrides: str,
) -> httpx.Response:
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT,
        "scope": "launch openid fhirUser patient/*.rs",
        "state": "st-123",
        "aud": sim.fhir_base,
        "code_challenge": pkce.challenge,
        "code_challenge_method": "S256",
        **overrides,
    }
    return http.get(f"{sim.base_url}/auth/authorize", params={k: v for k, v in params.items() if v})


def redirect_params(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT)
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


def code_for(sim: SimServer, http: httpx.Client, pkce: Pkce, **overrides: str) -> str:
    params = redirect_params(authorize(sim, http, pkce, **overrides))
    assert params["state"] == "st-123"
    return params["code"]


def exchange(
    sim: SimServer,
    http: httpx.Client,
    code: str,
    pkce: Pkce,
    *,
    client_id: str = "app-public",
    **extra: Any,
) -> httpx.Response:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": pkce.verifier,
        **({"client_id": client_id} if client_id else {}),
        **extra.pop("form", {}),
    }
    return http.post(f"{sim.base_url}/auth/token", data=form, **extra)


def assertion(sim: SimServer, key: RSAKey | ECKey, alg: str, **claims: Any) -> str:
    now = int(time.time())
    body = {
        "iss": "app-jwt",
        "sub": "app-jwt",
        "aud": f"{sim.base_url}/auth/token",
        "exp": now + 240,
        "jti": secrets.token_hex(16),
        **claims,
    }
    return jwt.encode({"alg": alg, "kid": key.kid, "typ": "JWT"}, body, key, algorithms=[alg])


def assertion_form(token: str) -> dict[str, str]:
    return {
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": token,
    }


# --- discovery -----------------------------------------------------------------------------------


def test_discovery_names_the_endpoints_and_requires_s256(sim, http):
    config = http.get(f"{sim.fhir_base}/.well-known/smart-configuration").json()

    assert config["authorization_endpoint"] == f"{sim.base_url}/auth/authorize"
    assert config["token_endpoint"] == f"{sim.base_url}/auth/token"
    assert config["code_challenge_methods_supported"] == ["S256"]
    assert {"private_key_jwt", "client_secret_basic"} <= set(
        config["token_endpoint_auth_methods_supported"]
    )
    for capability in (
        "launch-ehr",
        "launch-standalone",
        "client-public",
        "client-confidential-symmetric",
        "client-confidential-asymmetric",
        "context-ehr-patient",
        "context-ehr-encounter",
        "context-standalone-patient",
        "sso-openid-connect",
        "permission-v1",
        "permission-v2",
        "permission-offline",
        "authorize-post",
    ):
        assert capability in config["capabilities"]
    assert http.get(config["jwks_uri"]).json()["keys"]


# --- launch flavours -----------------------------------------------------------------------------


def test_ehr_launch_with_a_public_client_returns_context_and_a_signed_id_token(sim, http):
    pkce = Pkce.new()
    launch = ehr_launch(sim, http, smart_style_url="https://ehr.example/style.json")
    patient, encounter = first_patient_and_encounter(sim)

    code = code_for(sim, http, pkce, launch=launch, nonce="n-1")
    response = exchange(sim, http, code, pkce)

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert (body["patient"], body["encounter"]) == (patient, encounter)
    assert body["scope"].split() == ["launch", "openid", "fhirUser", "patient/*.rs"]
    assert body["smart_style_url"] == "https://ehr.example/style.json"
    assert body["expires_in"] > 0
    assert "refresh_token" not in body
    keys = KeySet.import_key_set(http.get(f"{sim.base_url}/auth/jwks").json())
    claims = jwt.decode(body["id_token"], keys, algorithms=["RS256"]).claims
    assert claims["iss"] == sim.fhir_base
    assert claims["aud"] == "app-public"
    assert claims["nonce"] == "n-1"
    assert claims["fhirUser"] == f"{sim.fhir_base}/Practitioner/prac-00001"


@pytest.mark.parametrize("user", ["Practitioner/prac-00001", "PractitionerRole/role-00001"])
def test_the_id_token_names_the_practitioner_and_their_synthetic_email(sim, http, user):
    pkce = Pkce.new()
    launch = ehr_launch(sim, http, user=user)

    scope = "launch openid fhirUser profile email user/Practitioner.rs"
    code = code_for(sim, http, pkce, launch=launch, scope=scope)
    body = exchange(sim, http, code, pkce).json()

    keys = KeySet.import_key_set(http.get(f"{sim.base_url}/auth/jwks").json())
    claims = jwt.decode(body["id_token"], keys, algorithms=["RS256"]).claims
    assert claims["fhirUser"] == f"{sim.fhir_base}/{user}"
    practitioner = http.get(
        f"{sim.fhir_base}/Practitioner/prac-00001",
        headers={"Authorization": f"Bearer {body['access_token']}"},
    ).json()
    name = practitioner["name"][0]
    assert claims["name"] == " ".join([*name["prefix"], *name["given"], name["family"]])
    assert claims["email"] == practitioner["telecom"][0]["value"]
    assert claims["email"].endswith("@example.org")


def test_ehr_launch_passes_fhir_context_for_an_order(sim, http):
    pkce = Pkce.new()
    launch = ehr_launch(sim, http, fhir_context=[{"reference": "ServiceRequest/sr-1"}])

    body = exchange(sim, http, code_for(sim, http, pkce, launch=launch), pkce).json()

    assert body["fhirContext"] == [{"reference": "ServiceRequest/sr-1"}]


def test_a_launch_bound_with_app_context_passes_it_in_the_token_response(sim, http):
    pkce = Pkce.new()
    app_context = '{"order": "ServiceRequest/sr-1"}'
    launch = ehr_launch(sim, http, app_context=app_context)

    body = exchange(sim, http, code_for(sim, http, pkce, launch=launch), pkce).json()
    plain = exchange(sim, http, code_for(sim, http, pkce, launch=ehr_launch(sim, http)), pkce)

    assert body["appContext"] == app_context
    assert "appContext" not in plain.json()


def test_authorize_also_accepts_post(sim, http):
    pkce = Pkce.new()
    form = {
        "response_type": "code",
        "client_id": "app-public",
        "redirect_uri": REDIRECT,
        "scope": "launch patient/Patient.rs",
        "state": "st-123",
        "aud": sim.fhir_base,
        "code_challenge": pkce.challenge,
        "code_challenge_method": "S256",
        "launch": ehr_launch(sim, http),
    }
    params = redirect_params(http.post(f"{sim.base_url}/auth/authorize", data=form))

    assert exchange(sim, http, params["code"], pkce).status_code == 200


def test_standalone_launch_shows_a_patient_picker_then_binds_the_chosen_patient(sim, http):
    pkce = Pkce.new()
    picker = authorize(sim, http, pkce, scope="launch/patient openid fhirUser patient/*.rs")
    assert picker.status_code == 200
    assert "Select a patient" in picker.text
    patient = next(sim.state.store.all("Patient"))["id"]
    assert f'value="{patient}"' in picker.text

    code = code_for(sim, http, pkce, scope="launch/patient patient/*.rs", sim_patient=patient)
    body = exchange(sim, http, code, pkce).json()

    assert body["patient"] == patient
    assert "encounter" not in body


def test_confidential_symmetric_client_authenticates_with_basic(sim, http):
    pkce = Pkce.new()
    code = code_for(sim, http, pkce, client_id="app-secret", launch=ehr_launch(sim, http))

    response = exchange(sim, http, code, pkce, client_id="", auth=("app-secret", SECRET))

    assert response.status_code == 200, response.text


@pytest.mark.parametrize(("key", "alg"), [(RSA_KEY, "RS384"), (EC_KEY, "ES384")])
def test_confidential_asymmetric_client_authenticates_with_a_signed_assertion(sim, http, key, alg):
    pkce = Pkce.new()
    code = code_for(sim, http, pkce, client_id="app-jwt", launch=ehr_launch(sim, http))

    response = exchange(
        sim, http, code, pkce, client_id="", form=assertion_form(assertion(sim, key, alg))
    )

    assert response.status_code == 200, response.text


def test_refresh_token_is_issued_for_offline_access_and_rotates(sim, http):
    pkce = Pkce.new()
    scope = "launch offline_access patient/*.rs"
    code = code_for(
        sim, http, pkce, client_id="app-secret", scope=scope, launch=ehr_launch(sim, http)
    )
    first = exchange(sim, http, code, pkce, client_id="", auth=("app-secret", SECRET)).json()
    assert first["refresh_token"]

    def refresh(token: str, **extra: str) -> httpx.Response:
        form = {"grant_type": "refresh_token", "refresh_token": token, **extra}
        response: httpx.Response = http.post(
            f"{sim.base_url}/auth/token", data=form, auth=("app-secret", SECRET)
        )
        return response

    second = refresh(first["refresh_token"])
    assert second.status_code == 200, second.text
    assert second.json()["access_token"] != first["access_token"]
    assert second.json()["patient"] == first["patient"]
    replayed = refresh(first["refresh_token"])
    assert (replayed.status_code, replayed.json()["error"]) == (400, "invalid_grant")
    widened = refresh(second.json()["refresh_token"], scope="launch offline_access user/*.rs")
    assert (widened.status_code, widened.json()["error"]) == (400, "invalid_scope")


def test_introspection_reports_active_tokens_and_their_context(sim, http):
    pkce = Pkce.new()
    body = exchange(sim, http, code_for(sim, http, pkce, launch=ehr_launch(sim, http)), pkce).json()

    response = http.post(
        f"{sim.base_url}/auth/introspect",
        data={"token": body["access_token"]},
        auth=("app-secret", SECRET),
    )

    info = response.json()
    assert info["active"] is True
    assert (info["client_id"], info["patient"]) == ("app-public", body["patient"])
    unknown = http.post(
        f"{sim.base_url}/auth/introspect", data={"token": "nope"}, auth=("app-secret", SECRET)
    )
    assert unknown.json() == {"active": False}


# --- refusals ------------------------------------------------------------------------------------


def test_wrong_pkce_verifier_is_refused(sim, http):
    pkce = Pkce.new()
    code = code_for(sim, http, pkce, launch=ehr_launch(sim, http))

    response = exchange(sim, http, code, Pkce(Pkce.new().verifier, pkce.challenge))

    assert (response.status_code, response.json()["error"]) == (400, "invalid_grant")


def test_plain_pkce_is_refused_at_authorize(sim, http):
    pkce = Pkce.new()

    params = redirect_params(authorize(sim, http, pkce, code_challenge_method="plain"))

    assert params["error"] == "invalid_request"
    assert "S256" in params["error_description"]


def test_a_code_works_once(sim, http):
    pkce = Pkce.new()
    code = code_for(sim, http, pkce, launch=ehr_launch(sim, http))
    assert exchange(sim, http, code, pkce).status_code == 200

    replay = exchange(sim, http, code, pkce)

    assert (replay.status_code, replay.json()["error"]) == (400, "invalid_grant")


def test_unregistered_redirect_uri_gets_an_error_page_not_a_redirect(sim, http):
    response = authorize(sim, http, Pkce.new(), redirect_uri="https://attacker.example/cb")

    assert response.status_code == 400
    assert "location" not in response.headers
    assert "redirect_uri" in response.text


def test_unknown_client_gets_an_error_page(sim, http):
    response = authorize(sim, http, Pkce.new(), client_id="who-is-this")

    assert response.status_code == 400
    assert "location" not in response.headers


def test_redirect_uri_must_match_again_at_the_token_endpoint(sim, http):
    pkce = Pkce.new()
    code = code_for(sim, http, pkce, launch=ehr_launch(sim, http))

    response = exchange(sim, http, code, pkce, form={"redirect_uri": "http://127.0.0.1:9/other"})

    assert (response.status_code, response.json()["error"]) == (400, "invalid_grant")


def test_aud_other_than_the_fhir_base_is_refused(sim, http):
    params = redirect_params(authorize(sim, http, Pkce.new(), aud="https://other.example/fhir"))

    assert params["error"] == "invalid_request"
    assert params["state"] == "st-123"


def test_unknown_launch_is_refused(sim, http):
    params = redirect_params(authorize(sim, http, Pkce.new(), launch="made-up"))

    assert params["error"] == "invalid_request"


def test_scope_the_server_cannot_grant_is_refused(sim, http):
    params = redirect_params(
        authorize(sim, http, Pkce.new(), scope="patient/Observation.rs?category=laboratory")
    )

    assert params["error"] == "invalid_scope"


def test_expired_code_is_refused():
    with (
        SimServer(SimSettings(patients=3, code_seconds=1), registry()) as short,
        httpx.Client(follow_redirects=False) as http,
    ):
        pkce = Pkce.new()
        code = code_for(short, http, pkce, launch=ehr_launch(short, http))
        time.sleep(1.1)

        response = exchange(short, http, code, pkce)

    assert (response.status_code, response.json()["error"]) == (400, "invalid_grant")
    assert "expired" in response.json()["error_description"]


def test_wrong_client_secret_is_refused_with_401(sim, http):
    pkce = Pkce.new()
    code = code_for(sim, http, pkce, client_id="app-secret", launch=ehr_launch(sim, http))

    response = exchange(sim, http, code, pkce, client_id="", auth=("app-secret", "wrong"))

    assert (response.status_code, response.json()["error"]) == (401, "invalid_client")
    assert response.headers["www-authenticate"].startswith("Basic")


def test_confidential_client_cannot_pose_as_public(sim, http):
    pkce = Pkce.new()
    code = code_for(sim, http, pkce, client_id="app-secret", launch=ehr_launch(sim, http))

    response = exchange(sim, http, code, pkce, client_id="app-secret")

    assert (response.status_code, response.json()["error"]) == (401, "invalid_client")


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda sim: assertion(sim, OTHER_KEY, "RS384"), id="unregistered-key"),
        pytest.param(
            lambda sim: assertion(sim, RSA_KEY, "RS384", aud="https://x/token"), id="wrong-aud"
        ),
        pytest.param(
            lambda sim: assertion(sim, RSA_KEY, "RS384", exp=int(time.time()) + 3600),
            id="exp-too-far",
        ),
        pytest.param(
            lambda sim: assertion(sim, RSA_KEY, "RS384", exp=int(time.time()) - 10), id="expired"
        ),
        pytest.param(lambda sim: assertion(sim, RSA_KEY, "RS256"), id="rs256-not-allowed"),
        pytest.param(
            lambda sim: assertion(sim, RSA_KEY, "RS384", sub="someone-else"), id="sub-not-client"
        ),
    ],
)
def test_bad_client_assertions_are_refused(sim, http, make):
    pkce = Pkce.new()
    code = code_for(sim, http, pkce, client_id="app-jwt", launch=ehr_launch(sim, http))

    response = exchange(sim, http, code, pkce, client_id="", form=assertion_form(make(sim)))

    assert (response.status_code, response.json()["error"]) == (401, "invalid_client")


def test_a_client_assertion_cannot_be_replayed(sim, http):
    token = assertion(sim, RSA_KEY, "RS384")
    pkce_one, pkce_two = Pkce.new(), Pkce.new()
    first = code_for(sim, http, pkce_one, client_id="app-jwt", launch=ehr_launch(sim, http))
    second = code_for(sim, http, pkce_two, client_id="app-jwt", launch=ehr_launch(sim, http))

    assert (
        exchange(sim, http, first, pkce_one, client_id="", form=assertion_form(token)).status_code
        == 200
    )
    replay = exchange(sim, http, second, pkce_two, client_id="", form=assertion_form(token))

    assert (replay.status_code, replay.json()["error"]) == (401, "invalid_client")


@pytest.mark.parametrize(
    "body",
    [
        {"user": "Practitioner/prac-00001", "patient": "nobody"},
        {"user": "Practitioner/nobody"},
        {"user": "Practitioner/prac-00001", "encounter": "nothing"},
        {"user": "Practitioner/prac-00001", "colour": "blue"},
    ],
)
def test_launch_creation_refuses_what_the_ehr_does_not_have(sim, http, body):
    response = http.post(f"{sim.base_url}/_sim/launches", json=body)

    assert response.status_code == 400
