"""Arranging flags with a history for the FHIR tests: moves, replies and reclassifications made
through the registry's own review functions, by a named staff member."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.flags import review, service
from app.flags.models import Flag
from app.flags.schemas import ClassificationIn, TransitionIn
from app.flags.workflow import Status
from app.organizations.models import DEFAULT_ORGANIZATION_ID
from app.staff.models import Staff
from tests.conftest import Tokens
from tests.factories import flag_create


def actor(person: Staff) -> review.Actor:
    return review.Actor(name=person.name, role="analyst", staff_id=person.id)


async def move(
    factory: async_sessionmaker[AsyncSession],
    flag_id: uuid.UUID,
    to: Status,
    by: Staff,
    **fields: object,
) -> None:
    async with factory() as session:
        change = TransitionIn.model_validate({"to": to, **fields})
        await review.transition(session, flag_id, change, actor=actor(by), if_match=None)
        await session.commit()


async def reply(
    factory: async_sessionmaker[AsyncSession], flag_id: uuid.UUID, body: str, by: Staff
) -> None:
    async with factory() as session:
        await review.reply(session, flag_id, body, actor=actor(by), if_match=None)
        await session.commit()


async def comment(
    factory: async_sessionmaker[AsyncSession], flag_id: uuid.UUID, body: str, by: Staff
) -> None:
    async with factory() as session:
        await review.comment(session, flag_id, body, actor=actor(by), if_match=None)
        await session.commit()


async def reclassify(
    factory: async_sessionmaker[AsyncSession], flag_id: uuid.UUID, by: Staff, **change: Any
) -> None:
    async with factory() as session:
        await review.reclassify(
            session,
            flag_id,
            ClassificationIn.model_validate(change),
            actor=actor(by),
            if_match=None,
        )
        await session.commit()


def unsaved_flag(status: Status = Status.SUBMITTED, **overrides: Any) -> Flag:
    """A flag as the registry stores it, in ``status``, without a database."""
    now = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    flag = Flag(
        **service.flag_row(
            flag_create(**overrides),
            organization_id=DEFAULT_ORGANIZATION_ID,
            now=now,
            fingerprint="0" * 64,
            receipt_hash=None,
        )
    )
    flag.status = status
    return flag


async def fhir_bundle(
    client: httpx.AsyncClient, tokens: Tokens, flag_id: uuid.UUID, role: str = "lead"
) -> tuple[Any, str]:
    """The flag's Bundle as served, parsed back with the R4B models (validated; typed Any so
    tests can reach into optional elements), and its JSON text."""
    response = await client.get(f"/api/v1/flags/{flag_id}/fhir", headers=tokens.header(role))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/fhir+json"
    return Bundle.model_validate_json(response.text), response.text


def parse_ndjson(text: str) -> list[Any]:
    """Each line parsed with the R4B model of its resourceType (so each one validates)."""
    parsed = []
    for line in text.splitlines():
        data = json.loads(line)
        parsed.append(get_fhir_model_class(data["resourceType"]).model_validate(data))
    return parsed


def of_type(bundle: Any, resource_type: str) -> list[Any]:
    return [
        entry.resource
        for entry in bundle.entry or []
        if entry.resource.get_resource_type() == resource_type
    ]
