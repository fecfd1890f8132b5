"""Launch state (RFC 6749 10.12; SMART App Launch 2.x "state"): single use, short-lived,
bound to the browser when it can be."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta

import pytest

from smart import MemoryStateStore, StateError, check_pending, new_nonce, new_state
from tests.smart.factories import pending_launch

START = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


def test_new_state_is_url_safe_with_at_least_128_bits():
    state = new_state()

    assert re.fullmatch(r"[A-Za-z0-9_-]+", state)
    assert len(state) * 6 >= 128


def test_each_state_and_nonce_is_new():
    assert len({new_state() for _ in range(100)}) == 100
    assert len({new_nonce() for _ in range(100)}) == 100


async def test_a_state_can_be_taken_once():
    store = MemoryStateStore(clock=lambda: START)
    pending = pending_launch(created_at=START)
    await store.put(pending)

    first = await store.take(pending.state)
    second = await store.take(pending.state)

    assert check_pending(first, now=START, browser_binding=None) == pending
    with pytest.raises(StateError) as caught:
        check_pending(second, now=START, browser_binding=None)
    assert caught.value.reason == "unknown"


async def test_concurrent_callbacks_with_one_state_finish_one_launch():
    store = MemoryStateStore(clock=lambda: START)
    await store.put(pending_launch(created_at=START))

    results = await asyncio.gather(*(store.take("state-1") for _ in range(5)))

    assert sum(result is not None for result in results) == 1


async def test_an_unknown_state_is_refused():
    store = MemoryStateStore()

    with pytest.raises(StateError) as caught:
        check_pending(await store.take("never-issued"), now=START, browser_binding=None)

    assert caught.value.reason == "unknown"


def test_a_launch_older_than_max_age_is_expired():
    pending = pending_launch(created_at=START)

    assert check_pending(pending, now=START + timedelta(minutes=10), browser_binding=None)
    with pytest.raises(StateError) as caught:
        check_pending(pending, now=START + timedelta(minutes=10, seconds=1), browser_binding=None)
    assert caught.value.reason == "expired"


def test_max_age_can_be_shortened():
    pending = pending_launch(created_at=START)

    with pytest.raises(StateError, match="too long"):
        check_pending(
            pending,
            now=START + timedelta(minutes=2),
            max_age=timedelta(minutes=1),
            browser_binding=None,
        )


@pytest.mark.parametrize("presented", [None, "another-browser", ""])
def test_a_launch_bound_to_a_browser_refuses_any_other(presented):
    pending = pending_launch(created_at=START, browser_binding="this-browser")

    with pytest.raises(StateError) as caught:
        check_pending(pending, now=START, browser_binding=presented)

    assert caught.value.reason == "foreign"


def test_a_launch_bound_to_a_browser_accepts_that_browser():
    pending = pending_launch(created_at=START, browser_binding="this-browser")

    assert check_pending(pending, now=START, browser_binding="this-browser") is pending


def test_a_launch_without_binding_accepts_a_browser_that_lost_its_cookie():
    pending = pending_launch(created_at=START, browser_binding=None)

    assert check_pending(pending, now=START, browser_binding="whatever") is pending


def test_naive_times_are_a_programming_error():
    with pytest.raises(ValueError, match="timezone"):
        check_pending(pending_launch(), now=datetime(2025, 1, 1), browser_binding=None)  # noqa: DTZ001
    with pytest.raises(ValueError, match="timezone"):
        check_pending(
            pending_launch(created_at=datetime(2025, 1, 1)),  # noqa: DTZ001
            now=START,
            browser_binding=None,
        )


async def test_memory_store_drops_abandoned_launches():
    now = [START]
    store = MemoryStateStore(max_age=timedelta(minutes=10), clock=lambda: now[0])
    await store.put(pending_launch(state="old", created_at=START))
    now[0] = START + timedelta(minutes=11)

    await store.put(pending_launch(state="new", created_at=now[0]))

    assert len(store) == 1
    assert await store.take("old") is None


async def test_memory_store_refuses_a_duplicate_state():
    store = MemoryStateStore(clock=lambda: START)
    await store.put(pending_launch(created_at=START))

    with pytest.raises(ValueError, match="already exists"):
        await store.put(pending_launch(created_at=START))


def test_pending_launch_repr_leaves_secrets_out():
    pending = pending_launch(
        state="state-secret", pkce_verifier="verifier-secret", nonce="nonce-secret"
    )

    text = repr(pending)
    for secret in ("state-secret", "verifier-secret", "nonce-secret", "launch-1"):
        assert secret not in text
    assert pending.iss in text
