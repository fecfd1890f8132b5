"""The whole launch, end to end, against the simulated EHR over real HTTP: discovery,
authorize (driven as a browser would), code exchange for each kind of client, id_token,
launch context, refresh, and the EHR's refusals."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from joserfc.jwk import ECKey, RSAKey

from ehr_sim.clients import ClientKind, ClientRegistration, ClientRegistry
from ehr_sim.config import SimSettings
from ehr_sim.server import SimServer
from smart import (
    AuthorizationDenied,
    ClientAuth,
    ClientSecretBasic,
    DiscoveryCache,
    IdTokenError,
    JwksCache,
    LaunchContext,
    PendingAuthorization,
    Pkce,
    PrivateKeyJwt,
    PublicClient,
    RefreshUnavailableError,
    SmartConfiguration,
    TokenRequestError,
    TokenResponse,
    accept_callback,
    authorize_url,
    discover,
    exchange_code,
    launch_context,
    new_nonce,
    new_pkce,
    new_state,
    parse_authorization_response,
    refresh,
    requested_scopes,
    validate_id_token,
)
from tests.smart.factories import MemoryStateStore

REDIRECT = "http://127.0.0.1:9/launch/callback"
SECRET = "symmetric secret: for tests only"
RSA_KEY = RSAKey.generate_key(2048, parameters={"kid": "valueloop-rsa-1"})
EC_KEY = ECKey.generate_key("P-384", parameters={"kid": "valueloop-ec-1"})
USER = "Practitioner/prac-00001"
RESOURCES = ("Patient", "Encounter", "ServiceRequest", "MedicationRequest", "Condition")


def registry() -> ClientRegistry:
    public_jwks = {"keys": [RSA_KEY.as_dict(private=False), EC_KEY.as_dict(private=False)]}
    return ClientRegistry(
        [
            ClientRegistration(client_id="vl-public", name="Public", redirect_uris=[REDIRECT]),
            ClientRegistration(
                client_id="vl-symmetric",
                name="Symmetric",
                kind=ClientKind.SYMMETRIC,
                client_secret=SECRET,
                redirect_uris=[REDIRECT],
            ),
            ClientRegistration(
                client_id="vl-asymmetric",
                name="Asymmetric",
                kind=ClientKind.ASYMMETRIC,
                jwks=public_jwks,
                redirect_uris=[REDIRECT],
            ),
        ]
    )


@pytest.fixture(scope="module")
def sim() -> Iterator[SimServer]:
    with SimServer(SimSettings(patients=12), registry()) as server:
        yield server


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    # One client for the app's calls and the "browser": it never follows redirects, so the
    # test reads the code from the Location header, as the app's callback would receive it.
    async with httpx.AsyncClient(timeout=10, follow_redirects=False) as client:
        yield client


def patient_and_encounter(sim: SimServer) -> tuple[str, str]:
    encounter = next(sim.state.store.all("Encounter"))
    return encounter["subject"]["reference"].split("/")[1], encounter["id"]


async def ehr_launch(sim: SimServer, http: httpx.AsyncClient, **context: Any) -> str:
    """What the EHR does when the clinician clicks the app: bind a launch id to context."""
    patient, encounter = patient_and_encounter(sim)
    body = {"user": USER, "patient": patient, "encounter": encounter, **context}
    response = await http.post(f"{sim.base_url}/_sim/launches", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["launch"])


@dataclass(frozen=True, kw_only=True)
class PendingLaunch(PendingAuthorization):
    """What this app keeps of a launch in flight, beyond what the callback check needs."""

    iss: str
    requested_scopes: tuple[str, ...]


@dataclass
class Launched:
    config: SmartConfiguration
    pending: PendingLaunch
    token: TokenResponse
    claims: dict[str, Any]
    context: LaunchContext


@dataclass
class App:
    """The app's side of the launch, written with smart/ only, as app/launch will be."""

    sim: SimServer
    http: httpx.AsyncClient
    auth: ClientAuth
    store: MemoryStateStore[PendingLaunch] = field(default_factory=MemoryStateStore)
    discovery: DiscoveryCache = field(default_factory=DiscoveryCache)
    jwks: JwksCache = field(default_factory=JwksCache)

    async def start(
        self,
        *,
        launch: str | None,
        extra: Sequence[str] = ("openid", "fhirUser"),
        scopes: Sequence[str] | None = None,
        config: SmartConfiguration | None = None,
    ) -> tuple[SmartConfiguration, PendingLaunch, str]:
        iss = self.sim.fhir_base
        config = config or await discover(self.http, iss, cache=self.discovery)
        pkce = new_pkce()
        if scopes is None:
            scopes = requested_scopes(
                config, ehr_launch=launch is not None, resources=RESOURCES, extra=extra
            )
        pending = PendingLaunch(
            state=new_state(),
            iss=iss,
            pkce_verifier=pkce.verifier,
            nonce=new_nonce(),
            redirect_uri=REDIRECT,
            requested_scopes=tuple(scopes),
            browser_binding_hash=None,
            expires_at=datetime.now(UTC) + timedelta(minutes=10),
        )
        await self.store.save(pending)
        url = authorize_url(
            config,
            client_id=self.auth.client_id,
            redirect_uri=REDIRECT,
            scopes=scopes,
            state=pending.state,
            aud=iss,
            pkce=pkce,
            launch=launch,
            nonce=pending.nonce,
        )
        return config, pending, url

    async def browser(self, url: str) -> dict[str, str]:
        """The browser at the EHR: signed in, consents, is redirected back with a code."""
        response = await self.http.get(url)
        assert response.status_code == 302, response.text
        location = response.headers["location"]
        assert location.startswith(REDIRECT + "?")
        return dict(parse_qsl(urlsplit(location).query))

    async def callback(self, config: SmartConfiguration, params: dict[str, str]) -> Launched:
        callback = await accept_callback(
            self.store, params, browser_binding=None, now=datetime.now(UTC)
        )
        pending = callback.pending
        token = await exchange_code(
            self.http,
            config,
            self.auth,
            code=callback.code,
            redirect_uri=pending.redirect_uri,
            pkce=Pkce.from_verifier(pending.pkce_verifier),
        )
        assert token.id_token is not None
        claims = await validate_id_token(
            self.http,
            config,
            token.id_token,
            client_id=self.auth.client_id,
            nonce=pending.nonce,
            jwks_cache=self.jwks,
        )
        context = launch_context(
            token, claims, fhir_base=pending.iss, requested=pending.requested_scopes
        )
        return Launched(config, pending, token, claims, context)

    async def launch(self, *, launch: str | None, **kwargs: Any) -> Launched:
        sim_patient = kwargs.pop("sim_patient", None)
        config, _, url = await self.start(launch=launch, **kwargs)
        if sim_patient is not None:
            url += f"&sim_patient={sim_patient}"  # sim-only: preselects the picker's patient
        return await self.callback(config, await self.browser(url))

    async def read(self, token: TokenResponse, path: str) -> httpx.Response:
        return await self.http.get(
            f"{self.sim.fhir_base}/{path}",
            headers={"Authorization": f"Bearer {token.access_token}"},
        )


