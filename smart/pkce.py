"""Proof Key for Code Exchange (RFC 7636), which SMART App Launch 2.x requires of every app.

The verifier stays on our side (in the pending launch); only its S256 challenge travels
through the browser. A code intercepted on the way back is useless without the verifier.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from authlib.oauth2.rfc7636 import create_s256_code_challenge

__all__ = ["Pkce", "new_pkce"]

# RFC 7636 4.1: "It is RECOMMENDED that the output of a suitable random number generator be
# used to create a 32-octet sequence. The octet sequence is then base64url-encoded to produce
# a 43-octet URL safe string." We take 64 octets (512 bits, 86 characters), inside 43..128.
_VERIFIER_BYTES = 64


@dataclass(frozen=True)
class Pkce:
    """A code verifier and its challenge. The verifier is kept out of ``repr``."""

    verifier: str = field(repr=False)
    challenge: str
    method: str = "S256"

    @classmethod
    def from_verifier(cls, verifier: str) -> Pkce:
        """Rebuild from a stored verifier (the pending launch keeps only the verifier)."""
        challenge: str = create_s256_code_challenge(verifier)
        return cls(verifier=verifier, challenge=challenge)


def new_pkce() -> Pkce:
    """A fresh verifier from ``secrets`` and its S256 challenge.

    RFC 7636 4.1: ``code_verifier = high-entropy cryptographic random STRING using the
    unreserved characters [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~", with a minimum
    length of 43 characters and a maximum length of 128 characters``; base64url without
    padding uses only those characters.
    RFC 7636 4.2: ``S256: code_challenge = BASE64URL-ENCODE(SHA256(ASCII(code_verifier)))``.
    """
    return Pkce.from_verifier(secrets.token_urlsafe(_VERIFIER_BYTES))
