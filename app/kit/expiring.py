"""Keep what an admin configures (webhook endpoints, the price list) for a few seconds in each
process, instead of reading it again for every flag.

Such settings change a few times a year and are read on every flag write: two database round
trips, about a tenth of a flag's CPU (bench/README.md). The process that makes a change clears
its own copy at once; every other app process sees it within ``ttl_seconds``. Nothing else is
kept: a value is never served older than that.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class ExpiringCache(Generic[K, V]):
    """At most ``max_entries`` values, each for ``ttl_seconds`` after it was stored; the oldest
    entry makes room for a new one. Not shared between processes.

    >>> endpoints = ExpiringCache[str, tuple[int, ...]](ttl_seconds=5, max_entries=1)
    >>> endpoints.get("active") is None
    True
    """

    def __init__(
        self,
        *,
        ttl_seconds: float,
        max_entries: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if ttl_seconds < 0 or max_entries < 1:
            raise ValueError("ttl_seconds must be >= 0 and max_entries >= 1")
        self.ttl_seconds = ttl_seconds
        self._max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def get(self, key: K) -> V | None:
        """The value stored for ``key`` if it is still fresh, else None."""
        found = self._entries.get(key)
        if found is None:
            return None
        expires, value = found
        if self._clock() >= expires:
            del self._entries[key]
            return None
        return value

    def put(self, key: K, value: V) -> None:
        if self.ttl_seconds == 0:
            return  # switched off: every read goes to the database
        self._entries.pop(key, None)
        while len(self._entries) >= self._max_entries:
            self._entries.popitem(last=False)
        self._entries[key] = (self._clock() + self.ttl_seconds, value)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
