"""Factories: plain functions with keyword overrides."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.flags import service
from app.flags.models import Flag
from app.flags.schemas import FlagCreate

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


async def make_flag(factory: async_sessionmaker[AsyncSession], **overrides: Any) -> Flag:
    """A committed, submitted flag."""
    async with factory() as session:
        created = await service.create_flag(
            session, flag_create(**overrides), secret_key=SECRET_KEY
        )
        await session.commit()
        return created.flag
