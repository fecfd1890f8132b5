"""The simulated EHR's signing keys, each published at its own JWKS endpoint.

- ``SigningKeys`` signs id_tokens (``/auth/jwks``).
- ``CdsSigningKey`` signs the JWTs the EHR sends with every CDS Hooks call (``/cds/jwks``):
  CDS Hooks 2.0, "Trusting CDS Clients", where "both ES384 and RS384 are RECOMMENDED".

New keys per process: the simulator has no state worth keeping across restarts.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

SIGNING_ALGORITHM = "RS256"  # OpenID Connect Core 1.0 section 3.1.3.7: RS256 by default
CDS_ALGORITHM = "ES384"
# CDS Hooks 2.0 asks for a short-lived JWT; ValueLoop, like SMART, takes five minutes at most.
CDS_JWT_SECONDS = 300


class SigningKeys:
    def __init__(self) -> None:
        self.kid = secrets.token_hex(8)
        self._key = RSAKey.generate_key(
            2048, parameters={"kid": self.kid, "use": "sig", "alg": SIGNING_ALGORITHM}
        )

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self._key.as_dict(private=False)]}

    def sign(self, claims: dict[str, Any]) -> str:
        header = {"alg": SIGNING_ALGORITHM, "kid": self.kid, "typ": "JWT"}
        return jwt.encode(header, claims, self._key)


class CdsSigningKey:
    """The EHR as a CDS client: an ES384 key and the JWTs it signs for each call."""

    def __init__(self) -> None:
        self.kid = f"cds-{secrets.token_hex(8)}"
        self._key = ECKey.generate_key(
            "P-384", parameters={"kid": self.kid, "use": "sig", "alg": CDS_ALGORITHM}
        )

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self._key.as_dict(private=False)]}

    def sign(self, *, iss: str, aud: str) -> str:
        """CDS Hooks 2.0 "Trusting CDS Clients": header ``alg``, ``kid``, ``typ: JWT``; claims
        ``iss`` (the EHR), ``aud`` (the URL of the service endpoint called), ``exp``, ``iat``
        and a unique ``jti``. No ``jku``: the service knows where our keys are from its
        registration, and a service that allow-lists ``jku`` need not be told twice."""
        now = int(time.time())
        claims = {
            "iss": iss,
            "aud": aud,
            "iat": now,
            "exp": now + CDS_JWT_SECONDS,
            "jti": secrets.token_urlsafe(16),
        }
        header = {"alg": CDS_ALGORITHM, "kid": self.kid, "typ": "JWT"}
        return jwt.encode(header, claims, self._key, algorithms=[CDS_ALGORITHM])
