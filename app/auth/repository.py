"""Every query on API tokens."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.auth.models import ApiToken


async def by_hash(session: AsyncSession, token_hash: str) -> ApiToken | None:
    result = await session.scalars(select(ApiToken).where(col(ApiToken.token_hash) == token_hash))
    return result.first()


async def by_id(session: AsyncSession, token_id: uuid.UUID) -> ApiToken | None:
    return await session.get(ApiToken, token_id)


async def all_tokens(session: AsyncSession) -> Sequence[ApiToken]:
    result = await session.scalars(select(ApiToken).order_by(col(ApiToken.created_at)))
    return result.all()


def add(session: AsyncSession, token: ApiToken) -> None:
    session.add(token)
