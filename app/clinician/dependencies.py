"""What a clinician request depends on: its app session, its auditor, its access to the EHR.

The page sends its app-session handle in the ``X-ValueLoop-Session`` header (EHR frames may
block cookies); the partitioned cookie set at launch is only a fallback.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from app.audit.service import Auditor, for_request
from app.clinician.access import ClinicianAccess
from app.db import SessionDep, SessionFactoryDep, autocommit_session
from app.dependencies import HttpDep, SettingsDep
from app.launch import service
from app.launch.models import AppSession


async def app_session(
    request: Request, x_valueloop_session: Annotated[str | None, Header()] = None
) -> AppSession:
    """The request's app session, looked up and kept alive before the handler runs.

    Each statement commits on its own (no BEGIN/COMMIT round trips) and the connection goes
    back to the pool before the handler runs: while the handler waits on the EHR it holds
    none, a token refresh (which locks the session row in its own transaction) never waits on
    a row this request holds, and no request holds two connections at once, so a full pool
    cannot deadlock on itself.
    """
    handle = x_valueloop_session or request.cookies.get(service.SESSION_COOKIE)
    async with autocommit_session(request) as housekeeping:
        found = await service.current_session(housekeeping, handle)
        await service.touch(housekeeping, found)
    return found


AppSessionDep = Annotated[AppSession, Depends(app_session)]


async def clinician_auditor(
    request: Request, session: SessionDep, current: AppSessionDep
) -> Auditor:
    return for_request(
        request,
        session,
        actor_kind="clinician",
        actor_id=current.fhir_user or f"session {current.id}",
        actor_role="clinician",
    )


ClinicianAuditor = Annotated[Auditor, Depends(clinician_auditor)]


async def clinician_access(
    current: AppSessionDep, http: HttpDep, settings: SettingsDep, factory: SessionFactoryDep
) -> ClinicianAccess:
    """The request's access to its EHR (the FHIR client is made when first used)."""
    return ClinicianAccess(app_session=current, http=http, settings=settings, factory=factory)


ClinicianAccessDep = Annotated[ClinicianAccess, Depends(clinician_access)]
