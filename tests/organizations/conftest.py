"""Two organizations sharing one registry, and tokens of each one's staff."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth import service as token_service
from app.auth.models import Role
from app.flags.models import Flag
from app.organizations import service as organizations
from app.organizations.models import DEFAULT_ORGANIZATION_ID
from tests.factories import make_flag

# The command-line tests' fixtures (a database file of their own, fresh settings).
from tests.test_cli import database_file, env, fresh_settings  # noqa: F401


@dataclass(frozen=True)
class TwoOrganizations:
    """``main`` (the default organization: a hospital) and ``practice`` (an affiliated
    practice); a flag of each, and bearer headers of each one's staff and the system's."""

    practice_id: uuid.UUID
    flag_a: Flag
    flag_b: Flag
    tokens: dict[str, str]

    def header(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


async def issue(
    factory: async_sessionmaker[AsyncSession], role: Role, organization_id: uuid.UUID | None
) -> str:
    async with factory() as session:
        issued = token_service.issue(
            session,
            name=f"{role.value} of {organization_id}",
            role=role,
            created_by="tests",
            organization_id=organization_id,
        )
        await session.commit()
        return issued.secret


@pytest.fixture
async def two_organizations(session_factory) -> TwoOrganizations:
    async with session_factory() as session:
        practice = await organizations.add(session, "practice", name="Riverside Family Practice")
        await session.commit()
    flag_a = await make_flag(
        session_factory,
        note="Hospital note: repeat lipid panel.",
        encounter={"fhir_id": "enc-a", "class_code": "AMB", "department": "Hospital Medicine"},
    )
    flag_b = await make_flag(
        session_factory,
        organization_id=practice.id,
        note="Practice note: vitamin D screen.",
        encounter={"fhir_id": "enc-b", "class_code": "AMB", "department": "Practice Pediatrics"},
        order={
            "resource_type": "ServiceRequest",
            "fhir_id": "order-b",
            "code": {"system": "http://loinc.org", "code": "62292-8", "display": "Vitamin D"},
            "status": "active",
            "intent": "order",
        },
    )
    tokens = {
        "a_analyst": await issue(session_factory, Role.ANALYST, DEFAULT_ORGANIZATION_ID),
        "a_admin": await issue(session_factory, Role.ADMIN, DEFAULT_ORGANIZATION_ID),
        "b_analyst": await issue(session_factory, Role.ANALYST, practice.id),
        "system_analyst": await issue(session_factory, Role.ANALYST, None),
        "system_admin": await issue(session_factory, Role.ADMIN, None),
    }
    return TwoOrganizations(practice_id=practice.id, flag_a=flag_a, flag_b=flag_b, tokens=tokens)
