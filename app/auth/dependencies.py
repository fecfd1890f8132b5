"""Who is calling the quality API, and may they do this?

Permissions are dependencies, so handlers never check roles by hand:

    @router.get("/flags")
    async def list_flags(principal: Annotated[Principal, Depends(require(Permission.READ_FLAGS))]):
        ...
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.auth import service
from app.auth.errors import MissingToken, RoleNotAllowed
from app.auth.models import Role
from app.auth.permissions import ROLE_PERMISSIONS, Permission, roles_with
from app.db import SessionDep

_bearer = HTTPBearer(auto_error=False, description="An API token from `valueloop tokens create`.")


@dataclass(frozen=True)
class Principal:
    token_id: str
    name: str
    role: Role


async def current_principal(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """RFC 6750 bearer authentication with a ValueLoop API token."""
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise MissingToken(
            "Send an API token as 'Authorization: Bearer <token>'. "
            "An admin creates one with `valueloop tokens create --role ROLE --name NAME`."
        )
    record = await service.authenticate(session, credentials.credentials)
    return Principal(token_id=str(record.id), name=record.name, role=Role(record.role))


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
        return principal

    return dependency


CanReadFlags = Annotated[Principal, Depends(require(Permission.READ_FLAGS))]
CanWorkFlags = Annotated[Principal, Depends(require(Permission.WORK_FLAGS))]
CanAssignFlags = Annotated[Principal, Depends(require(Permission.ASSIGN_FLAGS))]
CanExportFlags = Annotated[Principal, Depends(require(Permission.EXPORT_FLAGS))]
CanManageTokens = Annotated[Principal, Depends(require(Permission.MANAGE_TOKENS))]
CanReadAudit = Annotated[Principal, Depends(require(Permission.READ_AUDIT))]
