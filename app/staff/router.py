"""The staff directory (``/api/v1/staff``): the quality team reads it (owner pickers), admins
add people, change their role and deactivate or reactivate them."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from app.audit.service import AuditAction, StaffAuditor
from app.auth.dependencies import CanManageStaff, CanReadFlags
from app.auth.models import Role
from app.db import SessionDep
from app.staff import service
from app.staff.schemas import StaffCreate, StaffPage, StaffPublic, StaffUpdate

router = APIRouter(prefix="/api/v1/staff", tags=["staff"])

MAX_PAGE_SIZE = 200


@router.get("")
async def list_staff(
    session: SessionDep,
    _: CanReadFlags,
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=200,
            description="The start of a name or email, any case (for a type-ahead).",
        ),
    ] = None,
    active: Annotated[
        bool | None, Query(description="Only active (true) or deactivated (false) people.")
    ] = None,
    role: Annotated[Role | None, Query(description="Only people with this role.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Page size.")] = 50,
    cursor: Annotated[
        str | None, Query(max_length=500, description="'next_cursor' of the previous page.")
    ] = None,
) -> StaffPage:
    """The staff directory in name order, one page at a time."""
    found = await service.page(
        session, prefix=q, active=active, role=role, limit=limit, cursor=cursor
    )
    return StaffPage(
        items=[StaffPublic.of(person) for person in found.people], next_cursor=found.next_cursor
    )


@router.post("", status_code=201)
async def add_staff(
    data: StaffCreate, session: SessionDep, auditor: StaffAuditor, _: CanManageStaff
) -> StaffPublic:
    """Add a person to the directory; 409 if their email is already there."""
    person = await service.add(session, data)
    auditor.record(AuditAction.CREATE, "staff", entity_id=str(person.id))
    return StaffPublic.of(person)


@router.patch("/{staff_id}")
async def update_staff(
    staff_id: uuid.UUID,
    change: StaffUpdate,
    session: SessionDep,
    auditor: StaffAuditor,
    _: CanManageStaff,
) -> StaffPublic:
    """Change a person's name, email or role, or deactivate (``active: false``) or reactivate
    them. Deactivating keeps their history and stops their sessions and tokens."""
    person = await service.update(session, staff_id, change)
    auditor.record(
        AuditAction.UPDATE,
        "staff",
        entity_id=str(person.id),
        details={"changed": sorted(change.model_dump(exclude_none=True))},
    )
    return StaffPublic.of(person)
