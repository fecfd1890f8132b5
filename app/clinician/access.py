"""A clinician request's access to its EHR: the FHIR client, its token kept fresh, and what the
grant allows. One object per request, built by ``dependencies.clinician_access``."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from weakref import WeakValueDictionary

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

import fhir_client
import lowvalue
import smart
from app.config import Settings
from app.ehrs import service as ehrs
from app.ehrs.models import RegisteredEhr
from app.kit.time import utcnow
from app.launch import repository
from app.launch.errors import SessionExpired
from app.launch.models import AppSession
from app.launch.secrets import token_box
from app.launch.service import DISCOVERY_CACHE
from app.organizations.models import Organization
from app.rules import variants
from app.upstream_errors import session_not_renewed

REFRESH_MARGIN = timedelta(seconds=60)

# One lock per session within this process; a row lock covers other processes (PostgreSQL).
_REFRESH_LOCKS: WeakValueDictionary[uuid.UUID, asyncio.Lock] = WeakValueDictionary()


@dataclass
class ClinicianAccess:
    """What one clinician request may read of the EHR, and how.

    The FHIR client is made on first use: a request that reads nothing from the EHR (a launch
    without a patient) neither refreshes the token nor fails on an expired one.
    """

    app_session: AppSession
    http: httpx.AsyncClient
    settings: Settings
    factory: async_sessionmaker[AsyncSession]
    _client: fhir_client.FhirClient | None = field(default=None, init=False, repr=False)

    @property
    def granted(self) -> smart.GrantedScopes:
        return smart.GrantedScopes(frozenset(self.app_session.granted_scopes))

    def readable(self, resource_type: str) -> bool:
        """Whether the grant lets ValueLoop read or search this resource type."""
        granted = self.granted
        return granted.allows_read(resource_type) or granted.allows_search(resource_type)

    async def fhir(self) -> fhir_client.FhirClient:
        """The EHR's FHIR API, with an access token that is not about to expire."""
        if self._client is None:
            token = await self._access_token()
            self._client = fhir_client.FhirClient(
                self.http,
                self.app_session.issuer,
                token,
                timeout=self.settings.outbound_timeout_seconds,
            )
        return self._client

    async def rule_variants(self) -> dict[str, lowvalue.VariantName]:
        """The installation's rule variants, with the launch's organization's choices on top
        (the organization of the EHR that launched; app.rules.variants)."""
        async with self.factory() as own:
            chosen = await own.scalar(
                sa.select(col(Organization.cds_rule_variants))
                .join(RegisteredEhr, col(RegisteredEhr.organization_id) == col(Organization.id))
                .where(col(RegisteredEhr.id) == self.app_session.ehr_id)
            )
        return variants.effective(self.settings.cds_rule_variants, chosen)

    async def _access_token(self) -> str:
        """A usable access token, refreshed shortly before it expires when a refresh token
        exists.

        EHRs may rotate refresh tokens (each works once), so two requests must never refresh
        with the same one: refreshing is serialised per session, and whoever waited finds the
        tokens already renewed and uses them.
        """
        box = token_box(self.settings)
        if not _needs_refresh(self.app_session):
            return box.decrypt(self.app_session.access_token_encrypted)
        if self.app_session.refresh_token_encrypted is None:
            raise SessionExpired(
                "Your access to the EHR has expired and cannot be renewed. Open ValueLoop again "
                "from the EHR."
            )
        return box.decrypt(await self._refresh_serialised())

    async def _refresh_serialised(self) -> str:
        """Refresh in a transaction of its own, committed before anyone waiting reads the row."""
        session_id = self.app_session.id
        lock = _REFRESH_LOCKS.get(session_id)
        if lock is None:
            lock = _REFRESH_LOCKS[session_id] = asyncio.Lock()
        async with lock, self.factory() as own:
            row = await repository.session_for_update(own, session_id)
            if row is None:
                raise SessionExpired("Your ValueLoop session has ended.")
            if not _needs_refresh(row):
                return row.access_token_encrypted  # renewed while we waited
            if row.refresh_token_encrypted is None:
                raise SessionExpired("Your access to the EHR has expired. Open ValueLoop again.")
            await self._refresh(own, row)
            encrypted = row.access_token_encrypted
            await own.commit()
            return encrypted

    async def _refresh(self, own: AsyncSession, row: AppSession) -> None:
        """Renew the row's tokens at the EHR (the caller holds its lock and commits)."""
        assert row.refresh_token_encrypted is not None
        box = token_box(self.settings)
        ehr = await ehrs.trusted(own, row.issuer)
        try:
            config = await smart.discover(self.http, ehr.issuer, cache=DISCOVERY_CACHE)
            token = await smart.refresh(
                self.http,
                config,
                ehrs.client_auth_for(ehr, self.settings),
                refresh_token=box.decrypt(row.refresh_token_encrypted),
            )
        except smart.SmartError as exc:
            raise session_not_renewed(exc) from exc
        row.access_token_encrypted = box.encrypt(token.access_token)
        if token.refresh_token:
            row.refresh_token_encrypted = box.encrypt(token.refresh_token)
        row.access_expires_at = token.expires_at
        row.version += 1


def _needs_refresh(app_session: AppSession) -> bool:
    expires = app_session.access_expires_at
    return expires is not None and utcnow() >= expires - REFRESH_MARGIN
