"""How the app proves who it is at the token endpoint (SMART App Launch 2.x, "Client
Authentication"; RFC 6749 2.3).

One object per registration kind, each adding what its method needs to the token request:

- ``PublicClient``: no secret, only ``client_id`` in the form (RFC 6749 4.1.3);
- ``ClientSecretBasic``: HTTP Basic with the client secret (RFC 6749 2.3.1; SMART
  "Client Authentication: Symmetric");
- ``PrivateKeyJwt``: a signed, single-use assertion (RFC 7523; SMART "Client
  Authentication: Asymmetric"), the method SMART recommends for confidential apps.

Usage::

    auth = PrivateKeyJwt("valueloop", private_key=RSAKey.import_key(pem), kid="key-2025")
    token = await exchange_code(http, config, auth, code=..., redirect_uri=..., pkce=...)
"""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol
from urllib.parse import quote

from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

__all__ = [
    "ASSERTION_TYPE",
    "ClientAuth",
    "ClientSecretBasic",
    "PrivateKeyJwt",
    "PublicClient",
]

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# SMART "Client Authentication: Asymmetric": "exp ... no more than five minutes in the future".
MAX_ASSERTION_LIFETIME_SECONDS = 300


class ClientAuth(Protocol):
    """Adds client authentication to a token request's form and headers, in place."""

    @property
    def client_id(self) -> str: ...

    def apply(self, token_endpoint: str, form: dict[str, str], headers: dict[str, str]) -> None: ...


@dataclass(frozen=True)
class PublicClient:
    """A client with no credentials (a browser or native app, or a server without one).

    RFC 6749 4.1.3: ``client_id`` is "REQUIRED, if the client is not authenticating with
    the authorization server". PKCE is what protects its codes.
    """

    client_id: str

    def apply(self, token_endpoint: str, form: dict[str, str], headers: dict[str, str]) -> None:
        form["client_id"] = self.client_id


@dataclass(frozen=True)
class ClientSecretBasic:
    """HTTP Basic with a shared secret.

    RFC 6749 2.3.1: "The client identifier is encoded using the
    application/x-www-form-urlencoded encoding algorithm ..., and the encoded value is used
    as the username; the client password is encoded using the same algorithm and used as
    the password." We percent-encode every reserved character (``quote(safe="")``): a space
    becomes ``%20`` rather than ``+``, which every form decoder reads back the same, while a
    bare ``+`` would turn into a space for decoders that use ``unquote``. The secret is kept
    out of ``repr``.
    """

    client_id: str
    client_secret: str = field(repr=False)

    def apply(self, token_endpoint: str, form: dict[str, str], headers: dict[str, str]) -> None:
        # RFC 6749 2.3: "The client MUST NOT use more than one authentication method in each
        # request", so no client_id or client_secret in the form.
        user = f"{quote(self.client_id, safe='')}:{quote(self.client_secret, safe='')}"
        headers["Authorization"] = "Basic " + base64.b64encode(user.encode()).decode("ascii")


Algorithm = Literal["RS384", "ES384"]


@dataclass(frozen=True)
class PrivateKeyJwt:
    """A signed client assertion per request (SMART "Client Authentication: Asymmetric").

    SMART requires the EHR to support RS384 and ES384 (on P-384), so those are the two we
    sign with. The EHR fetches or holds our public key (registered JWKS or ``jku``) and
    finds it by ``kid``. Each assertion has a fresh ``jti``, because the EHR refuses a
    ``jti`` it has seen. The private key is kept out of ``repr``.
    """

    client_id: str
    private_key: RSAKey | ECKey = field(repr=False)
    kid: str
    algorithm: Algorithm = "RS384"
    lifetime_seconds: int = MAX_ASSERTION_LIFETIME_SECONDS
    clock: Callable[[], float] = field(default=time.time, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.algorithm == "RS384" and not isinstance(self.private_key, RSAKey):
            raise ValueError("RS384 needs an RSA private key")
        if self.algorithm == "ES384" and not (
            isinstance(self.private_key, ECKey) and self.private_key.curve_name == "P-384"
        ):
            raise ValueError("ES384 needs an EC private key on the P-384 curve")
        if self.algorithm not in ("RS384", "ES384"):
            raise ValueError(f"unsupported client assertion algorithm {self.algorithm!r}")
        if not self.private_key.is_private:
            raise ValueError("the client assertion key must be a private key")
        if not 0 < self.lifetime_seconds <= MAX_ASSERTION_LIFETIME_SECONDS:
            raise ValueError("the assertion lifetime must be 1..300 seconds (SMART: 5 minutes)")
        if not self.kid:
            raise ValueError("kid is required: the EHR finds our public key by it")

    def assertion(self, token_endpoint: str) -> str:
        """A fresh signed assertion for ``token_endpoint``.

        SMART "Client Authentication: Asymmetric", "Authentication JWT":
        header ``alg``, ``kid``, ``typ: JWT``; claims ``iss`` and ``sub`` = client_id,
        ``aud`` = the token endpoint URL, ``exp`` at most five minutes ahead, ``jti`` "a
        nonce string value that uniquely identifies this authentication JWT".
        """
        now = int(self.clock())
        header = {"alg": self.algorithm, "kid": self.kid, "typ": "JWT"}
        claims = {
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": token_endpoint,
            "iat": now,
            "exp": now + self.lifetime_seconds,
            "jti": secrets.token_urlsafe(32),
        }
        return jwt.encode(header, claims, self.private_key, algorithms=[self.algorithm])

    def apply(self, token_endpoint: str, form: dict[str, str], headers: dict[str, str]) -> None:
        # RFC 7523 2.2 / SMART: client_assertion_type and client_assertion in the form.
        form["client_assertion_type"] = ASSERTION_TYPE
        form["client_assertion"] = self.assertion(token_endpoint)
