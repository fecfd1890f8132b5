"""When to try a request again, and how long to wait first.

Only idempotent requests may be retried (RFC 9110 section 9.2.2: repeating a GET has the same
effect as sending it once); every request this package sends is a GET, so every request is
retried on the transient failures below and on nothing else:

- 429 Too Many Requests (RFC 6585 section 4) and 503 Service Unavailable: wait what the
  server's ``Retry-After`` says (RFC 9110 section 10.2.3: seconds or an HTTP-date) when it
  says anything, else back off;
- 502 and 504: a gateway in front of the EHR failed or gave up; the next try may reach a
  healthy node;
- timeouts and connection errors (:class:`~fhir_client.errors.FhirTransportError`).

400, 401, 403, 404 and the rest are answers, not accidents: asking again gets the same answer.

Backoff is exponential with "full jitter" (a uniform draw between 0 and
``backoff_base * 2**attempt``, at most ``max_backoff``), so that the app processes a slow EHR
throttles do not all come back at the same instant.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

from fhir_client.errors import FhirError, FhirHttpError, FhirTransportError

__all__ = [
    "MAX_RETRY_AFTER",
    "RETRYABLE_STATUSES",
    "RetryPolicy",
    "is_retryable",
    "parse_retry_after",
    "retrying",
]

T = TypeVar("T")

RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
# The longest Retry-After we wait out. A clinician is looking at a spinner in the EHR; when
# the server wants more than this, we stop and say so (FhirRateLimitedError.retry_after)
# instead of retrying early against its wishes or hanging for minutes.
MAX_RETRY_AFTER = 30.0

# Jitter spreads retries; it is not security-relevant randomness.
_jitter = random.Random()  # noqa: S311


@dataclass(frozen=True)
class RetryPolicy:
    """How many times to retry and how long to wait; ``max_retries=0`` turns retries off."""

    max_retries: int = 3
    backoff_base: float = 0.2
    max_backoff: float = 5.0
    max_retry_after: float = MAX_RETRY_AFTER

    def backoff(self, attempt: int) -> float:
        """Seconds before retry number ``attempt + 1``: full jitter over an exponential cap."""
        ceiling = min(self.max_backoff, self.backoff_base * 2**attempt)
        return _jitter.uniform(0, ceiling)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """``Retry-After`` in seconds from now, or None when absent or unreadable.

    RFC 9110 section 10.2.3: ``Retry-After = HTTP-date / delay-seconds``. A date in the past
    means "now" (0). An unreadable value is ignored rather than trusted: the caller then
    falls back to its own backoff.
    """
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(int(text))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 section 5.6.7: HTTP-dates are always GMT
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def is_retryable(error: FhirError) -> bool:
    """Whether asking the same GET again may succeed where this attempt failed."""
    if isinstance(error, FhirTransportError):
        return True
    return isinstance(error, FhirHttpError) and error.status in RETRYABLE_STATUSES


def _delay(policy: RetryPolicy, attempt: int, error: FhirError) -> float | None:
    """Seconds to wait before the next try, or None when we should give up now."""
    if isinstance(error, FhirHttpError) and error.retry_after is not None:
        if error.retry_after > policy.max_retry_after:
            return None
        return error.retry_after
    return policy.backoff(attempt)


async def retrying(
    attempt: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """``await attempt()``, again on a retryable :class:`FhirError`, at most
    ``policy.max_retries`` more times; then the last error propagates unchanged.

    ``attempt`` must build a fresh request each time (a GET: no body to replay).
    Cancellation is never caught, so a TaskGroup can stop a request mid-backoff.
    """
    tries = 0
    while True:
        try:
            return await attempt()
        except FhirError as error:
            if tries >= policy.max_retries or not is_retryable(error):
                raise
            delay = _delay(policy, tries, error)
            if delay is None:
                raise
        tries += 1
        await sleep(delay)
