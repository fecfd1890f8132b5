"""Who is calling a CDS Hooks service: the signed JWT every call carries, checked.

CDS Hooks 2.0, "Trusting CDS Clients": "Each time a CDS Client transmits a request to a CDS
Service, the request MUST include an ``Authorization`` header presenting the JWT as a
'Bearer' token", signed with the client's private key (RFC 7515). Header ``alg``, ``kid``,
``typ: JWT``, optional ``jku``; payload ``iss``, ``aud``, ``exp``, ``iat``, ``jti``, optional
``tenant``. :func:`verify_cds_jwt` checks each in turn and raises a
:class:`~app.cds.errors.CdsUnauthorized` naming the first thing wrong.

Usage::

    caller = await verify_cds_jwt(
        token, audience=f"{settings.base_url}/cds-services/flag-low-value",
        session=session, http=http, now=utcnow(), jwks_cache=JWKS_CACHE,
    )
    caller.iss, caller.tenant
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

import httpx
from joserfc import jws, jwt
from joserfc.errors import BadSignatureError, JoseError
from sqlalchemy.ext.asyncio import AsyncSession

from app.cds import repository
from app.cds.clients import KNOWN_CLIENTS, KnownClient, normalize_iss
from app.cds.errors import (
    BadCdsSignature,
    CdsAlgorithmNotAllowed,
    CdsJkuNotAllowed,
    CdsTokenExpired,
    CdsTokenNotYetValid,
    CdsTokenTooLongLived,
    MalformedCdsToken,
    MissingCdsClaim,
    ReplayedCdsToken,
    UnknownCdsClient,
    UnknownCdsSigningKey,
    WrongCdsAudience,
)
from app.cds.jwks import JwksCache, PublicKey
from app.cds.models import JTI_MAX_LENGTH
from app.organizations.models import Organization

__all__ = ["ALLOWED_ALGORITHMS", "TrustedCaller", "verify_cds_jwt"]

# "JWTs SHALL NOT be signed used the ``none`` algorithm" and "SHALL NOT be signed using any
# symmetric algorithm"; "both ES384 and RS384 are RECOMMENDED". An allow-list, so that a
# header naming anything else (none, HS256, a typo) is refused before any key is touched.
ALLOWED_ALGORITHMS = frozenset(
    {"ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}
)
LEEWAY = timedelta(seconds=60)
# Our limit, the one SMART sets for its authentication JWTs ("exp ... no more than five
# minutes in the future"): the spec only requires exp, and a long-lived token is a long
# replay window and a long list of jti values to remember.
MAX_LIFETIME = timedelta(minutes=5)
MAX_TOKEN_BYTES = 16 * 1024


@dataclass(frozen=True)
class TrustedCaller:
    """A CDS client whose JWT passed every check. ``tenant`` is the healthcare organization
    the client says it calls for ("an opaque string"), when it says."""

    client_id: uuid.UUID
    iss: str
    name: str
    # Whose cards and counts its calls make (the registration's, never the JWT's ``tenant``),
    # and the rule variants that organization chose.
    organization_id: uuid.UUID
    rule_variants: Mapping[str, str]
    tenant: str | None
    jti: str
    expires_at: datetime


async def _known_client(session: AsyncSession, iss: str) -> KnownClient | None:
    """The client registered as ``iss`` (from this process's copy when fresh); None for an
    issuer nobody registered (not kept: a new registration counts at once)."""
    known = KNOWN_CLIENTS.get(iss)
    if known is not None:
        return known
    client = await repository.client_by_iss(session, iss)
    if client is None:
        return None
    known = KnownClient.of(client, await session.get(Organization, client.organization_id))
    KNOWN_CLIENTS.put(iss, known)
    return known


class _Pruning:
    """When to drop a client's expired token ids: at most once a minute per process. A call
    costs one statement fewer (each is a write transaction of its own); expired records change
    no answer meanwhile (``repository.spend_jti`` treats them as free)."""

    EVERY = timedelta(minutes=1)

    def __init__(self) -> None:
        self._last: dict[str, datetime] = {}

    def due(self, iss: str, now: datetime) -> bool:
        last = self._last.get(iss)
        if last is not None and last <= now < last + self.EVERY:
            return False
        self._last[iss] = now
        return True


_JTI_PRUNING = _Pruning()


async def verify_cds_jwt(
    token: str,
    *,
    audience: str,
    session: AsyncSession,
    http: httpx.AsyncClient,
    now: datetime,
    jwks_cache: JwksCache,
) -> TrustedCaller:
    """The caller of the CDS service at ``audience``, or a CdsUnauthorized saying why not.

    Records the token's ``jti`` in ``session``; the caller decides when that commits (the
    dependency uses a session whose statements commit at once, so a used ``jti`` stays used
    whatever becomes of the request).
    """
    header, unverified = _parts(token)
    algorithm = _algorithm(header)
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        # "kid | REQUIRED | The identifier of the key-pair used to sign this JWT."
        raise MalformedCdsToken("The JWT header has no kid, so no key can be chosen for it.")
    if header.get("typ", "JWT") != "JWT":
        raise MalformedCdsToken('The JWT header typ must be "JWT".')
    iss = unverified.get("iss")
    if not isinstance(iss, str) or not iss.strip():
        raise MissingCdsClaim("The JWT has no iss claim naming the CDS client.")
    # Chosen by a claim we have not verified yet: it only selects whose keys to verify with.
    client = await _known_client(session, normalize_iss(iss))
    if client is None:
        raise UnknownCdsClient("unknown CDS client: its iss is not registered with ValueLoop.")
    if not client.active:
        raise UnknownCdsClient("unknown CDS client: this CDS client is deactivated.")
    _check_jku(header, client)
    key = await _signing_key(client, kid, http=http, jwks_cache=jwks_cache)
    claims = _verified_claims(token, key, algorithm)
    _check_audience(claims, audience)
    expires_at = _check_lifetime(claims, now)
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti or len(jti) > JTI_MAX_LENGTH:
        raise MissingCdsClaim(
            f"The JWT needs a jti (a unique string of at most {JTI_MAX_LENGTH} characters)."
        )
    if _JTI_PRUNING.due(client.iss, now):
        await repository.forget_expired_jtis(session, iss=client.iss, now=now)
    # "jti ... (used to protect against replay attacks)": each is accepted once per client.
    if not await repository.spend_jti(
        session, iss=client.iss, jti=jti, expires_at=expires_at, now=now
    ):
        await _refuse_unspent(session, client.iss)
    tenant = claims.get("tenant")
    return TrustedCaller(
        client_id=client.id,
        iss=client.iss,
        name=client.name,
        organization_id=client.organization_id,
        rule_variants=client.rule_variants,
        tenant=tenant if isinstance(tenant, str) else None,
        jti=jti,
        expires_at=expires_at,
    )


async def _refuse_unspent(session: AsyncSession, iss: str) -> NoReturn:
    """Why a verified token's jti could not be spent: its client was deactivated or removed
    since this process last read it, or the jti was used before."""
    current = await repository.client_by_iss(session, iss)
    if current is None or not current.active:
        KNOWN_CLIENTS.clear()
        state = "no longer registered" if current is None else "deactivated"
        raise UnknownCdsClient(f"unknown CDS client: this CDS client is {state}.")
    raise ReplayedCdsToken("This JWT's jti was used before: each call needs a new JWT.")


def _parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims, not yet trusted: only to pick the client and its key."""
    if len(token) > MAX_TOKEN_BYTES:
        raise MalformedCdsToken(f"The bearer token is longer than {MAX_TOKEN_BYTES} bytes.")
    try:
        compact = jws.extract_compact(token.encode("ascii"))
        claims = json.loads(compact.payload)
    except (JoseError, UnicodeError, ValueError):
        raise MalformedCdsToken("The bearer token is not a signed JWT (compact JWS).") from None
    if not isinstance(claims, dict):
        raise MalformedCdsToken("The JWT's payload is not a JSON object of claims.")
    return dict(compact.headers()), claims


