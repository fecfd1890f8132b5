"""The dashboard's staff session (``/api/v1/session``): sign in with an API token, see who is
signed in, sign out. OpenID Connect sign-in starts at ``/dashboard/sign-in/oidc`` instead."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import APIKeyCookie

from app.audit.service import AuditAction, for_principal
from app.auth import service as tokens
from app.auth import sessions
from app.auth.dependencies import AnyStaff, Principal
from app.auth.errors import SessionEnded
from app.auth.models import Role, SignInMethod, StaffSession
from app.auth.permissions import granted
from app.config import Settings
from app.db import SessionDep
from app.staff.schemas import SessionInfo, SignIn

router = APIRouter(prefix="/api/v1/session", tags=["dashboard session"])
_cookie = APIKeyCookie(name=sessions.COOKIE, auto_error=False)


def session_info(record: StaffSession, settings: Settings) -> SessionInfo:
    role = Role(record.role)
    return SessionInfo(
        name=record.name,
        staff_id=record.staff_id,
        role=role,
        permissions=sorted(granted(role, record.organization_id)),
        organization_id=record.organization_id,
        method=record.method,
        csrf_token=sessions.csrf_token(record, secret_key=settings.resolved_secret_key()),
        expires_at=sessions.idle_deadline(record, settings),
        reply_sla_hours=settings.reply_sla_hours,
    )


@router.post("", status_code=201)
async def sign_in(
    body: SignIn, request: Request, response: Response, session: SessionDep
) -> SessionInfo:
    """Sign in to the dashboard with an API token; the session lives in an HttpOnly cookie."""
    settings: Settings = request.app.state.settings
    holder = await tokens.authenticate(session, body.token.get_secret_value())
    started = sessions.start(
        session,
        name=holder.name,
        role=holder.role,
        method=SignInMethod.API_TOKEN,
        settings=settings,
        api_token_id=holder.token.id,
        staff_id=holder.token.staff_id,
        organization_id=holder.organization_id,
    )
    await session.flush()
    for_principal(request, session, Principal.of_session(started.record)).record(
        AuditAction.SIGN_IN, "staff_session", entity_id=str(started.record.id)
    )
    sessions.set_cookie(response, started, settings)
    return session_info(started.record, settings)


async def _staff_session(
    request: Request,
    session: SessionDep,
    cookie: Annotated[str | None, Depends(_cookie)],
) -> StaffSession:
    if not cookie:
        raise SessionEnded("You are not signed in to the dashboard.")
    return await sessions.resolve(session, cookie, settings=request.app.state.settings)


CurrentStaffSession = Annotated[StaffSession, Depends(_staff_session)]


@router.get("")
async def current_session(request: Request, record: CurrentStaffSession) -> SessionInfo:
    """The signed-in staff member, their permissions and the session's CSRF token."""
    return session_info(record, request.app.state.settings)


@router.delete("", status_code=204)
async def sign_out(
    request: Request,
    session: SessionDep,
    principal: AnyStaff,
    cookie: Annotated[str | None, Depends(_cookie)],
) -> Response:
    """Sign out: the session is deleted on the server, not only forgotten by the browser."""
    response = Response(status_code=204)
    if principal.via == "staff_session" and cookie:
        await sessions.end(session, cookie)
        for_principal(request, session, principal).record(
            AuditAction.SIGN_OUT, "staff_session", entity_id=principal.ref
        )
    sessions.clear_cookie(response)
    return response
