"""A CDS client's public keys: a JWK Set read from a file at registration or fetched from the
client's JWKS URL, kept in a cache per process.

CDS Hooks 2.0, "Trusting CDS Clients": "The CDS Client MUST make its public key, expressed
as a JSON Web Key (JWK), available in a JWK Set, as defined by rfc7517. The ``kid`` value from
the JWT header allows a CDS Service to identify the correct JWK in the JWK Set."

Only asymmetric keys count: the spec says JWTs "SHALL NOT be signed using any symmetric
algorithm", so ``oct`` keys are refused at registration and ignored in a fetched set.
"""

from __future__ import annotations

import asyncio
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from joserfc.errors import JoseError, SecurityWarning
from joserfc.jwk import ECKey, KeySet, OKPKey, RSAKey

from app.cds.errors import CdsClientKeysUnavailable

__all__ = ["JWKS_CACHE", "InvalidJwks", "JwksCache", "PublicKey", "public_keys"]

PublicKey = RSAKey | ECKey | OKPKey
_KEY_TYPES: dict[str, type[RSAKey] | type[ECKey] | type[OKPKey]] = {
    "RSA": RSAKey,
    "EC": ECKey,
    "OKP": OKPKey,
}
# RFC 7518 6.2.2, 6.3.2 and RFC 8037 2: the members only a private key has.
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth"})
MAX_JWKS_BYTES = 64 * 1024
MAX_KEYS = 20


class InvalidJwks(ValueError):
    """A JWK Set we cannot use; the message says why, for the person who supplied it."""


def public_keys(document: object, *, allow_private: bool) -> dict[str, PublicKey]:
    """The asymmetric keys of a JWK Set by ``kid``; InvalidJwks when there are none.

    ``allow_private=False`` (a file an admin gives us) refuses private keys outright: a CDS
    client's private key has no business on our disk. A fetched set is the client's own
    publication; we use only the public half of what it holds.
    """
    if not isinstance(document, Mapping) or not isinstance(document.get("keys"), list):
        raise InvalidJwks('not a JWK Set: expected {"keys": [...]}')
    found: dict[str, PublicKey] = {}
    for entry in document["keys"][:MAX_KEYS]:
        if not isinstance(entry, Mapping):
            raise InvalidJwks("every entry of keys must be a JSON object (a JWK)")
        kid = entry.get("kid")
        if _PRIVATE_MEMBERS & entry.keys() and not allow_private:
            raise InvalidJwks(
                f"key {kid!r} is a private key; give only the CDS client's public keys"
            )
        kind = _KEY_TYPES.get(str(entry.get("kty")))
        if kind is None or not isinstance(kid, str) or not kid:
            if not allow_private:  # a registration: say what is wrong rather than skip it
                raise InvalidJwks(
                    f"key {kid!r}: each key needs a kid and kty RSA, EC or OKP "
                    "(CDS Hooks refuses symmetric keys)"
                )
            continue
        public = {name: value for name, value in entry.items() if name not in _PRIVATE_MEMBERS}
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", SecurityWarning)  # e.g. RSA under 2048 bits
                found[kid] = kind.import_key(public)
        except (JoseError, SecurityWarning, ValueError, TypeError) as exc:
            if not allow_private:
                raise InvalidJwks(f"key {kid!r} cannot be used: {exc}") from None
    if not found:
        raise InvalidJwks("the JWK Set holds no usable public key (RSA, EC or OKP with a kid)")
    return found


def key_set(keys: Mapping[str, PublicKey]) -> KeySet:
    return KeySet(list(keys.values()))


@dataclass(frozen=True)
class _Entry:
    fetched_at: float
    keys: dict[str, PublicKey]


class JwksCache:
    """Fetched JWK Sets by URL, each kept ``ttl_seconds``.

    A token whose ``kid`` is not in the cached set makes one new fetch (the client rotated its
    key), but only when the cached set is older than ``refetch_after_seconds``: a stream of
    made-up ``kid`` values must not turn into a stream of requests to the client's server.
    Concurrent calls for one URL wait for one fetch; failures are not cached.
    """

    def __init__(
        self,
        *,
        ttl_seconds: float = 300,
        refetch_after_seconds: float = 60,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_seconds = ttl_seconds
        self.refetch_after_seconds = refetch_after_seconds
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def clear(self) -> None:
        self._entries.clear()

    async def keys(self, http: httpx.AsyncClient, url: str, *, kid: str) -> dict[str, PublicKey]:
        """The keys published at ``url``, fetched when absent, stale, or missing ``kid``."""
        if (cached := self._usable(url, kid)) is not None:
            return cached
        async with self._locks.setdefault(url, asyncio.Lock()):
            if (cached := self._usable(url, kid)) is not None:
                return cached  # fetched by another call while this one waited
            keys = await _fetch(http, url)
            self._entries[url] = _Entry(self._clock(), keys)
            return keys

    def _usable(self, url: str, kid: str) -> dict[str, PublicKey] | None:
        entry = self._entries.get(url)
        if entry is None:
            return None
        age = self._clock() - entry.fetched_at
        if age >= self.ttl_seconds:
            return None
        if kid in entry.keys or age < self.refetch_after_seconds:
            return entry.keys
        return None


# One per process, like the other caches of what admins configure (app/kit/expiring.py).
JWKS_CACHE = JwksCache()


async def _fetch(http: httpx.AsyncClient, url: str) -> dict[str, PublicKey]:
    unavailable = "The CDS client's JWK Set at its registered URL"
    try:
        response = await http.get(url, headers={"Accept": "application/json"})
    except httpx.HTTPError as exc:
        raise CdsClientKeysUnavailable(
            f"{unavailable} could not be reached ({type(exc).__name__})."
        ) from exc
    if not response.is_success:
        raise CdsClientKeysUnavailable(f"{unavailable} answered HTTP {response.status_code}.")
    if len(response.content) > MAX_JWKS_BYTES:
        raise CdsClientKeysUnavailable(f"{unavailable} is larger than {MAX_JWKS_BYTES} bytes.")
    try:
        document: Any = response.json()
        return public_keys(document, allow_private=True)
    except ValueError as exc:  # InvalidJwks, or not JSON at all
        raise CdsClientKeysUnavailable(f"{unavailable} is not usable: {exc}") from exc
