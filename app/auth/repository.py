"""Every query on API tokens, staff sessions and staff sign-ins in flight."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.auth.models import ApiToken, OidcSignIn, StaffSession


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


async def session_by_hash(session: AsyncSession, secret_hash: str) -> StaffSession | None:
    result = await session.scalars(
        select(StaffSession).where(col(StaffSession.secret_hash) == secret_hash)
    )
    return result.first()


async def delete_session(session: AsyncSession, record: StaffSession) -> None:
    await session.delete(record)
    await session.flush()


def add_sign_in(session: AsyncSession, pending: OidcSignIn) -> None:
    session.add(pending)


async def take_sign_in(session: AsyncSession, state_hash: str) -> OidcSignIn | None:
    """Read and delete in one statement, so one state value can finish one sign-in only."""
    result = await session.scalars(
        sa.delete(OidcSignIn).where(col(OidcSignIn.state_hash) == state_hash).returning(OidcSignIn)
    )
    return result.first()
