"""Recording PHI access.

An :class:`Auditor` is bound to one request (its session, caller, request id and address) and
adds audit rows to the request's transaction, so the record and the work it describes commit
together or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEvent
from app.auth.dependencies import Principal, current_principal
from app.db import SessionDep
from app.kit.time import utcnow


class AuditAction(StrEnum):
    READ = "read"
    SEARCH = "search"
    CREATE = "create"
    UPDATE = "update"
    EXPORT = "export"
    SIGN_IN = "sign_in"
    SIGN_OUT = "sign_out"
    REFUSE = "refuse"  # a security event: something was turned away before any work


@dataclass(frozen=True)
class Auditor:
    session: AsyncSession
    actor_kind: str
    actor_id: str
    actor_role: str
    request_id: str | None
    source_ip: str | None

    def record(
        self,
        action: AuditAction,
        entity_type: str,
        *,
        entity_id: str | None = None,
        issuer: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        self.session.add(
            AuditEvent(
                at=utcnow(),
                actor_kind=self.actor_kind,
                actor_id=self.actor_id,
                actor_role=self.actor_role,
                action=action,
                entity_type=entity_type,
                entity_id=entity_id,
                issuer=issuer,
                request_id=self.request_id,
                source_ip=self.source_ip,
                details=details,
            )
        )


def for_request(
    request: Request, session: AsyncSession, *, actor_kind: str, actor_id: str, actor_role: str
) -> Auditor:
    """An auditor for one request's actor, with the request's id and address."""
    return Auditor(
        session=session,
        actor_kind=actor_kind,
        actor_id=actor_id,
        actor_role=actor_role,
        request_id=getattr(request.state, "request_id", None),
        source_ip=request.client.host if request.client else None,
    )


def for_principal(request: Request, session: AsyncSession, principal: Principal) -> Auditor:
    """An auditor for a staff member, also where no dependency resolved them (sign-in)."""
    return for_request(
        request,
        session,
        actor_kind=principal.via,
        actor_id=f"{principal.name} ({principal.ref})",
        actor_role=principal.role.value,
    )


async def staff_auditor(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(current_principal)],
) -> Auditor:
    return for_principal(request, session, principal)


StaffAuditor = Annotated[Auditor, Depends(staff_auditor)]
