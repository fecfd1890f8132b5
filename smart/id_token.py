"""Checking the id_token before believing who the user is (OpenID Connect Core 1.0, 3.1.3.7).

SMART App Launch 2.x, "Scopes for requesting identity data": with ``openid fhirUser`` the
token response carries an id_token whose ``fhirUser`` claim names the user's FHIR resource.
The app records that identity on every flag, so the token is verified in full: signature
against the EHR's JWKS, issuer, audience, expiry, issue time and nonce.

Usage::

    claims = await validate_id_token(http, config, token.id_token, client_id="valueloop",
                                     nonce=pending.nonce, jwks_cache=jwks_cache)
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import json
import time
from collections.abc import Callable
from typing import Any, cast

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import Key, KeySet, KeySetSerialization

from smart.discovery import SmartConfiguration
from smart.errors import IdTokenError

__all__ = ["ID_TOKEN_ALGORITHMS", "JwksCache", "validate_id_token"]

# Asymmetric signatures only. OpenID Connect Core 3.1.3.7 step 7: "The alg value SHOULD be
# the default of RS256 or the algorithm sent by the Client in the
# id_token_signed_response_alg parameter during Registration." "none" is never accepted, and
# HS* is refused because a public SMART client has no secret to verify it with.
ID_TOKEN_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"}
)
_KEY_TYPE = {"RS": "RSA", "PS": "RSA", "ES": "EC"}


class JwksCache:
    """The EHR's published keys by JWKS URL, each kept ``ttl_seconds``.

    Keys rotate: when an id_token names a ``kid`` the cached set lacks, ``validate_id_token``
    refetches once before refusing (OpenID Connect Core 10.1.1, "Rotation of Asymmetric
    Signing Keys": the client refetches "when it sees an unfamiliar kid value"). The
    id_token comes straight from the token endpoint over TLS, not from the browser, so
    nobody outside the EHR can force refetches. One fetch per URL at a time.
    """

    def __init__(
        self, ttl_seconds: float = 3600, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._entries: dict[str, tuple[float, KeySet]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def get(
        self,
        http: httpx.AsyncClient,
        url: str,
        *,
        timeout: float = 10,  # noqa: ASYNC109 - httpx's per-request timeout, not a deadline
        refresh: bool = False,
    ) -> KeySet:
        """The key set at ``url``, from the cache unless stale or ``refresh`` is set."""
        fetched_before = self._fresh(url)
        if fetched_before is not None and not refresh:
            return fetched_before[1]
        async with self._locks.setdefault(url, asyncio.Lock()):
            current = self._fresh(url)
            # Someone else fetched while we waited: that fetch is as new as ours would be.
            if current is not None and (not refresh or current is not fetched_before):
                return current[1]
            keys = await _fetch_jwks(http, url, timeout)
            self._entries[url] = (self._clock(), keys)
            return keys

    def _fresh(self, url: str) -> tuple[float, KeySet] | None:
        entry = self._entries.get(url)
        if entry is None or self._clock() - entry[0] >= self.ttl_seconds:
            return None
        return entry


async def _fetch_jwks(http: httpx.AsyncClient, url: str, http_timeout: float) -> KeySet:
    try:
        response = await http.get(url, headers={"Accept": "application/json"}, timeout=http_timeout)
    except httpx.HTTPError as exc:
        raise IdTokenError(f"Could not fetch the EHR's JWKS: {type(exc).__name__}.") from exc
    if not response.is_success:
        raise IdTokenError(f"The EHR's JWKS answered HTTP {response.status_code}.")
    try:
        body = response.json()
        if not isinstance(body, dict) or not isinstance(body.get("keys"), list):
            raise IdTokenError("The EHR's JWKS is not a JSON Web Key Set.")
        # RFC 7517 5: keys of a type we do not understand are skipped, not fatal.
        return KeySet.import_key_set(cast(KeySetSerialization, body))
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise IdTokenError("The EHR's JWKS holds no usable keys.") from exc


def _unverified_header(token: str) -> dict[str, Any]:
    """The JOSE header, read only to choose the key and algorithm; trusted after verify."""
    try:
        encoded = token.split(".")[0]
        header = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    except (IndexError, ValueError) as exc:
        raise IdTokenError("The id_token is not a compact JWS.") from exc
    if not isinstance(header, dict) or token.count(".") != 2:
        raise IdTokenError("The id_token is not a compact JWS.")
    return header


def _signing_key(keys: KeySet, kid: str | None, algorithm: str) -> Key | None:
    """The key to verify with: same ``kid``, a key type that fits ``alg``, not an ``enc``
    key. Without ``kid`` only an unambiguous single candidate will do (OpenID Connect Core
    10.1: "If there are multiple keys in the referenced JWK Set document, a kid value MUST
    be provided in the JOSE Header")."""
    candidates = [
        key
        for key in keys
        if key.key_type == _KEY_TYPE.get(algorithm[:2])
        and key.get("use") in (None, "sig")
        and key.get("alg") in (None, algorithm)
    ]
    if kid is not None:
        candidates = [key for key in candidates if key.kid == kid]
    elif len(candidates) > 1:
        return None
    return candidates[0] if candidates else None


async def validate_id_token(
    http: httpx.AsyncClient,
    config: SmartConfiguration,
    id_token: str,
    *,
    client_id: str,
    nonce: str | None,
    jwks_cache: JwksCache | None = None,
    leeway: int = 60,
    timeout: float = 10,  # noqa: ASYNC109 - httpx's per-request timeout, not a deadline
) -> dict[str, Any]:
    """The id_token's claims once every OpenID Connect Core 3.1.3.7 check passed.

    IdTokenError otherwise. ``nonce`` is the value sent in the authorization request (None
    when none was sent, e.g. for an id_token that comes with a refresh). ``leeway`` seconds
    of clock skew are allowed on ``exp`` and ``iat``.
    """
    header = _unverified_header(id_token)
    algorithm = header.get("alg")
    if not isinstance(algorithm, str) or algorithm not in ID_TOKEN_ALGORITHMS:
        raise IdTokenError("The id_token's signing algorithm is not an accepted one.")
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise IdTokenError("The id_token's kid is not a string.")
    if config.jwks_uri is None:
        # Step 6 asks for a signature check; without a JWKS we cannot make one.
        raise IdTokenError("The EHR publishes no jwks_uri, so its id_token cannot be verified.")
    cache = jwks_cache or JwksCache()
    keys = await cache.get(http, config.jwks_uri, timeout=timeout)
    key = _signing_key(keys, kid, algorithm)
    if key is None:
        keys = await cache.get(http, config.jwks_uri, timeout=timeout, refresh=True)
        key = _signing_key(keys, kid, algorithm)
    if key is None:
        raise IdTokenError("No key in the EHR's JWKS matches the id_token's kid.")

    # Step 6: "the Client MUST validate the signature of all other ID Tokens according to
    # JWS using the algorithm specified in the JWT alg Header Parameter."
    try:
        claims = jwt.decode(id_token, key, algorithms=[algorithm]).claims
    except (JoseError, ValueError) as exc:
        raise IdTokenError("The id_token's signature is not valid.") from exc

    _check_claims(claims, config=config, client_id=client_id, nonce=nonce, leeway=leeway)
    return dict(claims)


def _check_claims(
    claims: dict[str, Any],
    *,
    config: SmartConfiguration,
    client_id: str,
    nonce: str | None,
    leeway: int,
) -> None:
    # Step 2: "The Issuer Identifier for the OpenID Provider ... MUST exactly match the
    # value of the iss (issuer) Claim."
    issuer = claims.get("iss")
    if not isinstance(issuer, str) or (config.issuer is not None and issuer != config.issuer):
        raise IdTokenError("The id_token's iss is not the EHR's issuer.")
    # Step 3: "The Client MUST validate that the aud (audience) Claim contains its client_id
    # value ... The ID Token MUST be rejected if the ID Token does not list the Client as a
    # valid audience".
    audience = claims.get("aud")
    audiences = [audience] if isinstance(audience, str) else audience
    if not isinstance(audiences, list) or client_id not in audiences:
        raise IdTokenError("The id_token's aud does not contain this client_id.")
    # Step 5: "If an azp (authorized party) Claim is present, the Client SHOULD verify that
    # its client_id is the Claim Value."
    if "azp" in claims and claims["azp"] != client_id:
        raise IdTokenError("The id_token's azp is not this client_id.")
    now = time.time()
    # Step 9: "The current time MUST be before the time represented by the exp Claim
    # (possibly allowing for some small leeway to account for clock skew)."
    expires = _number(claims.get("exp"))
    if expires is None or now >= expires + leeway:
        raise IdTokenError("The id_token has expired.")
    # Step 10: "The iat Claim can be used to reject tokens that were issued too far away
    # from the current time": one issued in the future means a broken or forged clock.
    issued = _number(claims.get("iat"))
    if issued is None or issued > now + leeway:
        raise IdTokenError("The id_token's iat is missing or in the future.")
    # Core 2: sub is REQUIRED, "a locally unique and never reassigned identifier".
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise IdTokenError("The id_token has no sub.")
    # Step 11: "If a nonce value was sent in the Authentication Request, a nonce Claim MUST
    # be present and its value checked to verify that it is the same value as the one that
    # was sent". Compared in constant time.
    if nonce is not None:
        received = claims.get("nonce")
        if not isinstance(received, str) or not hmac.compare_digest(
            received.encode(), nonce.encode()
        ):
            raise IdTokenError("The id_token's nonce does not match the authorization request.")


def _number(value: object) -> float | None:
    """A NumericDate (RFC 7519 2): a JSON number, which ``bool`` is not."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