def asymmetric(algorithm: str) -> PrivateKeyJwt:
    key = RSA_KEY if algorithm == "RS384" else EC_KEY
    return PrivateKeyJwt(
        "vl-asymmetric",
        private_key=key,
        kid=str(key.kid),
        algorithm="RS384" if algorithm == "RS384" else "ES384",
    )


# --- discovery ----------------------------------------------------------------------------


async def test_discovery_reads_the_sims_smart_configuration(sim, http):
    config = await discover(http, sim.fhir_base)

    assert config.issuer == sim.fhir_base
    assert config.authorization_endpoint == f"{sim.base_url}/auth/authorize"
    assert config.token_endpoint == f"{sim.base_url}/auth/token"
    assert config.jwks_uri == f"{sim.base_url}/auth/jwks"
    assert config.code_challenge_methods_supported == frozenset({"S256"})
    assert config.supports_v2_scopes


async def test_the_metadata_fallback_finds_the_same_endpoints_in_the_capability_statement(
    sim, http
):
    metadata = (await http.get(f"{sim.fhir_base}/metadata")).json()

    fallback = SmartConfiguration.from_capability_statement(metadata)
    config = await discover(http, sim.fhir_base)

    assert fallback.authorization_endpoint == config.authorization_endpoint
    assert fallback.token_endpoint == config.token_endpoint


# --- EHR launch, each kind of client ------------------------------------------------------


async def test_public_client_completes_an_ehr_launch(sim, http):
    app = App(sim, http, PublicClient("vl-public"))
    patient, encounter = patient_and_encounter(sim)

    launched = await app.launch(launch=await ehr_launch(sim, http))

    context = launched.context
    assert (context.patient, context.encounter) == (patient, encounter)
    assert context.fhir_user == USER
    assert (context.fhir_user_type, context.fhir_user_id) == ("Practitioner", "prac-00001")
    assert context.need_patient_banner is True
    for resource_type in RESOURCES:
        assert context.granted.allows_read(resource_type)
    assert launched.claims["nonce"] == launched.pending.nonce
    assert launched.token.expires_at is not None
    assert launched.token.refresh_token is None
    # The token works on the FHIR API, for the launch patient.
    assert (await app.read(launched.token, f"Patient/{patient}")).status_code == 200


