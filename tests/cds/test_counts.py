"""The CDS services' daily counts (issue #15): orders evaluated, cards shown, accepted and
overridden per day, service, rule and order code, grown in the call's own transaction; each
card's feedback counted once, however often or concurrently it is sent; never a patient."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from app.cds import repository
from app.cds.models import CardFeedback, CdsDailyCount
from app.kit.time import utcnow
from app.organizations.models import DEFAULT_ORGANIZATION_ID
from tests.cds.test_cards import conditions, hook_request
from tests.cds.test_endpoints import (
    SERVICE,
    a_card,
    bearer,
    feedback,
    outcome,
)
from tests.lowvalue.factories import service_request

pytestmark = pytest.mark.usefixtures("clean_tables")

CPT = "http://www.ama-assn.org/go/cpt"
BACK_PAIN = "low-back-pain-imaging"
VITAMIN_D = "vitamin-d-testing"


async def call_with(client, signer, *orders: dict[str, Any], back_pain: bool = True) -> list[Any]:
    """One order-sign call for ``orders`` (drafted together); the cards it got."""
    body = hook_request(
        orders[0], conditions=conditions("M54.50") if back_pain else conditions()
    ).model_dump(mode="json")
    body["context"]["draftOrders"]["entry"] = [{"resource": order} for order in orders]
    path = f"/cds-services/{SERVICE}"
    response = await client.post(path, json=body, headers=bearer(signer, path))
    assert response.status_code == 200, response.text
    return list(response.json()["cards"])


async def counts(session_factory) -> dict[tuple[str, str], tuple[int, int, int, int]]:
    """Today's counts of the order-sign service, by (rule, code)."""
    async with session_factory() as session:
        rows = (await session.scalars(sa.select(CdsDailyCount))).all()
    assert {(row.day, row.service_id, row.order_code_system) for row in rows} <= {
        (utcnow().date(), SERVICE, CPT)
    }
    return {
        (row.rule_id, row.order_code): (row.evaluated, row.shown, row.accepted, row.overridden)
        for row in rows
    }


def accepting(card: dict[str, Any]) -> dict[str, Any]:
    return outcome(card, "accepted", acceptedSuggestions=[{"id": card["suggestions"][0]["uuid"]}])


def overriding(card: dict[str, Any], reason: int | None = 0) -> dict[str, Any]:
    given = {} if reason is None else {"reason": card["overrideReasons"][reason]}
    return outcome(card, "overridden", overrideReason=given)


async def test_hook_calls_and_feedback_add_up_per_rule_and_order_code(
    client, signer, session_factory
):
    [accepted] = await call_with(client, signer, service_request("cpt", "72148"))
    [overridden] = await call_with(client, signer, service_request("cpt", "72148"))
    # Evaluated, not low-value: no back pain on record. Then an order no rule is about.
    assert await call_with(client, signer, service_request("cpt", "72148"), back_pain=False) == []
    assert await call_with(client, signer, service_request("cpt", "99213")) == []
    mri, vitamin_d = await call_with(
        client,
        signer,
        service_request("cpt", "72148", id="sr1"),
        service_request("cpt", "82306", id="sr2"),
    )

    response = await feedback(
        client,
        signer,
        accepting(accepted),
        overriding(overridden),
        overriding(vitamin_d, reason=None),
    )

    assert response.status_code == 200, response.text
    assert mri["uuid"] != vitamin_d["uuid"]
    assert await counts(session_factory) == {
        (BACK_PAIN, "72148"): (4, 3, 1, 1),
        (VITAMIN_D, "82306"): (1, 1, 0, 1),
    }


async def test_feedback_sent_again_or_changed_later_counts_its_card_once(
    client, signer, session_factory
):
    card = await a_card(client, signer)
    first = accepting(card)

    assert (await feedback(client, signer, first)).json() == {"stored": 1}
    assert (await feedback(client, signer, first)).json() == {"stored": 0}
    later = overriding(card) | {"outcomeTimestamp": datetime.now(UTC).isoformat()}
    assert (await feedback(client, signer, later)).json() == {"stored": 1}

    assert await counts(session_factory) == {(BACK_PAIN, "72148"): (1, 1, 1, 0)}
    async with session_factory() as session:
        rows = (await session.scalars(sa.select(CardFeedback))).all()
    assert sorted((row.outcome, row.counted) for row in rows) == [
        ("accepted", True),
        ("overridden", False),
    ]


