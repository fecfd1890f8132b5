"""Admin endpoints for API tokens (``/api/v1/tokens``)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from app.auth import service
from app.auth.dependencies import CanManageTokens
from app.auth.schemas import TokenCreate, TokenIssued, TokenPublic
from app.db import SessionDep
from app.organizations import service as organizations

router = APIRouter(prefix="/api/v1/tokens", tags=["tokens"])


@router.get("")
async def list_tokens(session: SessionDep, _: CanManageTokens) -> list[TokenPublic]:
    """All API tokens, without their secrets."""
    return [TokenPublic.of(record) for record in await service.list_tokens(session)]


@router.post("", status_code=201)
async def create_token(
    request: TokenCreate, session: SessionDep, admin: CanManageTokens
) -> TokenIssued:
    """Create a token for a staff member or a named service; its secret is in this response
    only."""
    issued = await service.issue_for(
        session,
        name=request.name,
        role=request.role,
        staff_id=request.staff_id,
        created_by=admin.name,
        organization_id=await organizations.id_of(session, request.organization),
    )
    return TokenIssued(**TokenPublic.of(issued.record).model_dump(), token=issued.secret)


@router.delete("/{token_id}")
async def revoke_token(token_id: uuid.UUID, session: SessionDep, _: CanManageTokens) -> TokenPublic:
    """Revoke a token; requests with it are refused from now on."""
    return TokenPublic.of(await service.revoke(session, token_id))
