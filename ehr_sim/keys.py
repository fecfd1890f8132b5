"""The simulated EHR's signing key for id_tokens, published at its JWKS endpoint.

A new RSA key per process: the simulator has no state worth keeping across restarts.
"""

from __future__ import annotations

import secrets
from typing import Any

from joserfc import jwt
from joserfc.jwk import RSAKey

SIGNING_ALGORITHM = "RS256"  # OpenID Connect Core 1.0 section 3.1.3.7: RS256 by default


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
