"""Known March 2026 data for the transparency report, computed by hand.

``main`` (the default organization, a hospital):
- MRI lumbar spine (CPT 72148, $207.64): 14 flags, reason not indicated; 12 of them caught at
  ordering (accepted CDS cards).
- Vitamin D (CPT 82306, $29.60): 12 flags, 11 repeat/duplicate and 1 not indicated.
- PSA (CPT 84153, $18.39): 3 flags, low benefit.
  29 flags, $3,317.33; caught 12, $2,491.68.
- Closed (with a reply): 10 MRI + 2 vitamin D, ended after 1..12 days (median 156 h).
  Answered: those 12 and 6 more still in review (18), first replies after 1..18 hours
  (median 9.5 h); 11 unanswered.
- One MRI flag in April (outside the period).
``practice``: 9 PSA flags in March, in review, unanswered, so the system has 38 flags, PSA 12.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.models import Role
from app.cds.models import CardFeedback, IssuedCard
from app.flags.models import Flag, FlagEvent
from app.kit.time import week_start
from app.organizations import service as organizations
from app.organizations.models import DEFAULT_ORGANIZATION_ID
from tests.factories import make_flag
from tests.organizations.conftest import issue

CPT = "http://www.ama-assn.org/go/cpt"
MARCH = {"from": "2026-03-01", "to": "2026-03-31"}
IN_MARCH = {"created_from": "2026-03-01", "created_to": "2026-03-31"}
MARCH_2 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PRICES = {"72148": ("MRI lumbar spine", "207.64"), "82306": ("Vitamin D", "29.60"),
          "84153": ("PSA", "18.39")}  # fmt: skip


def order(code: str, number: int) -> dict[str, Any]:
    display, _ = PRICES[code]
    return {
        "resource_type": "ServiceRequest",
        "fhir_id": f"sr-{code}-{number}",
        "code": {"system": CPT, "code": code, "display": display},
        "status": "active",
    }


def cost(code: str) -> dict[str, Any]:
    return {"amount": PRICES[code][1], "source": "Medicare national reference price", "year": 2025}


@dataclass(frozen=True)
class Known:
    practice_id: uuid.UUID
    main: list[Flag]  # in March, in the order the docstring lists them
    tokens: dict[str, str]

    def header(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    @property
    def closed(self) -> list[Flag]:
        return [flag for flag in self.main if flag.status == "closed"]


async def flag_in(
    factory: async_sessionmaker[AsyncSession],
    code: str,
    reason: str,
    number: int,
    *,
    at: datetime = MARCH_2,
    organization_id: uuid.UUID = DEFAULT_ORGANIZATION_ID,
) -> Flag:
    flag = await make_flag(
        factory,
        organization_id=organization_id,
        order=order(code, number),
        reason=reason,
        driver=None,
        estimated_cost=cost(code),
    )
    async with factory() as session:
        stored = await session.get(Flag, flag.id)
        assert stored is not None
        stored.created_at = stored.updated_at = at
        stored.created_week = week_start(at)
        await session.commit()
        return stored


async def settle(
    factory: async_sessionmaker[AsyncSession],
    flag: Flag,
    *,
    reply_hours: int | None = None,
    closed_days: int | None = None,
) -> Flag:
    """Give the flag a first reply after ``reply_hours`` and close it after ``closed_days``."""
    async with factory() as session:
        stored = await session.get(Flag, flag.id)
        assert stored is not None
        if reply_hours is not None:
            stored.first_reply_at = stored.created_at + timedelta(hours=reply_hours)
            stored.reply_wait_seconds = reply_hours * 3600.0
        if closed_days is not None:
            stored.status = "closed"
            stored.closed_at = stored.created_at + timedelta(days=closed_days)
            stored.close_wait_seconds = closed_days * 86400.0
        await session.commit()
        return stored


async def catch(factory: async_sessionmaker[AsyncSession], flag: Flag) -> None:
    """Record the flag as made by an accepted CDS card (a catch)."""
    card = IssuedCard(
        organization_id=DEFAULT_ORGANIZATION_ID,
        id=uuid.uuid4(),
        service_id="valueloop-order-sign",
        hook_instance=uuid.uuid4(),
        rule_id="low-back-pain-imaging",
        rule_version="1",
        order_ref=f"ServiceRequest/{flag.order_fhir_id}",
        patient_id=flag.patient_fhir_id,
        user_id="Practitioner/prac-1",
        client_iss="https://ehr.example.org/fhir",
        suggestion_id=uuid.uuid4(),
        issued_at=flag.created_at,
        snapshot={},
        order_code_system=CPT,
        order_code=flag.order_code,
    )
    async with factory() as session:
        session.add(card)
        await session.flush()
        session.add(
            CardFeedback(
                card_id=card.id,
                outcome="accepted",
                accepted_suggestion=True,
                outcome_at=flag.created_at,
                received_at=flag.created_at,
                flag_id=flag.id,
                counted=True,
            )
        )
        await session.commit()


async def add_reply(
    factory: async_sessionmaker[AsyncSession], flag: Flag, body: str, *, shareable: bool
) -> None:
    async with factory() as session:
        session.add(
            FlagEvent(
                flag_id=flag.id,
                at=flag.closed_at or flag.created_at,
                kind="reply",
                actor_name="Quality team",
                actor_role="analyst",
                body=body,
                visible_to_reporter=True,
                details={"shareable": True} if shareable else None,
            )
        )
        await session.commit()


async def _main_flags(factory: async_sessionmaker[AsyncSession]) -> list[Flag]:
    plan = (
        [("72148", "not_indicated")] * 14
        + [("82306", "repeat_duplicate")] * 11
        + [("82306", "not_indicated"), ("84153", "low_benefit")]
        + [("84153", "low_benefit")] * 2
    )
    flags = [await flag_in(factory, code, reason, n) for n, (code, reason) in enumerate(plan)]
    for flag in flags[:12]:
        await catch(factory, flag)
    # Closed: MRI 0-9 and vitamin D 14-15; answered too: MRI 10-13 and vitamin D 16-17.
    closed = [*range(10), 14, 15]
    answered = [*closed, 10, 11, 12, 13, 16, 17]
    for hours, index in enumerate(answered, start=1):
        days = closed.index(index) + 1 if index in closed else None
        flags[index] = await settle(factory, flags[index], reply_hours=hours, closed_days=days)
    return flags


@pytest.fixture
async def known(session_factory) -> Known:
    async with session_factory() as session:
        practice = await organizations.add(session, "practice", name="Riverside Family Practice")
        await session.commit()
    main = await _main_flags(session_factory)
    await flag_in(
        session_factory, "72148", "not_indicated", 99, at=datetime(2026, 4, 1, tzinfo=UTC)
    )
    for number in range(9):
        await flag_in(
            session_factory, "84153", "low_benefit", 50 + number, organization_id=practice.id
        )
    tokens = {
        "main_analyst": await issue(session_factory, Role.ANALYST, DEFAULT_ORGANIZATION_ID),
        "practice_analyst": await issue(session_factory, Role.ANALYST, practice.id),
        "system_analyst": await issue(session_factory, Role.ANALYST, None),
    }
    return Known(practice_id=practice.id, main=main, tokens=tokens)