async def test_the_counts_table_holds_counts_and_codes_but_no_patient_user_or_order(
    client, signer, session_factory
):
    await call_with(client, signer, service_request("cpt", "72148", id="sr-secret"))

    async with session_factory() as session:
        columns = await session.run_sync(
            lambda sync: [
                c["name"] for c in sa.inspect(sync.connection()).get_columns("cds_daily_count")
            ]
        )
        values = (await session.execute(sa.select(CdsDailyCount.__table__))).all()  # type: ignore[attr-defined]
    assert sorted(columns) == sorted(
        [
            "organization_id",
            "day",
            "service_id",
            "rule_id",
            "order_code_system",
            "order_code",
            "evaluated",
            "shown",
            "accepted",
            "overridden",
        ]
    )
    stored = {str(value) for row in values for value in row}
    assert stored.isdisjoint({"p1", "enc1", "Practitioner/prac-1", "sr-secret"})
    assert "ServiceRequest/sr-secret" not in stored


async def test_feedback_on_a_card_given_before_counting_began_is_stored_not_counted(
    client, signer, session_factory
):
    card = await a_card(client, signer)
    async with session_factory() as session:
        await session.execute(sa.delete(CdsDailyCount))
        await session.execute(sa.text("UPDATE cds_card SET order_code = NULL"))
        await session.commit()

    assert (await feedback(client, signer, accepting(card))).json() == {"stored": 1}

    assert await counts(session_factory) == {}


# --- concurrency (real transactions on PostgreSQL; SQLite writes one at a time) ----------------


@pytest.fixture
def postgres_only(session_factory) -> None:
    if session_factory.kw["bind"].dialect.name != "postgresql":
        pytest.skip("row locks and concurrent upserts: PostgreSQL only")


@pytest.mark.usefixtures("postgres_only")
async def test_concurrent_first_increments_of_a_new_row_lose_nothing(session_factory):
    writers = 8
    barrier = asyncio.Barrier(writers)
    row = {
        "organization_id": DEFAULT_ORGANIZATION_ID,
        "day": date(2026, 12, 6),
        "service_id": SERVICE,
        "rule_id": BACK_PAIN,
        "order_code_system": CPT,
        "order_code": "72148",
        "evaluated": 1,
        "shown": 1,
        "accepted": 0,
        "overridden": 0,
    }

    async def write() -> None:
        async with session_factory() as session:
            await session.execute(sa.text("SELECT 1"))  # each in its own open transaction
            await barrier.wait()  # then all insert the same new row at once
            await repository.add_counts(session, [row])
            await session.commit()

    async with asyncio.TaskGroup() as group:
        for _ in range(writers):
            group.create_task(write())

    async with session_factory() as session:
        [stored] = (await session.scalars(sa.select(CdsDailyCount))).all()
    assert (stored.evaluated, stored.shown) == (writers, writers)


@pytest.mark.usefixtures("postgres_only")
async def test_concurrent_hook_calls_count_every_order_exactly(client, signer, session_factory):
    calls = 12

    results = await asyncio.gather(
        *(call_with(client, signer, service_request("cpt", "72148")) for _ in range(calls))
    )

    assert [len(cards) for cards in results] == [1] * calls
    assert await counts(session_factory) == {(BACK_PAIN, "72148"): (calls, calls, 0, 0)}


@pytest.mark.usefixtures("postgres_only")
async def test_concurrent_feedback_for_one_card_counts_it_once(client, signer, session_factory):
    card = await a_card(client, signer)
    # Six reports of the same acceptance, each at its own outcome time: all stored, one counted.
    reports = [accepting(card) | {"outcomeTimestamp": f"2026-12-06T10:00:0{n}Z"} for n in range(6)]

    responses = await asyncio.gather(*(feedback(client, signer, report) for report in reports))

    assert [response.status_code for response in responses] == [200] * 6
    assert await counts(session_factory) == {(BACK_PAIN, "72148"): (1, 1, 1, 0)}
    async with session_factory() as session:
        counted = (
            await session.scalars(sa.select(CardFeedback.counted))  # type: ignore[call-overload]
        ).all()
    assert sorted(counted) == [False] * 5 + [True]
