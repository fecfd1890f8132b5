"""Where the EHR's authorization server lives and what it supports.

SMART App Launch 2.x, "Conformance": "the FHIR server's base URL is the 'iss'... the app
retrieves ``{iss}/.well-known/smart-configuration``". Servers from the SMART 1.0 era publish
only the ``oauth-uris`` extension on their CapabilityStatement (``{iss}/metadata``), which 2.x
still describes, so we fall back to it.

Usage::

    cache = DiscoveryCache(ttl_seconds=3600)
    config = await discover(http, iss, cache=cache)
    config.authorization_endpoint, config.supports_v2_scopes
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from smart.errors import DiscoveryError

__all__ = ["OAUTH_URIS_EXTENSION", "DiscoveryCache", "SmartConfiguration", "discover"]

OAUTH_URIS_EXTENSION = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"

# A SMART v2 resource scope: patient|user|system / Type|* . c?r?u?d?s? (at least one letter)
_V2_SCOPE = re.compile(r"^(patient|user|system)/(\*|[A-Z][A-Za-z]+)\.(?=[cruds])c?r?u?d?s?$")


def _absolute_http_url(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return value


def _strings(value: object) -> frozenset[str]:
    if not isinstance(value, list):
        return frozenset()
    return frozenset(item for item in value if isinstance(item, str))


@dataclass(frozen=True)
class SmartConfiguration:
    """The parts of the EHR's SMART configuration that a launching app acts on.

    ``code_challenge_methods_supported`` is None when the EHR did not say (then we still
    send S256; see ``authorize_url``). ``issuer`` and ``jwks_uri`` are None for servers that
    publish only the CapabilityStatement extension: such servers cannot have their id_tokens
    verified, and ``validate_id_token`` says so.
    """

    issuer: str | None
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str | None
    introspection_endpoint: str | None
    capabilities: frozenset[str]
    scopes_supported: frozenset[str]
    code_challenge_methods_supported: frozenset[str] | None
    token_endpoint_auth_methods_supported: frozenset[str]
    # RFC 9207 section 3: the server puts ``iss`` on every authorization response.
    authorization_response_iss_parameter_supported: bool = False

    @property
    def supports_v2_scopes(self) -> bool:
        """Whether to ask for ``patient/X.rs`` rather than ``patient/X.read``.

        SMART 2.x "Capabilities": ``permission-v2`` says the server understands v2 scopes.
        Some servers omit the capability but list v2 scopes in ``scopes_supported``; we take
        that as the same promise. Anything else gets v1, which every SMART server knows.
        """
        if "permission-v2" in self.capabilities:
            return True
        return any(_V2_SCOPE.match(scope) for scope in self.scopes_supported)

    @classmethod
    def from_well_known(cls, document: Mapping[str, Any]) -> SmartConfiguration:
        """Read ``.well-known/smart-configuration``; DiscoveryError when a required field
        (``authorization_endpoint``, ``token_endpoint``, SMART 2.x "Metadata") is missing."""
        authorize = _absolute_http_url(document.get("authorization_endpoint"))
        token = _absolute_http_url(document.get("token_endpoint"))
        if authorize is None or token is None:
            raise DiscoveryError(
                "The SMART configuration lacks an absolute authorization_endpoint or "
                "token_endpoint."
            )
        methods = document.get("code_challenge_methods_supported")
        issuer = document.get("issuer")
        return cls(
            issuer=issuer if isinstance(issuer, str) and issuer else None,
            authorization_endpoint=authorize,
            token_endpoint=token,
            jwks_uri=_absolute_http_url(document.get("jwks_uri")),
            introspection_endpoint=_absolute_http_url(document.get("introspection_endpoint")),
            capabilities=_strings(document.get("capabilities")),
            scopes_supported=_strings(document.get("scopes_supported")),
            code_challenge_methods_supported=(
                _strings(methods) if isinstance(methods, list) else None
            ),
            token_endpoint_auth_methods_supported=_strings(
                document.get("token_endpoint_auth_methods_supported")
            ),
            authorization_response_iss_parameter_supported=(
                document.get("authorization_response_iss_parameter_supported") is True
            ),
        )

    @classmethod
    def from_capability_statement(cls, statement: Mapping[str, Any]) -> SmartConfiguration:
        """Read the ``oauth-uris`` extension (``authorize``, ``token``) on
        ``rest[0].security`` of a CapabilityStatement; DiscoveryError when it is absent."""
        uris: dict[str, str] = {}
        rest = list(_dicts(statement.get("rest")))
        security = rest[0].get("security") if rest else None
        for extension in _dicts(security.get("extension") if isinstance(security, dict) else None):
            if extension.get("url") != OAUTH_URIS_EXTENSION:
                continue
            for uri in _dicts(extension.get("extension")):
                name, value = uri.get("url"), _absolute_http_url(uri.get("valueUri"))
                if isinstance(name, str) and value is not None:
                    uris[name] = value
        if "authorize" not in uris or "token" not in uris:
            raise DiscoveryError(
                "The CapabilityStatement has no oauth-uris extension with authorize and token."
            )
        return cls(
            issuer=None,
            authorization_endpoint=uris["authorize"],
            token_endpoint=uris["token"],
            jwks_uri=None,
            introspection_endpoint=uris.get("introspect"),
            capabilities=frozenset(),
            scopes_supported=frozenset(),
            code_challenge_methods_supported=None,
            token_endpoint_auth_methods_supported=frozenset(),
        )


def _dicts(value: object) -> Iterable[dict[str, Any]]:
    if isinstance(value, list):
        return [item for item in value if isinstance(item, dict)]
    return []


class DiscoveryCache:
    """In-memory SMART configurations by ``iss``, each kept ``ttl_seconds``.

    A cache, not state: every process may hold its own, and losing it costs one request.
    Concurrent launches for the same ``iss`` wait for one fetch instead of each making their
    own (a lock per ``iss``); different ``iss`` values never wait for each other. Failures
    are not cached, so the next launch tries again.
    """

    def __init__(
        self, ttl_seconds: float = 3600, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._entries: dict[str, tuple[float, SmartConfiguration]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def get(self, iss: str) -> SmartConfiguration | None:
        """The cached configuration, or None when absent or older than the TTL."""
        entry = self._entries.get(_normalise_iss(iss))
        if entry is None or self._clock() - entry[0] >= self.ttl_seconds:
            return None
        return entry[1]

    def put(self, iss: str, config: SmartConfiguration) -> None:
        self._entries[_normalise_iss(iss)] = (self._clock(), config)

    def clear(self) -> None:
        self._entries.clear()

    def lock(self, iss: str) -> asyncio.Lock:
        return self._locks.setdefault(_normalise_iss(iss), asyncio.Lock())


def _normalise_iss(iss: str) -> str:
    return iss.rstrip("/")


async def discover(
    http: httpx.AsyncClient,
    iss: str,
    *,
    cache: DiscoveryCache | None = None,
    timeout: float = 10,  # noqa: ASYNC109 - httpx's per-request timeout, not a deadline
) -> SmartConfiguration:
    """The SMART configuration of the EHR whose FHIR base URL is ``iss``.

    ``iss`` must already be trusted (the app checks it against its registered EHRs): this
    function fetches whatever it is given.

    Order: ``{iss}/.well-known/smart-configuration``; when that answers 4xx (typically 404)
    or something that is not a usable JSON document, ``{iss}/metadata`` and its
    ``oauth-uris`` extension. A 5xx or a network failure on the first request is a
    DiscoveryError without fallback: the server is in trouble, and quietly switching to the
    poorer CapabilityStatement (no JWKS, no capabilities) would downgrade the launch.
    """
    if _absolute_http_url(iss) is None:
        raise DiscoveryError("iss must be an absolute http(s) URL.")
    if cache is None:
        return await _fetch(http, iss, timeout)
    cached = cache.get(iss)
    if cached is not None:
        return cached
    async with cache.lock(iss):
        cached = cache.get(iss)  # another task may have fetched it while we waited
        if cached is not None:
            return cached
        config = await _fetch(http, iss, timeout)
        cache.put(iss, config)
        return config


async def _fetch(http: httpx.AsyncClient, iss: str, http_timeout: float) -> SmartConfiguration:
    base = _normalise_iss(iss)
    well_known = f"{base}/.well-known/smart-configuration"
    response = await _get(http, well_known, "application/json", http_timeout)
    if response.is_success:
        try:
            return SmartConfiguration.from_well_known(_json_object(response))
        except DiscoveryError:
            pass  # a broken document: try the CapabilityStatement before giving up
    elif response.is_server_error:
        raise DiscoveryError(f"{well_known} answered HTTP {response.status_code}.")

    metadata = f"{base}/metadata"
    fallback = await _get(http, metadata, "application/fhir+json", http_timeout)
    if not fallback.is_success:
        raise DiscoveryError(
            f"No SMART configuration: {well_known} answered HTTP {response.status_code} and "
            f"{metadata} answered HTTP {fallback.status_code}."
        )
    try:
        return SmartConfiguration.from_capability_statement(_json_object(fallback))
    except DiscoveryError as exc:
        raise DiscoveryError(
            f"No SMART configuration at {well_known} or {metadata}: {exc}"
        ) from exc


async def _get(
    http: httpx.AsyncClient, url: str, accept: str, http_timeout: float
) -> httpx.Response:
    try:
        return await http.get(url, headers={"Accept": accept}, timeout=http_timeout)
    except httpx.HTTPError as exc:
        raise DiscoveryError(f"Could not reach {url}: {type(exc).__name__}.") from exc


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError as exc:
        raise DiscoveryError(f"{response.request.url} did not answer JSON.") from exc
    if not isinstance(body, dict):
        raise DiscoveryError(f"{response.request.url} did not answer a JSON object.")
    return body
