"""Factories: plain functions with keyword overrides."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.models import Role
from app.flags import service
from app.flags.models import Flag
from app.flags.schemas import FlagCreate
from app.organizations.models import DEFAULT_ORGANIZATION_ID
from app.staff import service as staff_service
from app.staff.models import Staff
from app.staff.schemas import StaffCreate, StaffUpdate

ISSUER = "https://ehr.example.test/fhir"
SECRET_KEY = "test-secret-key-" + "x" * 32


def flag_create(**overrides: Any) -> FlagCreate:
    """A valid flag as the clinician side would send it; override any top-level field."""
    data: dict[str, Any] = {
        "issuer": ISSUER,
        "idempotency_key": uuid.uuid4().hex,
        "anonymity": "identified",
        "reporter": {
            "fhir_user": "Practitioner/pr-1",
            "display": "Dr. Avery Sample",
            "email": "avery.sample@example.org",
            "role": "physician",
            "department": "Primary Care - Riverside",
        },
        "patient": {"fhir_id": "pt-1", "age_band": "50-64", "sex": "female"},
        "encounter": {
            "fhir_id": "enc-1",
            "class_code": "AMB",
            "type": "Office visit",
            "department": "Primary Care - Riverside",
            "start": datetime(2026, 3, 2, 9, 0, tzinfo=UTC).isoformat(),
        },
        "order": {
            "resource_type": "ServiceRequest",
            "fhir_id": "sr-1",
            "code": {
                "system": "http://www.ama-assn.org/go/cpt",
                "code": "72148",
                "display": "MRI lumbar spine without contrast",
            },
            "status": "active",
            "intent": "order",
            "authored_on": datetime(2026, 3, 2, 9, 20, tzinfo=UTC).isoformat(),
            "requester_role": "Attending physician",
        },
        "timing": "before",
        "reason": "not_indicated",
        "driver": "patient_request",
        "note": "Week-one back pain, no red flags.",
        "estimated_cost": {
            "amount": "207.64",
            "source": "Medicare national reference price (PFS, non-facility)",
            "year": 2022,
        },
    }
    data.update(overrides)
    return FlagCreate.model_validate(data)


async def make_flag(
    factory: async_sessionmaker[AsyncSession],
    *,
    organization_id: uuid.UUID = DEFAULT_ORGANIZATION_ID,
    **overrides: Any,
) -> Flag:
    """A committed, submitted flag (of the default organization unless told otherwise)."""
    async with factory() as session:
        created = await service.create_flag(
            session,
            flag_create(**overrides),
            organization_id=organization_id,
            secret_key=SECRET_KEY,
        )
        await session.commit()
        return created.flag


async def make_staff(factory: async_sessionmaker[AsyncSession], **overrides: Any) -> Staff:
    """A committed person in the staff directory (a lead unless told otherwise); ``active=False``
    makes a deactivated one."""
    active = overrides.pop("active", True)
    name = overrides.pop("name", f"Dr. {uuid.uuid4().hex[:6].title()} Sample")
    data = {
        "email": f"{uuid.uuid4().hex[:10]}@example.org",
        "name": name,
        "role": Role.LEAD,
        **overrides,
    }
    async with factory() as session:
        person = await staff_service.add(session, StaffCreate.model_validate(data))
        if not active:
            await staff_service.update(session, person.id, StaffUpdate(active=False))
        await session.commit()
        return person


# People the flag tests name as owners: fixed ids, so an owner can be written in a parametrize
# table as ``sid("Dr. E. Nwosu")``; the ``known_staff`` fixture puts them in the directory.
KNOWN_STAFF = ("Dr. E. Nwosu", "Dr. H. Tanaka", "R. Alvarez", "K. Osei", "Dr. L. Fischer")


def sid(name: str) -> str:
    """The staff id of one of KNOWN_STAFF."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"https://valueloop.test/staff/{name}"))


async def add_known_staff(factory: async_sessionmaker[AsyncSession]) -> None:
    async with factory() as session:
        for name in KNOWN_STAFF:
            session.add(
                Staff(
                    id=uuid.UUID(sid(name)),
                    name=name,
                    email=f"{name.split()[-1].lower()}@example.org",
                    role=Role.LEAD,
                    active=True,
                    created_at=datetime(2026, 1, 1, tzinfo=UTC),
                )
            )
        await session.commit()