async def test_public_client_without_offline_access_cannot_refresh(sim, http):
    app = App(sim, http, PublicClient("vl-public"))
    launched = await app.launch(launch=await ehr_launch(sim, http))

    with pytest.raises(RefreshUnavailableError):
        await refresh(http, launched.config, app.auth, refresh_token=launched.token.refresh_token)


async def test_confidential_symmetric_client_launches_and_refreshes(sim, http):
    app = App(sim, http, ClientSecretBasic("vl-symmetric", SECRET))
    launched = await app.launch(
        launch=await ehr_launch(sim, http), extra=("openid", "fhirUser", "offline_access")
    )
    assert "offline_access" in launched.context.granted
    first_refresh = launched.token.refresh_token

    renewed = await refresh(http, launched.config, app.auth, refresh_token=first_refresh)

    assert renewed.access_token != launched.token.access_token
    assert renewed.refresh_token not in (None, first_refresh)  # the sim rotates
    assert renewed.raw_context["patient"] == launched.context.patient
    assert (await app.read(renewed, f"Patient/{launched.context.patient}")).status_code == 200
    assert renewed.id_token is not None
    claims = await validate_id_token(
        http, launched.config, renewed.id_token, client_id="vl-symmetric", nonce=None
    )
    assert claims["fhirUser"].endswith(USER)
    # The rotated-out refresh token is spent: only a new launch helps now.
    with pytest.raises(RefreshUnavailableError):
        await refresh(http, launched.config, app.auth, refresh_token=first_refresh)


@pytest.mark.parametrize("algorithm", ["RS384", "ES384"])
async def test_confidential_asymmetric_client_launches_and_refreshes(sim, http, algorithm):
    app = App(sim, http, asymmetric(algorithm))

    launched = await app.launch(
        launch=await ehr_launch(sim, http), extra=("openid", "fhirUser", "offline_access")
    )
    renewed = await refresh(
        http, launched.config, app.auth, refresh_token=launched.token.refresh_token
    )

    assert launched.context.fhir_user == USER
    assert (await app.read(renewed, f"Patient/{launched.context.patient}")).status_code == 200


async def test_refresh_can_narrow_the_grant(sim, http):
    app = App(sim, http, ClientSecretBasic("vl-symmetric", SECRET))
    launched = await app.launch(
        launch=await ehr_launch(sim, http), extra=("openid", "fhirUser", "offline_access")
    )

    renewed = await refresh(
        http,
        launched.config,
        app.auth,
        refresh_token=launched.token.refresh_token,
        scope="offline_access patient/Patient.rs",
    )

    granted = launch_context(
        renewed, None, fhir_base=sim.fhir_base, requested=launched.pending.requested_scopes
    ).granted
    assert granted.allows_read("Patient")
    assert not granted.allows_read("ServiceRequest")


# --- context, standalone, v1 --------------------------------------------------------------


async def test_the_ehrs_context_passes_through_to_the_launch_context(sim, http):
    app = App(sim, http, PublicClient("vl-public"))
    launch = await ehr_launch(
        sim,
        http,
        fhir_context=[{"reference": "ServiceRequest/sr-1"}, {"reference": "Encounter/e-9"}],
        need_patient_banner=False,
        smart_style_url="https://ehr.example.org/smart-style.json",
        tenant="north",
        intent="order-review",
    )

    context = (await app.launch(launch=launch)).context

    assert context.fhir_context == ("ServiceRequest/sr-1", "Encounter/e-9")
    assert context.need_patient_banner is False
    assert context.smart_style_url == "https://ehr.example.org/smart-style.json"
    assert context.tenant == "north"
    assert context.intent == "order-review"


async def test_standalone_launch_gets_the_patient_the_user_picked(sim, http):
    app = App(sim, http, PublicClient("vl-public"))
    patient, _ = patient_and_encounter(sim)

    launched = await app.launch(launch=None, sim_patient=patient)

    assert launched.pending.requested_scopes[0] == "launch/patient"
    assert launched.context.patient == patient
    assert launched.context.encounter is None
    assert launched.context.fhir_user is not None
    assert (await app.read(launched.token, f"Patient/{patient}")).status_code == 200