def _algorithm(header: Mapping[str, Any]) -> str:
    algorithm = header.get("alg")
    if algorithm not in ALLOWED_ALGORITHMS:
        raise CdsAlgorithmNotAllowed(
            "The JWT's alg is not accepted: CDS Hooks requires an asymmetric signature "
            f"(one of {', '.join(sorted(ALLOWED_ALGORITHMS))}; ES384 or RS384 recommended)."
        )
    assert isinstance(algorithm, str)
    return algorithm


def _check_jku(header: Mapping[str, Any], client: KnownClient) -> None:
    """Only the JWKS URL registered for this client: a ``jku`` is a URL the caller chose, and
    following it would let anyone sign with a key they publish themselves."""
    jku = header.get("jku")
    if jku is not None and jku != client.jwks_url:
        raise CdsJkuNotAllowed(
            "The JWT's jku is not the JWKS URL registered for this CDS client; we fetch keys "
            "only from that URL."
        )


async def _signing_key(
    client: KnownClient, kid: str, *, http: httpx.AsyncClient, jwks_cache: JwksCache
) -> PublicKey:
    keys: Mapping[str, PublicKey] = (
        client.inline_keys
        if client.jwks_url is None
        else await jwks_cache.keys(http, client.jwks_url, kid=kid)
    )
    key = keys.get(kid)
    if key is None:
        raise UnknownCdsSigningKey("No public key of this CDS client has the JWT's kid.")
    return key


