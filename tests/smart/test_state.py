"""Authorization state and the callback check (RFC 6749 10.12; RFC 9700 2.1 and 4.7.1; SMART
App Launch 2.x "state"): single use, short-lived, bound to the browser when it can be."""

from __future__ import annotations

import asyncio
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from smart import (
    AuthorizationDenied,
    PendingAuthorization,
    SmartError,
    StateError,
    accept_callback,
    binding_hash,
    new_nonce,
    new_state,
)
from tests.smart.factories import STARTED, MemoryStateStore, pending_authorization

CALLBACK = {"state": "state-1", "code": "code-1"}
BOUND = binding_hash("this-browser")


async def stored(**overrides: object) -> MemoryStateStore[PendingAuthorization]:
    store: MemoryStateStore[PendingAuthorization] = MemoryStateStore()
    await store.save(pending_authorization(**overrides))
    return store


async def accept(
    store: MemoryStateStore[PendingAuthorization],
    params: dict[str, str] = CALLBACK,
    *,
    browser_binding: str | None = None,
    now: datetime = STARTED,
    allow_missing_binding: bool = False,
) -> PendingAuthorization:
    callback = await accept_callback(
        store,
        params,
        browser_binding=browser_binding,
        now=now,
        allow_missing_binding=allow_missing_binding,
    )
    return callback.pending


# --- new values ---------------------------------------------------------------------------


def test_new_state_is_url_safe_with_at_least_128_bits():
    state = new_state()

    assert re.fullmatch(r"[A-Za-z0-9_-]+", state)
    assert len(state) * 6 >= 128


def test_each_state_and_nonce_is_new():
    assert len({new_state() for _ in range(100)}) == 100
    assert len({new_nonce() for _ in range(100)}) == 100


def test_a_binding_is_kept_only_as_its_sha256():
    assert binding_hash("cookie-value") == hashlib.sha256(b"cookie-value").hexdigest()


# --- single use ---------------------------------------------------------------------------


async def test_an_accepted_callback_gives_the_code_and_the_pending_authorization():
    pending = pending_authorization()
    store: MemoryStateStore[PendingAuthorization] = MemoryStateStore()
    await store.save(pending)

    callback = await accept_callback(store, CALLBACK, browser_binding=None, now=STARTED)

    assert callback.pending == pending
    assert callback.code == "code-1"
    assert "code-1" not in repr(callback)


async def test_a_state_can_be_used_once():
    store = await stored()
    await accept(store)

    with pytest.raises(StateError) as caught:
        await accept(store)

    assert caught.value.reason == "unknown"


async def test_concurrent_callbacks_with_one_state_finish_one_authorization():
    store = await stored()

    results = await asyncio.gather(*(accept(store) for _ in range(5)), return_exceptions=True)

    assert sum(isinstance(result, PendingAuthorization) for result in results) == 1
    refused = [result for result in results if isinstance(result, StateError)]
    assert [error.reason for error in refused] == ["unknown"] * 4


async def test_an_unknown_state_is_refused():
    with pytest.raises(StateError) as caught:
        await accept(MemoryStateStore(), {"state": "never-issued", "code": "c"})

    assert caught.value.reason == "unknown"


@pytest.mark.parametrize("params", [{"code": "c"}, {"code": "c", "state": ""}, {}])
async def test_a_callback_without_state_is_refused_and_takes_nothing(params):
    store = await stored()

    with pytest.raises(StateError) as caught:
        await accept(store, params)

    assert caught.value.reason == "missing"
    assert "state-1" in store.pending


# --- expiry -------------------------------------------------------------------------------


async def test_an_authorization_is_accepted_until_it_expires():
    expires_at = STARTED + timedelta(minutes=10)

    assert await accept(await stored(expires_at=expires_at), now=expires_at - timedelta(seconds=1))
    with pytest.raises(StateError) as caught:
        await accept(await stored(expires_at=expires_at), now=expires_at)
    assert caught.value.reason == "expired"


async def test_an_expired_state_is_spent_by_its_refusal():
    store = await stored(expires_at=STARTED)

    with pytest.raises(StateError, match="too long"):
        await accept(store, now=STARTED + timedelta(minutes=1))

    assert store.pending == {}


