"""What an admin configures reaches every flag write: at once in the process that changed it,
and within the cache's lifetime (5 s) in every other app process, never later. Another process
is played here by writing the table directly, as it would, without clearing this one's copy."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from app.flags.costs import Price
from app.notifications import webhooks
from app.notifications.models import WebhookEndpoint
from app.prices import service as prices
from app.prices.models import PriceListEntry
from tests.factories import make_flag
from tests.notifications.conftest import add_endpoint

pytestmark = pytest.mark.usefixtures("clean_tables")

CPT = "http://www.ama-assn.org/go/cpt"
MRI = [(CPT, "72148")]
ORDERED = date(2026, 6, 1)
PRICE_FILE = (
    "code_system,code,price,currency,source,effective_date\n"
    "CPT,72148,412.00,USD,Riverside chargemaster 2026,2026-01-01\n"
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(webhooks.ACTIVE_ENDPOINTS, "_clock", clock)
    monkeypatch.setattr(prices.PRICES_IN_EFFECT, "_clock", clock)
    return clock


async def mri_price(session) -> Price:
    price = await prices.price_for(session, MRI, on=ORDERED)
    assert price is not None  # a reference price at least
    return price


async def planned_to(session_factory, settings) -> list[str]:
    flag = await make_flag(session_factory)
    async with session_factory() as session:
        planned = await webhooks.plan(
            session, flag, "flag.created", {}, dashboard_url=settings.base_url
        )
    return [delivery.recipient for delivery in planned]


async def test_an_endpoint_added_here_gets_the_next_flag_at_once(session_factory, settings, clock):
    assert await planned_to(session_factory, settings) == []  # nothing yet, and remembered

    added = await add_endpoint(session_factory, settings, "http://127.0.0.1:9/hooks")

    assert await planned_to(session_factory, settings) == [str(added.endpoint.id)]


async def test_an_endpoint_added_by_another_process_gets_flags_within_five_seconds(
    session_factory, settings, clock
):
    assert await planned_to(session_factory, settings) == []
    async with session_factory() as session:
        endpoint = WebhookEndpoint(
            url="http://127.0.0.1:9/hooks",
            events=list(webhooks.EVENTS),
            secret_encrypted="unused here",
            created_at=datetime.now(UTC),
        )
        session.add(endpoint)
        await session.commit()

    clock.now += 4.9
    assert await planned_to(session_factory, settings) == []
    clock.now += 0.1
    assert await planned_to(session_factory, settings) == [str(endpoint.id)]


async def test_a_price_list_loaded_here_prices_the_next_flag_at_once(session_factory, clock):
    async with session_factory() as session:
        before = await prices.price_for(session, MRI, on=ORDERED)
        await prices.load(session, PRICE_FILE, loaded_by="admin")
        await session.commit()
        after = await prices.price_for(session, MRI, on=ORDERED)

    assert before is not None
    assert before.source.startswith("Medicare")
    assert after is not None
    assert (after.cents, after.source) == (
        41200,
        "Riverside chargemaster 2026",
    )


async def test_a_price_loaded_by_another_process_prices_flags_within_five_seconds(
    session_factory, clock
):
    async with session_factory() as session:
        assert (await mri_price(session)).source.startswith("Medicare")
        session.add(
            PriceListEntry(
                code_system=CPT,
                code="72148",
                price_cents=41200,
                source="Riverside chargemaster 2026",
                effective_date=date(2026, 1, 1),
                line=2,
                loaded_at=datetime.now(UTC),
                loaded_by="admin",
            )
        )
        await session.commit()

        clock.now += 4.9
        assert (await mri_price(session)).source.startswith("Medicare")
        clock.now += 0.1
        assert (await mri_price(session)).cents == 41200