def _verified_claims(token: str, key: PublicKey, algorithm: str) -> dict[str, Any]:
    key_algorithm = key.get("alg")
    if key_algorithm is not None and key_algorithm != algorithm:
        # RFC 7517 4.4: a key that names its algorithm is used with that one only.
        raise CdsAlgorithmNotAllowed("The JWT's alg is not the algorithm its key is meant for.")
    try:
        return dict(jwt.decode(token, key, algorithms=[algorithm]).claims)
    except BadSignatureError:
        raise BadCdsSignature(
            "The JWT's signature does not verify with the client's key."
        ) from None
    except JoseError:
        raise BadCdsSignature("The JWT cannot be verified with the key its kid names.") from None


def _check_audience(claims: Mapping[str, Any], audience: str) -> None:
    # "aud ... MUST be the URL of the CDS Service endpoint being invoked", "either a string
    # or an array of strings".
    aud = claims.get("aud")
    values = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else None
    if not values:
        raise MissingCdsClaim("The JWT has no aud claim (the URL of the CDS service called).")
    expected = audience.rstrip("/")
    if not any(isinstance(value, str) and value.rstrip("/") == expected for value in values):
        raise WrongCdsAudience(f"The JWT's aud is not this CDS service's URL, {expected}.")


def _timestamp(claims: Mapping[str, Any], name: str) -> datetime:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MissingCdsClaim(f"The JWT needs {name} as seconds since the epoch.")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        raise MissingCdsClaim(f"The JWT's {name} is not a usable time.") from None


def _check_lifetime(claims: Mapping[str, Any], now: datetime) -> datetime:
    """When the token stops being valid (exp plus leeway): how long to remember its jti."""
    expires = _timestamp(claims, "exp")
    issued = _timestamp(claims, "iat")
    if expires + LEEWAY <= now:
        raise CdsTokenExpired("The JWT has expired: sign a new one for each call.")
    if issued > now + LEEWAY:
        raise CdsTokenNotYetValid("The JWT's iat is in the future: check the client's clock.")
    if expires - issued > MAX_LIFETIME:
        raise CdsTokenTooLongLived(
            "The JWT lives longer than 5 minutes (exp - iat); ValueLoop accepts short-lived "
            "tokens only."
        )
    return expires + LEEWAY
