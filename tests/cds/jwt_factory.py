"""CDS clients for the trust tests: a key pair, its JWK Set, JWTs signed as an EHR would, and a
JWKS server behind ``httpx.MockTransport`` that counts its requests."""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

ISS = "https://ehr.example.org/fhir"
OTHER_ISS = "https://other-ehr.example.org/fhir"
JWKS_URL = "https://ehr.example.org/.well-known/jwks.json"
OTHER_JWKS_URL = "https://other-ehr.example.org/.well-known/jwks.json"
AUDIENCE = "https://valueloop.example.org/cds-services/flag-low-value"
NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Signer:
    key: RSAKey | ECKey
    kid: str
    alg: str

    @classmethod
    def es384(cls, kid: str = "ec-1") -> Signer:
        return cls(ECKey.generate_key("P-384"), kid, "ES384")

    @classmethod
    def rs384(cls, kid: str = "rsa-1") -> Signer:
        return cls(RSAKey.generate_key(2048), kid, "RS384")

    def public_jwk(self) -> dict[str, Any]:
        public = dict(self.key.as_dict(private=False))
        public.update({"kid": self.kid, "use": "sig", "alg": self.alg})
        return public

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.public_jwk()]}

    def sign(self, *, header: dict[str, Any] | None = None, **overrides: Any) -> str:
        """A JWT as CDS Hooks 2.0 describes it; an override of None leaves the claim out."""
        now = int(NOW.timestamp())
        claims: dict[str, Any] = {
            "iss": ISS,
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + 120,
            "jti": secrets.token_urlsafe(16),
        }
        claims.update(overrides)
        claims = {name: value for name, value in claims.items() if value is not None}
        headers = {"alg": self.alg, "kid": self.kid, "typ": "JWT", **(header or {})}
        return jwt.encode(headers, claims, self.key, algorithms=[self.alg])


def unsigned(claims: dict[str, Any], *, kid: str = "ec-1") -> str:
    """``alg: none``: what no library will produce for us, written out by hand."""

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'kid': kid, 'typ': 'JWT'})}.{part(claims)}."


@dataclass
class JwksServer:
    """Serves ``documents`` by URL; ``down`` makes every request fail to connect."""

    documents: dict[str, Any] = field(default_factory=dict)
    status: int = 200
    down: bool = False
    requests: list[str] = field(default_factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(str(request.url))
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        document = self.documents.get(str(request.url))
        if document is None:
            return httpx.Response(404)
        return httpx.Response(self.status, json=document)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self.handle))
