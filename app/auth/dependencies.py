"""Who is calling the quality API, and may they do this?

Two ways in, one API: REST clients send an API token as a bearer token; the dashboard's
browser sends its staff-session cookie (and, on writes, the session's CSRF token). Either way
the handler gets a :class:`Principal`, and permissions are dependencies, so handlers never
check roles by hand:

    @router.get("/flags")
    async def list_flags(principal: Annotated[Principal, Depends(require(Permission.READ_FLAGS))]):
        ...
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from app.auth import service, sessions
from app.auth.errors import CsrfTokenMissing, MissingToken, RoleNotAllowed
from app.auth.models import Role, StaffSession
from app.auth.permissions import ROLE_PERMISSIONS, SYSTEM_LEVEL_ONLY, Permission, roles_with
from app.db import SessionDep
from app.organizations.scope import OrganizationScope, bind

_bearer = HTTPBearer(auto_error=False, description="An API token from `valueloop tokens create`.")
_session_cookie = APIKeyCookie(
    name=sessions.COOKIE,
    auto_error=False,
    description="The dashboard's staff session (sign in at /dashboard/sign-in); writes also "
    f"need the session's CSRF token in '{sessions.CSRF_HEADER}'.",
)
# RFC 9110 section 9.2.1: methods that do not change anything need no CSRF token.
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Principal:
    """The caller. ``via`` is ``api_token`` or ``staff_session``; ``ref`` the id of that token
    or session, for the audit trail; ``staff_id`` the person in the staff directory, if the
    caller is one (not a service token); ``organization_id`` whose flags they see (None: the
    system level, every organization's)."""

    via: str
    ref: str
    name: str
    role: Role
    staff_id: uuid.UUID | None = None
    organization_id: uuid.UUID | None = None

    @property
    def scope(self) -> OrganizationScope:
        return OrganizationScope(self.organization_id)

    @classmethod
    def of_session(cls, staff: StaffSession) -> Principal:
        return cls(
            via="staff_session",
            ref=str(staff.id),
            name=staff.name,
            role=Role(staff.role),
            staff_id=staff.staff_id,
            organization_id=staff.organization_id,
        )


async def current_principal(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    cookie: Annotated[str | None, Depends(_session_cookie)],
) -> Principal:
    """RFC 6750 bearer authentication with an API token, or the dashboard's session cookie.

    From here on every flag query on the request's database session is limited to the
    caller's organization (app.organizations.scope)."""
    principal = await _authenticated(request, session, credentials, cookie)
    bind(session, principal.scope)
    return principal


async def _authenticated(
    request: Request,
    session: SessionDep,
    credentials: HTTPAuthorizationCredentials | None,
    cookie: str | None,
) -> Principal:
    if credentials is not None and credentials.credentials:
        holder = await service.authenticate(session, credentials.credentials)
        return Principal(
            via="api_token",
            ref=str(holder.token.id),
            name=holder.name,
            role=holder.role,
            staff_id=holder.token.staff_id,
            organization_id=holder.organization_id,
        )
    if cookie:
        settings = request.app.state.settings
        staff = await sessions.resolve(session, cookie, settings=settings)
        if request.method not in _SAFE_METHODS and not sessions.csrf_matches(
            staff,
            request.headers.get(sessions.CSRF_HEADER),
            secret_key=settings.resolved_secret_key(),
        ):
            raise CsrfTokenMissing(
                f"Changes made with a dashboard session must carry the session's CSRF token "
                f"in the '{sessions.CSRF_HEADER}' header (the dashboard pages do this)."
            )
        return Principal.of_session(staff)
    raise MissingToken(
        "Send an API token as 'Authorization: Bearer <token>'. "
        "An admin creates one with `valueloop tokens create --role ROLE --name NAME`."
    )


def require(permission: Permission) -> Callable[..., Awaitable[Principal]]:
    """A dependency that lets through only roles holding ``permission``."""

    async def dependency(
        principal: Annotated[Principal, Depends(current_principal)],
    ) -> Principal:
        if permission not in ROLE_PERMISSIONS[principal.role]:
            allowed = ", ".join(role.value for role in roles_with(permission))
            raise RoleNotAllowed(
                f"The role {principal.role.value!r} may not {permission.value.replace('_', ' ')}; "
                f"this needs one of: {allowed}."
            )
        if permission in SYSTEM_LEVEL_ONLY and principal.organization_id is not None:
            raise RoleNotAllowed(
                f"Only system-level staff may {permission.value.replace('_', ' ')}: it concerns "
                "every organization sharing this registry."
            )
        return principal

    return dependency


AnyStaff = Annotated[Principal, Depends(current_principal)]
CanReadFlags = Annotated[Principal, Depends(require(Permission.READ_FLAGS))]
CanWorkFlags = Annotated[Principal, Depends(require(Permission.WORK_FLAGS))]
CanAssignFlags = Annotated[Principal, Depends(require(Permission.ASSIGN_FLAGS))]
CanExportFlags = Annotated[Principal, Depends(require(Permission.EXPORT_FLAGS))]
CanManageTokens = Annotated[Principal, Depends(require(Permission.MANAGE_TOKENS))]
CanManageEhrs = Annotated[Principal, Depends(require(Permission.MANAGE_EHRS))]
CanReadAudit = Annotated[Principal, Depends(require(Permission.READ_AUDIT))]
CanManageStaff = Annotated[Principal, Depends(require(Permission.MANAGE_STAFF))]
CanManageNotifications = Annotated[Principal, Depends(require(Permission.MANAGE_NOTIFICATIONS))]
CanManagePrices = Annotated[Principal, Depends(require(Permission.MANAGE_PRICES))]
