"""Every query on registered EHRs, pending launches and app sessions."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.launch.models import AppSession, PendingLaunchRecord, RegisteredEhr


async def ehr_by_issuer(session: AsyncSession, issuer: str) -> RegisteredEhr | None:
    result = await session.scalars(select(RegisteredEhr).where(col(RegisteredEhr.issuer) == issuer))
    return result.first()


async def all_ehrs(session: AsyncSession) -> Sequence[RegisteredEhr]:
    result = await session.scalars(select(RegisteredEhr).order_by(col(RegisteredEhr.issuer)))
    return result.all()


def add(session: AsyncSession, row: RegisteredEhr | PendingLaunchRecord | AppSession) -> None:
    session.add(row)


async def take_pending(session: AsyncSession, state_hash: str) -> PendingLaunchRecord | None:
    """Read and delete in one statement, so two callbacks with one state cannot both win."""
    result = await session.scalars(
        sa.delete(PendingLaunchRecord)
        .where(col(PendingLaunchRecord.state_hash) == state_hash)
        .returning(PendingLaunchRecord)
    )
    return result.first()


async def session_by_handle(session: AsyncSession, handle_hash: str) -> AppSession | None:
    result = await session.scalars(
        select(AppSession).where(col(AppSession.handle_hash) == handle_hash)
    )
    return result.first()


async def session_for_update(session: AsyncSession, session_id: uuid.UUID) -> AppSession | None:
    """The session row, locked until the transaction ends (PostgreSQL; SQLite has one writer)."""
    result = await session.scalars(
        select(AppSession)
        .where(col(AppSession.id) == session_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return result.first()


async def touch(session: AsyncSession, session_id: uuid.UUID, at: datetime) -> None:
    """Record activity without loading or versioning the row (parallel requests are normal)."""
    await session.execute(
        sa.update(AppSession).where(col(AppSession.id) == session_id).values(last_seen_at=at)
    )


async def keep_flag_context(
    session: AsyncSession, session_id: uuid.UUID, flag_context: dict[str, Any]
) -> None:
    await session.execute(
        sa.update(AppSession)
        .where(col(AppSession.id) == session_id)
        .values(flag_context=flag_context)
    )


async def ehr_by_id(session: AsyncSession, ehr_id: uuid.UUID) -> RegisteredEhr | None:
    return await session.get(RegisteredEhr, ehr_id)


async def delete_ehr(session: AsyncSession, ehr: RegisteredEhr) -> None:
    """The registration, its open app sessions and its launches in flight, in one go."""
    await session.execute(sa.delete(AppSession).where(col(AppSession.ehr_id) == ehr.id))
    await session.execute(
        sa.delete(PendingLaunchRecord).where(col(PendingLaunchRecord.issuer) == ehr.issuer)
    )
    await session.delete(ehr)
    await session.flush()