async def test_v1_scopes_work_for_an_ehr_that_does_not_advertise_v2(sim, http):
    app = App(sim, http, PublicClient("vl-public"))
    discovered = await discover(http, sim.fhir_base)
    v1_only = replace(
        discovered,
        capabilities=discovered.capabilities - {"permission-v2"},
        scopes_supported=frozenset(
            scope for scope in discovered.scopes_supported if not scope.endswith(".rs")
        ),
    )

    launched = await app.launch(launch=await ehr_launch(sim, http), config=v1_only)

    assert "patient/ServiceRequest.read" in launched.pending.requested_scopes
    assert launched.context.granted.allows_read("ServiceRequest")
    patient = launched.context.patient
    response = await app.read(launched.token, f"ServiceRequest?patient={patient}")
    assert response.status_code == 200


# --- refusals -----------------------------------------------------------------------------


async def test_a_refused_authorization_comes_back_as_authorization_denied(sim, http):
    app = App(sim, http, PublicClient("vl-public"))
    _, pending, url = await app.start(
        launch=await ehr_launch(sim, http), scopes=["nothing/this.ehr.grants"]
    )

    params = await app.browser(url)
    with pytest.raises(AuthorizationDenied) as caught:
        parse_authorization_response(params)

    assert caught.value.error == "invalid_scope"
    assert caught.value.state == pending.state
    assert await app.store.take(pending.state) == pending


async def test_a_code_cannot_be_exchanged_twice(sim, http):
    app = App(sim, http, PublicClient("vl-public"))
    config, pending, url = await app.start(launch=await ehr_launch(sim, http))
    answer = parse_authorization_response(await app.browser(url))
    pkce = Pkce.from_verifier(pending.pkce_verifier)

    async def exchange() -> TokenResponse:
        return await exchange_code(
            http, config, app.auth, code=answer.code, redirect_uri=REDIRECT, pkce=pkce
        )

    await exchange()
    with pytest.raises(TokenRequestError) as caught:
        await exchange()

    assert (caught.value.error, caught.value.status) == ("invalid_grant", 400)
    assert answer.code not in str(caught.value)


async def test_a_wrong_pkce_verifier_is_refused(sim, http):
    app = App(sim, http, PublicClient("vl-public"))
    config, _, url = await app.start(launch=await ehr_launch(sim, http))
    answer = parse_authorization_response(await app.browser(url))

    with pytest.raises(TokenRequestError) as caught:
        await exchange_code(
            http, config, app.auth, code=answer.code, redirect_uri=REDIRECT, pkce=new_pkce()
        )

    assert caught.value.error == "invalid_grant"


async def test_a_wrong_client_secret_is_invalid_client(sim, http):
    app = App(sim, http, ClientSecretBasic("vl-symmetric", "not the secret"))
    config, pending, url = await app.start(launch=await ehr_launch(sim, http))
    answer = parse_authorization_response(await app.browser(url))

    with pytest.raises(TokenRequestError) as caught:
        await exchange_code(
            http,
            config,
            app.auth,
            code=answer.code,
            redirect_uri=REDIRECT,
            pkce=Pkce.from_verifier(pending.pkce_verifier),
        )

    assert (caught.value.error, caught.value.status) == ("invalid_client", 401)
    assert "not the secret" not in str(caught.value)


async def test_an_id_token_for_another_client_is_refused_by_the_app(sim, http):
    app = App(sim, http, PublicClient("vl-public"))
    launched = await app.launch(launch=await ehr_launch(sim, http))

    with pytest.raises(IdTokenError, match="aud"):
        await validate_id_token(
            http,
            launched.config,
            str(launched.token.id_token),
            client_id="vl-symmetric",
            nonce=launched.pending.nonce,
        )


@pytest.mark.parametrize(
    ("fault", "error", "status"),
    [
        ({"service_unavailable": 1}, "temporarily_unavailable", 503),
        ({"malformed_json": 1}, "invalid_response", 200),
    ],
    ids=["503", "cut-short"],
)
async def test_token_endpoint_faults_are_token_request_errors(sim, http, fault, error, status):
    app = App(sim, http, PublicClient("vl-public"))
    config, pending, url = await app.start(launch=await ehr_launch(sim, http))
    answer = parse_authorization_response(await app.browser(url))
    assert (await http.put(f"{sim.base_url}/_sim/faults", json=fault)).status_code == 200

    try:
        with pytest.raises(TokenRequestError) as caught:
            await exchange_code(
                http,
                config,
                app.auth,
                code=answer.code,
                redirect_uri=REDIRECT,
                pkce=Pkce.from_verifier(pending.pkce_verifier),
            )
    finally:
        await http.put(f"{sim.base_url}/_sim/faults", json={})

    assert (caught.value.error, caught.value.status) == (error, status)
