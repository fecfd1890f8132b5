"""Every query on organizations."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.organizations.models import Organization


async def by_code(session: AsyncSession, code: str) -> Organization | None:
    result = await session.scalars(select(Organization).where(col(Organization.code) == code))
    return result.first()


async def by_id(session: AsyncSession, organization_id: uuid.UUID) -> Organization | None:
    return await session.get(Organization, organization_id)


async def everyone(session: AsyncSession) -> Sequence[Organization]:
    result = await session.scalars(select(Organization).order_by(col(Organization.code)))
    return result.all()


def add(session: AsyncSession, organization: Organization) -> None:
    session.add(organization)
