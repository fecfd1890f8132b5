"""The retry rules on their own: which failures, how long, and when to give up."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fhir_client.errors import (
    FhirConnectionError,
    FhirError,
    FhirHttpError,
    FhirInvalidResponseError,
    FhirTimeoutError,
    FhirUnsafeLinkError,
)
from fhir_client.retry import RetryPolicy, is_retryable, parse_retry_after, retrying

NOW = datetime(2025, 3, 10, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("0", 0.0),
        ("7", 7.0),
        (" 12 ", 12.0),
        ("Mon, 10 Mar 2025 12:00:30 GMT", 30.0),
        ("Mon, 10 Mar 2025 11:59:00 GMT", 0.0),  # already past: retry now
        (None, None),
        ("soon", None),
        ("-5", None),
        ("1.5", None),  # RFC 9110 delay-seconds is a whole number
    ],
)
def test_retry_after_is_read_as_seconds_or_an_http_date(header: str | None, seconds: float | None):
    assert parse_retry_after(header, now=NOW) == seconds


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (FhirHttpError("x", status=429), True),
        (FhirHttpError("x", status=502), True),
        (FhirHttpError("x", status=503), True),
        (FhirHttpError("x", status=504), True),
        (FhirTimeoutError("x"), True),
        (FhirConnectionError("x"), True),
        (FhirHttpError("x", status=400), False),
        (FhirHttpError("x", status=401), False),
        (FhirHttpError("x", status=403), False),
        (FhirHttpError("x", status=404), False),
        (FhirHttpError("x", status=500), False),
        (FhirInvalidResponseError("x"), False),
        (FhirUnsafeLinkError("x"), False),
    ],
)
def test_only_transient_failures_are_retryable(error: FhirError, retryable: bool):
    assert is_retryable(error) is retryable


def test_backoff_is_jittered_below_an_exponential_ceiling():
    policy = RetryPolicy(backoff_base=0.2, max_backoff=1.0)

    for attempt, ceiling in [(0, 0.2), (1, 0.4), (2, 0.8), (3, 1.0), (10, 1.0)]:
        delays = {policy.backoff(attempt) for _ in range(50)}
        assert all(0 <= delay <= ceiling for delay in delays)
        assert len(delays) > 1  # jittered, not one fixed value


async def test_retrying_waits_the_servers_retry_after_then_its_own_backoff():
    waits: list[float] = []
    failures = [
        FhirHttpError("throttled", status=429, retry_after=3),
        FhirHttpError("unavailable", status=503),
    ]

    async def attempt() -> str:
        if failures:
            raise failures.pop(0)
        return "ok"

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    result = await retrying(attempt, RetryPolicy(backoff_base=0.5), sleep=sleep)

    assert result == "ok"
    assert waits[0] == 3
    assert 0 <= waits[1] <= 1.0


async def test_retrying_gives_up_at_once_when_retry_after_passes_the_cap():
    calls = 0

    async def attempt() -> str:
        nonlocal calls
        calls += 1
        raise FhirHttpError("throttled", status=429, retry_after=31)

    async def sleep(seconds: float) -> None:
        raise AssertionError("should not wait")

    with pytest.raises(FhirHttpError):
        await retrying(attempt, RetryPolicy(max_retry_after=30), sleep=sleep)

    assert calls == 1


async def test_zero_max_retries_means_one_attempt():
    calls = 0

    async def attempt() -> str:
        nonlocal calls
        calls += 1
        raise FhirConnectionError("down")

    with pytest.raises(FhirConnectionError):
        await retrying(attempt, RetryPolicy(max_retries=0))

    assert calls == 1
