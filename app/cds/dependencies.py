"""The CDS Hooks endpoints' caller, as a dependency:

    @router.post("/cds-services/{service_id}")
    async def call_service(service_id: str, request: CdsHooksRequest, caller: CdsCaller): ...

CDS Hooks 2.0, "Trusting CDS Clients": every call, discovery included, carries
``Authorization: Bearer <JWT>``, and the JWT's ``aud`` is "the URL of the CDS Service
endpoint being invoked", which here is ``VALUELOOP_BASE_URL`` plus the request's path.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.cds.errors import MissingCdsToken
from app.cds.jwks import JWKS_CACHE
from app.cds.trust import TrustedCaller, verify_cds_jwt
from app.db import autocommit_session
from app.dependencies import HttpDep, SettingsDep
from app.kit.time import utcnow

__all__ = ["CdsCaller", "trusted_cds_client"]

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="CDS client JWT",
    description="A JWT the CDS client signs for each call (CDS Hooks 2.0, Trusting CDS Clients).",
)


async def trusted_cds_client(
    request: Request,
    settings: SettingsDep,
    http: HttpDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> TrustedCaller:
    """The registered CDS client that signed this call's bearer JWT; 401 otherwise."""
    if credentials is None or not credentials.credentials:
        raise MissingCdsToken(
            "CDS Hooks calls need 'Authorization: Bearer <JWT>' signed by a registered CDS client."
        )
    # Its own session, each statement committed at once rather than in the request's unit of
    # work: a jti stays spent even when the request later fails (no second try with the same
    # token), and no write transaction is held open while the service works.
    async with autocommit_session(request) as session:
        return await verify_cds_jwt(
            credentials.credentials,
            audience=settings.base_url + request.url.path,
            session=session,
            http=http,
            now=utcnow(),
            jwks_cache=JWKS_CACHE,
        )


CdsCaller = Annotated[TrustedCaller, Depends(trusted_cds_client)]
