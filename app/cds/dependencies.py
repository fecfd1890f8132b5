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
from app.db import SessionDep
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
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> TrustedCaller:
    """The registered CDS client that signed this call's bearer JWT; 401 otherwise."""
    if credentials is None or not credentials.credentials:
        raise MissingCdsToken(
            "CDS Hooks calls need 'Authorization: Bearer <JWT>' signed by a registered CDS client."
        )
    # The request's own session, committed as soon as the jti is spent rather than with the
    # request's unit of work: a jti stays spent even when the request later fails (no second
    # try with the same token), and no write transaction is held open while the service
    # works. (A session of its own would cost a second connection checkout per call.)
    caller = await verify_cds_jwt(
        credentials.credentials,
        audience=settings.base_url + request.url.path,
        session=session,
        http=http,
        now=utcnow(),
        jwks_cache=JWKS_CACHE,
    )
    await session.commit()
    return caller


CdsCaller = Annotated[TrustedCaller, Depends(trusted_cds_client)]
