"""The few-seconds cache of admin configuration: fresh values served, stale ones never, the
oldest dropped first, and a zero lifetime switches it off."""

from __future__ import annotations

import pytest

from app.kit.expiring import ExpiringCache


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_value_is_served_until_its_lifetime_ends_and_never_after() -> None:
    clock = Clock()
    cache = ExpiringCache[str, int](ttl_seconds=5, max_entries=4, clock=clock)
    cache.put("a", 1)

    clock.now += 4.999
    assert cache.get("a") == 1
    clock.now += 0.001
    assert cache.get("a") is None
    assert len(cache) == 0


def test_the_oldest_entry_makes_room_and_clear_forgets_everything() -> None:
    cache = ExpiringCache[str, int](ttl_seconds=5, max_entries=2, clock=Clock())
    cache.put("a", 1)
    cache.put("b", 2)
    cache.put("c", 3)

    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (None, 2, 3)
    cache.clear()
    assert cache.get("b") is None


def test_a_zero_lifetime_keeps_nothing() -> None:
    cache = ExpiringCache[str, int](ttl_seconds=0, max_entries=2, clock=Clock())
    cache.put("a", 1)

    assert cache.get("a") is None


@pytest.mark.parametrize(("ttl", "size"), [(-1, 1), (5, 0)])
def test_nonsense_limits_are_refused(ttl: float, size: int) -> None:
    with pytest.raises(ValueError, match="ttl_seconds must be"):
        ExpiringCache[str, int](ttl_seconds=ttl, max_entries=size)
