"""Coalescing: identical work in flight at the same time runs once; nothing is kept after."""

from __future__ import annotations

import asyncio

import pytest

from app.kit.coalesce import Coalescer


class Counter:
    def __init__(self) -> None:
        self.calls = 0
        self.release = asyncio.Event()

    async def compute(self) -> int:
        self.calls += 1
        await self.release.wait()
        return self.calls


async def test_concurrent_identical_calls_share_one_computation() -> None:
    coalescer, counter = Coalescer(), Counter()
    first = asyncio.create_task(coalescer.run("key", counter.compute))
    second = asyncio.create_task(coalescer.run("key", counter.compute))
    await asyncio.sleep(0)
    counter.release.set()
    assert list(await asyncio.gather(first, second)) == [1, 1]
    assert counter.calls == 1
    assert len(coalescer) == 0


async def test_different_keys_and_later_calls_compute_again() -> None:
    coalescer, counter = Coalescer(), Counter()
    counter.release.set()
    assert await coalescer.run("a", counter.compute) == 1
    assert await coalescer.run("a", counter.compute) == 2  # nothing is kept after the first
    assert await coalescer.run("b", counter.compute) == 3


async def test_a_failure_reaches_every_waiter_and_is_not_kept() -> None:
    coalescer = Coalescer()
    gate = asyncio.Event()

    async def failing() -> int:
        await gate.wait()
        raise ValueError("database gone")

    first = asyncio.create_task(coalescer.run("key", failing))
    second = asyncio.create_task(coalescer.run("key", failing))
    await asyncio.sleep(0)
    gate.set()
    results = await asyncio.gather(first, second, return_exceptions=True)
    assert [type(result) for result in results] == [ValueError, ValueError]
    assert len(coalescer) == 0


async def test_a_waiter_computes_itself_when_the_owner_is_cancelled() -> None:
    coalescer, counter = Coalescer(), Counter()
    owner = asyncio.create_task(coalescer.run("key", counter.compute))
    await asyncio.sleep(0)
    waiter = asyncio.create_task(coalescer.run("key", counter.compute))
    await asyncio.sleep(0)
    owner.cancel()
    await asyncio.sleep(0)
    counter.release.set()
    assert await waiter == 2
    with pytest.raises(asyncio.CancelledError):
        await owner
