"""The organizations sharing the registry (``/api/v1``): what the report's picker lists."""

from __future__ import annotations

from fastapi import APIRouter

from app.auth.dependencies import CanReadFlags
from app.db import SessionDep
from app.organizations import service
from app.organizations.schemas import OrganizationList, OrganizationPublic

router = APIRouter(prefix="/api/v1", tags=["registry"])


@router.get("/organizations")
async def list_organizations(session: SessionDep, principal: CanReadFlags) -> OrganizationList:
    """Codes and names: every organization for system-level staff, else the caller's own."""
    found = await service.visible_to(session, principal.organization_id)
    return OrganizationList(
        items=[OrganizationPublic(id=o.id, code=o.code, name=o.name) for o in found]
    )