async def test_naive_times_are_a_programming_error():
    with pytest.raises(ValueError, match="timezone"):
        await accept(await stored(), now=datetime(2025, 1, 1))  # noqa: DTZ001
    with pytest.raises(ValueError, match="timezone"):
        await accept(await stored(expires_at=datetime(2025, 1, 1)))  # noqa: DTZ001


# --- the browser binding ------------------------------------------------------------------


@pytest.mark.parametrize("allow_missing_binding", [False, True])
@pytest.mark.parametrize("presented", ["another-browser", ""])
async def test_an_authorization_bound_to_a_browser_refuses_any_other(
    presented, allow_missing_binding
):
    store = await stored(browser_binding_hash=BOUND)

    with pytest.raises(StateError) as caught:
        await accept(store, browser_binding=presented, allow_missing_binding=allow_missing_binding)

    assert caught.value.reason == "foreign"
    assert store.pending == {}


@pytest.mark.parametrize("allow_missing_binding", [False, True])
async def test_an_authorization_bound_to_a_browser_accepts_that_browser(allow_missing_binding):
    store = await stored(browser_binding_hash=BOUND)

    assert await accept(
        store, browser_binding="this-browser", allow_missing_binding=allow_missing_binding
    )


async def test_a_callback_that_lost_its_binding_is_refused_by_default():
    store = await stored(browser_binding_hash=BOUND)

    with pytest.raises(StateError) as caught:
        await accept(store, browser_binding=None)

    assert caught.value.reason == "foreign"


async def test_in_an_ehr_frame_a_callback_that_lost_its_binding_is_accepted():
    store = await stored(browser_binding_hash=BOUND)

    assert await accept(store, browser_binding=None, allow_missing_binding=True)


async def test_an_authorization_started_without_a_binding_accepts_any_browser():
    assert await accept(await stored(browser_binding_hash=None), browser_binding="whatever")


# --- the response itself, read only once its state checks out -----------------------------


async def test_an_error_response_is_authorization_denied_and_spends_the_state():
    store = await stored()
    params = {"state": "state-1", "error": "access_denied", "error_description": "User said no"}

    with pytest.raises(AuthorizationDenied) as caught:
        await accept(store, params)

    assert (caught.value.error, caught.value.state) == ("access_denied", "state-1")
    assert store.pending == {}


async def test_an_error_response_is_believed_only_once_its_state_checks_out():
    store = await stored(browser_binding_hash=BOUND)
    params = {"state": "state-1", "error": "access_denied"}

    with pytest.raises(StateError) as unknown:
        await accept(MemoryStateStore(), params)
    with pytest.raises(StateError) as foreign:
        await accept(store, params, browser_binding="another-browser")

    assert (unknown.value.reason, foreign.value.reason) == ("unknown", "foreign")


async def test_a_callback_without_code_is_refused_and_spends_the_state():
    store = await stored()

    with pytest.raises(SmartError, match="neither code nor error"):
        await accept(store, {"state": "state-1"})

    assert store.pending == {}


# --- the store protocol -------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class PendingSignIn(PendingAuthorization):
    next_path: str


async def test_an_apps_own_fields_come_back_with_the_callback():
    store: MemoryStateStore[PendingSignIn] = MemoryStateStore()
    pending = PendingSignIn(
        state="state-1",
        pkce_verifier="v" * 64,
        nonce="nonce-1",
        redirect_uri="https://valueloop.example.org/sign-in/callback",
        browser_binding_hash=BOUND,
        expires_at=STARTED + timedelta(minutes=10),
        next_path="/dashboard/queue",
    )
    await store.save(pending)

    callback = await accept_callback(store, CALLBACK, browser_binding="this-browser", now=STARTED)

    assert callback.pending.next_path == "/dashboard/queue"
    assert callback.pending is pending


def test_pending_authorization_repr_leaves_secrets_out():
    pending = pending_authorization(
        state="state-secret",
        pkce_verifier="verifier-secret",
        nonce="nonce-secret",
        browser_binding_hash=binding_hash("binding-secret"),
    )

    text = repr(pending)
    for secret in ("state-secret", "verifier-secret", "nonce-secret", pending.browser_binding_hash):
        assert str(secret) not in text
    assert pending.redirect_uri in text
