"""Share one computation between identical requests that are in flight at the same time.

A dashboard page asks for the same statistic twice at once (its table as JSON, its chart as
SVG), and several people open the same page at the start of a meeting. Coalescing runs each
distinct computation once and hands every waiting caller the same result. Nothing is kept
after the computation ends, so no one ever sees an older answer than they would have got
alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


class Coalescer:
    def __init__(self) -> None:
        self._running: dict[Hashable, asyncio.Future[Any]] = {}

    async def run(self, key: Hashable, compute: Callable[[], Awaitable[T]]) -> T:
        running = self._running.get(key)
        if running is not None:
            # shield: one waiter being cancelled (its client went away) must not cancel the
            # computation the others are waiting for.
            try:
                result: T = await asyncio.shield(running)
            except asyncio.CancelledError:
                if not running.cancelled():
                    raise  # this waiter itself was cancelled
                # The caller that owned the computation was cancelled: compute ourselves.
                return await compute()
            return result
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._running[key] = future
        try:
            value = await compute()
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as exc:
            future.set_exception(exc)
            # Retrieved here so an unshared failure is not reported as "never retrieved".
            future.exception()
            raise
        else:
            future.set_result(value)
            return value
        finally:
            del self._running[key]

    def __len__(self) -> int:
        return len(self._running)
