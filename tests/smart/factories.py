"""Plain factory functions for the smart/ tests; keyword arguments override any field."""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any, Generic, TypeVar

import httpx
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from smart import PendingAuthorization, SmartConfiguration, TokenResponse

ISS = "https://ehr.example.org/fhir"
AUTHORIZE = "https://ehr.example.org/auth/authorize"
TOKEN = "https://ehr.example.org/auth/token"
JWKS = "https://ehr.example.org/auth/jwks"
CLIENT_ID = "valueloop"
REDIRECT_URI = "https://valueloop.example.org/launch/callback"

Handler = (
    Callable[[httpx.Request], httpx.Response]
    | Callable[[httpx.Request], Coroutine[None, None, httpx.Response]]
)


def smart_configuration(**overrides: Any) -> SmartConfiguration:
    config = SmartConfiguration(
        issuer=ISS,
        authorization_endpoint=AUTHORIZE,
        token_endpoint=TOKEN,
        jwks_uri=JWKS,
        introspection_endpoint=None,
        capabilities=frozenset({"launch-ehr", "permission-v2", "sso-openid-connect"}),
        scopes_supported=frozenset({"openid", "fhirUser", "launch", "patient/*.rs"}),
        code_challenge_methods_supported=frozenset({"S256"}),
        token_endpoint_auth_methods_supported=frozenset({"private_key_jwt"}),
    )
    return replace(config, **overrides)


def well_known_document(**overrides: Any) -> dict[str, Any]:
    return {
        "issuer": ISS,
        "jwks_uri": JWKS,
        "authorization_endpoint": AUTHORIZE,
        "token_endpoint": TOKEN,
        "introspection_endpoint": "https://ehr.example.org/auth/introspect",
        "token_endpoint_auth_methods_supported": ["private_key_jwt", "client_secret_basic"],
        "scopes_supported": ["openid", "fhirUser", "launch", "patient/*.rs"],
        "code_challenge_methods_supported": ["S256"],
        "capabilities": ["launch-ehr", "launch-standalone", "permission-v2"],
        **overrides,
    }


def capability_statement(authorize: str = AUTHORIZE, token: str = TOKEN) -> dict[str, Any]:
    return {
        "resourceType": "CapabilityStatement",
        "rest": [
            {
                "mode": "server",
                "security": {
                    "extension": [
                        {
                            "url": (
                                "http://fhir-registry.smarthealthit.org"
                                "/StructureDefinition/oauth-uris"
                            ),
                            "extension": [
                                {"url": "authorize", "valueUri": authorize},
                                {"url": "token", "valueUri": token},
                            ],
                        }
                    ]
                },
            }
        ],
    }


def token_response(**overrides: Any) -> TokenResponse:
    raw_context = overrides.pop("raw_context", {"patient": "pat-1", "encounter": "enc-1"})
    response = TokenResponse(
        access_token="opaque-access-token",
        token_type="Bearer",
        expires_at=None,
        refresh_token=None,
        scope="launch openid fhirUser patient/ServiceRequest.rs",
        id_token=None,
        raw_context=MappingProxyType(dict(raw_context)),
    )
    return replace(response, **overrides)


STARTED = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


def pending_authorization(**overrides: Any) -> PendingAuthorization:
    pending = PendingAuthorization(
        state="state-1",
        pkce_verifier="v" * 64,
        nonce="nonce-1",
        redirect_uri=REDIRECT_URI,
        browser_binding_hash=None,
        expires_at=STARTED + timedelta(minutes=10),
    )
    return replace(pending, **overrides)


P = TypeVar("P", bound=PendingAuthorization)


class MemoryStateStore(Generic[P]):
    """A ``StateStore`` in this process's memory: what the protocol asks of the app's
    database tables, and nothing more."""

    def __init__(self) -> None:
        self.pending: dict[str, P] = {}

    async def save(self, pending: P) -> None:
        assert pending.state not in self.pending, "a state is issued once"
        self.pending[pending.state] = pending

    async def take(self, state: str) -> P | None:
        # No await between the lookup and the delete: atomic within the event loop.
        return self.pending.pop(state, None)


def mock_http(handler: Handler) -> httpx.AsyncClient:
    """An AsyncClient whose every request is answered by ``handler``."""
    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


def id_token_claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISS,
        "sub": "prac-1",
        "aud": CLIENT_ID,
        "iat": now,
        "exp": now + 300,
        "nonce": "nonce-1",
        "fhirUser": f"{ISS}/Practitioner/prac-1",
    }
    claims.update(overrides)
    return {key: value for key, value in claims.items() if value is not None}


def sign_id_token(
    key: RSAKey | ECKey,
    *,
    algorithm: str = "RS256",
    header: dict[str, Any] | None = None,
    **claims: Any,
) -> str:
    protected = {"alg": algorithm, "kid": key.kid, "typ": "JWT", **(header or {})}
    return jwt.encode(protected, id_token_claims(**claims), key, algorithms=[algorithm])
