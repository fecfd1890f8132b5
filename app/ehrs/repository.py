"""Every query on registered EHRs."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.ehrs.models import RegisteredEhr
from app.launch.models import AppSession, PendingLaunchRecord


async def ehr_by_issuer(session: AsyncSession, issuer: str) -> RegisteredEhr | None:
    result = await session.scalars(select(RegisteredEhr).where(col(RegisteredEhr.issuer) == issuer))
    return result.first()


async def all_ehrs(session: AsyncSession) -> Sequence[RegisteredEhr]:
    result = await session.scalars(select(RegisteredEhr).order_by(col(RegisteredEhr.issuer)))
    return result.all()


def add(session: AsyncSession, ehr: RegisteredEhr) -> None:
    session.add(ehr)


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
