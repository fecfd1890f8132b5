"""The EHRs allowed to launch ValueLoop, and how we authenticate to each.

An ``iss`` that is not registered here is refused before any request is made to it: a launch
URL is attacker-controlled input, and following it would let anyone point our server at an
arbitrary host (SMART App Launch 2.x, "Considerations for EHR launch").
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from enum import StrEnum
from urllib.parse import urlsplit

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import smart
from app.config import LOOPBACK_HOSTS, Settings
from app.ehrs import repository
from app.ehrs.errors import EhrNotFound, InvalidRegistration, UnknownIssuer
from app.ehrs.models import RegisteredEhr
from app.ehrs.secrets import secret_box
from app.kit.crypto import SecretBox
from app.kit.time import utcnow
from app.organizations.models import DEFAULT_ORGANIZATION_ID


class ClientAuthKind(StrEnum):
    NONE = "none"  # public client
    BASIC = "client_secret_basic"
    PRIVATE_KEY_JWT = "private_key_jwt"


def normalize_issuer(url: str) -> str:
    """The FHIR base URL as we compare it: absolute, no trailing slash, https off loopback."""
    parts = urlsplit(url.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise InvalidRegistration(f"{url!r} is not an absolute http(s) URL.", field="issuer")
    if parts.scheme != "https" and parts.hostname not in LOOPBACK_HOSTS:
        raise InvalidRegistration(f"{url!r}: an EHR's FHIR base must use https.", field="issuer")
    if parts.query or parts.fragment:
        raise InvalidRegistration(f"{url!r}: a FHIR base has no query or fragment.", field="issuer")
    return url.strip().rstrip("/")


def normalize_origin(origin: str) -> str:
    """A frame origin for CSP ``frame-ancestors``: scheme://host[:port], nothing more."""
    parts = urlsplit(origin.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise InvalidRegistration(
            f"{origin!r} is not an origin like https://ehr.example.org.", field="frame_origins"
        )
    if parts.path not in {"", "/"} or parts.query or parts.fragment:
        raise InvalidRegistration(
            f"{origin!r}: an origin has no path, query or fragment.", field="frame_origins"
        )
    return f"{parts.scheme}://{parts.netloc}"


async def register(
    session: AsyncSession,
    *,
    issuer: str,
    client_id: str,
    client_auth: ClientAuthKind,
    box: SecretBox,
    name: str | None = None,
    client_secret: str | None = None,
    frame_origins: Sequence[str] = (),
    scopes: Sequence[str] | None = None,
    organization_id: uuid.UUID = DEFAULT_ORGANIZATION_ID,
) -> RegisteredEhr:
    """Add an EHR, or replace the registration of one already known by its issuer. Flags
    launched from it belong to ``organization_id``."""
    normalized = normalize_issuer(issuer)
    if client_auth is ClientAuthKind.BASIC and not client_secret:
        raise InvalidRegistration(
            "client_secret_basic needs a client secret.", field="client_secret"
        )
    if client_auth is not ClientAuthKind.BASIC and client_secret:
        raise InvalidRegistration(
            "A client secret only goes with client_secret_basic.", field="client_secret"
        )
    origins = [normalize_origin(origin) for origin in frame_origins]
    ehr = await repository.ehr_by_issuer(session, normalized) or RegisteredEhr(
        issuer=normalized, name="", client_id="", client_auth="", created_at=utcnow()
    )
    ehr.name = name or urlsplit(normalized).hostname or normalized
    ehr.client_id = client_id
    ehr.client_auth = client_auth
    ehr.client_secret_encrypted = box.encrypt(client_secret) if client_secret else None
    ehr.frame_origins = origins
    ehr.scopes = list(scopes) if scopes else None
    ehr.organization_id = organization_id
    repository.add(session, ehr)
    await session.flush()
    return ehr


async def trusted(session: AsyncSession, iss: str) -> RegisteredEhr:
    """The registration for ``iss``; refuses any issuer that is not registered."""
    try:
        normalized = normalize_issuer(iss)
    except InvalidRegistration as exc:
        raise UnknownIssuer("The launch named an EHR address ValueLoop does not accept.") from exc
    ehr = await repository.ehr_by_issuer(session, normalized)
    if ehr is None:
        raise UnknownIssuer(
            "This EHR is not registered with ValueLoop, so the launch was stopped before "
            "contacting it. Ask your ValueLoop administrator to register it."
        )
    return ehr


async def unregister(session: AsyncSession, ehr_id: uuid.UUID) -> RegisteredEhr:
    """Stop accepting launches from an EHR: its open sessions and launches in flight end now."""
    ehr = await repository.ehr_by_id(session, ehr_id)
    if ehr is None:
        raise EhrNotFound(f"No registered EHR with id {ehr_id}.")
    await repository.delete_ehr(session, ehr)
    return ehr


async def all_registered(session: AsyncSession) -> Sequence[RegisteredEhr]:
    return await repository.all_ehrs(session)


async def register_configured(
    factory: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    """Apply the environment's EHR registrations at start-up, one transaction each.

    Several app processes start at once; if another process registered the same issuer first,
    the unique constraint refuses ours and theirs stands (same configuration).
    """
    box = secret_box(settings)
    for config in settings.ehrs:
        kind = ClientAuthKind.NONE
        if config.client_secret is not None:
            kind = ClientAuthKind.BASIC
        elif config.private_key_jwt:
            kind = ClientAuthKind.PRIVATE_KEY_JWT
        async with factory() as session:
            try:
                await register(
                    session,
                    issuer=config.issuer,
                    client_id=config.client_id,
                    client_auth=kind,
                    box=box,
                    name=config.name,
                    client_secret=(
                        config.client_secret.get_secret_value() if config.client_secret else None
                    ),
                    frame_origins=config.frame_origins,
                    scopes=config.scopes,
                )
                await session.commit()
            except IntegrityError:
                await session.rollback()


def client_auth_for(ehr: RegisteredEhr, settings: Settings) -> smart.ClientAuth:
    kind = ClientAuthKind(ehr.client_auth)
    if kind is ClientAuthKind.BASIC:
        assert ehr.client_secret_encrypted is not None
        secret = secret_box(settings).decrypt(ehr.client_secret_encrypted)
        return smart.ClientSecretBasic(ehr.client_id, secret)
    if kind is ClientAuthKind.PRIVATE_KEY_JWT:
        from app.ehrs.keys import client_signing_key  # only deployments that use it need it

        key = client_signing_key(settings)
        return smart.PrivateKeyJwt(ehr.client_id, key.private_key, key.kid, key.algorithm)
    return smart.PublicClient(ehr.client_id)
