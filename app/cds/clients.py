"""The CDS clients allowed to call ValueLoop's CDS Hooks services: register, list, switch off,
remove; and the copy of them each process keeps for a few seconds (``KNOWN_CLIENTS``).
Functions here flush; they never commit.

CDS Hooks 2.0, "Trusting CDS Clients": services "SHOULD maintain an allowlist of the ``iss``
and ``jku`` fields to only the CDS Clients they trust". Registration is that allow-list: the
client's ``iss`` and either the URL of its JWK Set (the only ``jku`` we accept from it) or
the JWK Set itself, "communicated out-of-band" as the spec puts it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.cds import repository
from app.cds.errors import CdsClientNotFound, InvalidCdsClient
from app.cds.jwks import JWKS_CACHE, InvalidJwks, PublicKey, public_keys
from app.cds.models import ISS_MAX_LENGTH, URL_MAX_LENGTH, CdsClient
from app.config import Mode
from app.kit.expiring import ExpiringCache
from app.kit.time import utcnow
from app.kit.urls import outbound_url_problem
from app.organizations.models import DEFAULT_ORGANIZATION_ID, Organization


@dataclass(frozen=True)
class KnownClient:
    """What a call needs of a registered CDS client: read on every call, so kept per process
    for a few seconds (``KNOWN_CLIENTS``), with an inline JWK Set already parsed. Whether the
    client is still registered and active is checked again, in the same statement, when its
    token's jti is spent (``repository.spend_jti``): a deactivation takes effect at once."""

    id: uuid.UUID
    iss: str
    name: str
    organization_id: uuid.UUID
    # The organization's CDS rule variants (app.rules.variants), kept with the client.
    rule_variants: Mapping[str, str]
    active: bool
    jwks_url: str | None
    inline_keys: Mapping[str, PublicKey]

    @classmethod
    def of(cls, client: CdsClient, organization: Organization | None) -> KnownClient:
        return cls(
            id=client.id,
            iss=client.iss,
            name=client.name,
            organization_id=client.organization_id,
            rule_variants=dict((organization.cds_rule_variants or {}) if organization else {}),
            active=client.active,
            jwks_url=client.jwks_url,
            inline_keys={}
            if client.jwks is None
            else public_keys(client.jwks, allow_private=False),
        )


KNOWN_CLIENTS: ExpiringCache[str, KnownClient] = ExpiringCache(ttl_seconds=5, max_entries=256)


def normalize_iss(iss: str) -> str:
    """The ``iss`` as we store and compare it: trimmed, without a trailing slash."""
    return iss.strip().rstrip("/")


def _checked_iss(iss: str) -> str:
    normalized = normalize_iss(iss)
    if not normalized or len(normalized) > ISS_MAX_LENGTH:
        raise InvalidCdsClient(
            f"The iss must be 1 to {ISS_MAX_LENGTH} characters (the URI the client puts "
            "in its JWTs).",
            field="iss",
        )
    if any(character.isspace() or not character.isprintable() for character in normalized):
        raise InvalidCdsClient("The iss is a URI: no spaces or control characters.", field="iss")
    return normalized


def _checked_jwks_url(url: str, mode: Mode) -> str:
    value = url.strip()
    problem = outbound_url_problem(value, mode=mode)
    if problem is None and len(value) > URL_MAX_LENGTH:
        problem = f"The JWKS URL is longer than {URL_MAX_LENGTH} characters."
    if problem is not None:
        raise InvalidCdsClient(problem, field="jwks_url")
    return value


def _checked_jwks(jwks: Mapping[str, Any]) -> dict[str, Any]:
    try:
        public_keys(jwks, allow_private=False)
    except InvalidJwks as exc:
        raise InvalidCdsClient(f"The JWK Set: {exc}.", field="jwks") from exc
    return dict(jwks)


async def register(
    session: AsyncSession,
    *,
    iss: str,
    mode: Mode,
    jwks_url: str | None = None,
    jwks: Mapping[str, Any] | None = None,
    name: str | None = None,
    organization_id: uuid.UUID = DEFAULT_ORGANIZATION_ID,
) -> tuple[CdsClient, bool]:
    """Add a CDS client, or replace the keys, name and organization of the one with this
    ``iss``; the flags its cards lead to belong to ``organization_id``.

    Returns the client and whether it is new. An existing client keeps its active state.
    """
    normalized = _checked_iss(iss)
    if (jwks_url is None) == (jwks is None):
        raise InvalidCdsClient("Give either a JWKS URL or a JWK Set, not both.", field="jwks")
    url = _checked_jwks_url(jwks_url, mode) if jwks_url is not None else None
    stored_jwks = _checked_jwks(jwks) if jwks is not None else None
    existing = await repository.client_by_iss(session, normalized)
    client = existing or CdsClient(iss=normalized, name="", created_at=utcnow())
    client.name = (name or "").strip()[:200] or normalized
    client.jwks_url = url
    client.jwks = stored_jwks
    client.organization_id = organization_id
    repository.add(session, client)
    await session.flush()
    JWKS_CACHE.clear()  # this process reads the new keys from the next call on
    KNOWN_CLIENTS.clear()
    return client, existing is None


async def by_iss(session: AsyncSession, iss: str) -> CdsClient:
    client = await repository.client_by_iss(session, normalize_iss(iss))
    if client is None:
        raise CdsClientNotFound(f"No CDS client with iss {normalize_iss(iss)!r}.")
    return client


async def set_active(session: AsyncSession, iss: str, *, active: bool) -> CdsClient:
    """Refuse (or accept again) every call from this client, keeping its registration."""
    client = await by_iss(session, iss)
    client.active = active
    repository.add(session, client)
    await session.flush()
    KNOWN_CLIENTS.clear()
    return client


async def remove(session: AsyncSession, iss: str) -> CdsClient:
    """Forget the client: its calls are refused from now on."""
    client = await by_iss(session, iss)
    await repository.delete_client(session, client)
    KNOWN_CLIENTS.clear()
    return client


async def all_clients(session: AsyncSession) -> Sequence[CdsClient]:
    return await repository.all_clients(session)
