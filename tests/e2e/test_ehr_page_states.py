"""The in-EHR page's failure states in a real browser: the EHR not answering, an expired
session, an encounter without orders, and a flag whose submission failed (nothing is lost).

The failures are injected with Playwright routes on the app's clinician API (``page.route``
also sees the requests of the app's frame inside the EHR chart), so each test fails exactly
the request it means to and lets everything else through to the real app and EHR.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Stack
from tests.e2e.test_ehr_page import (
    SEND_TIMEOUT_MS,
    flag_ids,
    launch_in_panel,
    shot,
    wait_for_new_flag,
    wait_ready,
)

pytestmark = pytest.mark.browser

CONTEXT = "**/api/v1/clinician/context"
FLAGS = "**/api/v1/clinician/flags"
PROBLEM = "application/problem+json"


def problem(route: Any, status: int, title: str, detail: str) -> None:
    route.fulfill(
        status=status,
        content_type=PROBLEM,
        body=json.dumps(
            {"type": "about:blank", "title": title, "status": status, "detail": detail}
        ),
    )


def wait_state(frame: Any, state: str) -> None:
    frame.wait_for_selector(f'main#app[data-state="{state}"]')


def test_ehr_not_reachable_then_try_again(page: Any, stack: Stack, screenshots: Path) -> None:
    calls: list[str] = []

    def first_fails(route: Any) -> None:
        calls.append(route.request.url)
        if len(calls) == 1:
            problem(route, 502, "EHR unavailable", "The EHR did not answer. Try again in a moment.")
        else:
            route.continue_()

    page.route(CONTEXT, first_fails)
    frame = launch_in_panel(page, stack, patient=5)
    wait_state(frame, "ehr-error")
    error_view = frame.locator('[data-view="ehr-error"]')
    assert error_view.is_visible()
    assert "The EHR did not answer" in error_view.inner_text()
    retry = frame.locator('button[data-action="retry"]')
    assert retry.is_visible()
    shot(page, screenshots, "state-ehr-error")

    retry.click()
    wait_ready(frame)
    assert len(calls) == 2
    assert frame.locator("li[data-order-id]").count() > 0
    assert not error_view.is_visible()
    shot(page, screenshots, "state-ehr-error-retried")


def test_session_expired(page: Any, stack: Stack, screenshots: Path) -> None:
    page.route(
        CONTEXT,
        lambda route: problem(route, 401, "Session expired", "The ValueLoop session has ended."),
    )
    frame = launch_in_panel(page, stack, patient=5)
    wait_state(frame, "expired")
    view = frame.locator('[data-view="expired"]')
    assert view.is_visible()
    text = view.inner_text()
    assert "Open ValueLoop again from the EHR" in text
    assert not frame.locator('[data-view="ready"]').is_visible()
    shot(page, screenshots, "state-expired")


def test_encounter_without_orders(page: Any, stack: Stack, screenshots: Path) -> None:
    def no_orders(route: Any) -> None:
        response = route.fetch()
        body = response.json()
        assert body["orders"], "the real context had orders to remove"
        route.fulfill(response=response, json={**body, "orders": []})

    page.route(CONTEXT, no_orders)
    frame = launch_in_panel(page, stack, patient=5)
    wait_state(frame, "empty")
    view = frame.locator('[data-view="empty"]')
    assert view.is_visible()
    assert "There are no orders in this encounter." in view.inner_text()
    assert frame.locator("li[data-order-id]").count() == 0
    shot(page, screenshots, "state-empty")


def test_failed_submission_keeps_the_form_and_retries(
    page: Any, stack: Stack, screenshots: Path
) -> None:
    posts: list[str] = []

    def first_post_fails(route: Any) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        posts.append(route.request.post_data or "")
        if len(posts) == 1:
            problem(route, 503, "Service unavailable", "ValueLoop is busy. Try again.")
        else:
            route.continue_()

    page.route(FLAGS, first_post_fails)
    frame = launch_in_panel(page, stack, patient=4)
    wait_ready(frame)
    before = flag_ids(stack)
    order = frame.locator("li[data-order-id]").first
    order_id = order.get_attribute("data-order-id")
    assert order_id
    order.locator('button[data-action="flag"]').click()
    form = frame.get_by_test_id("flag-form")
    form.wait_for()
    reason = form.locator('input[name="reason"]').nth(1)
    reason_value = reason.get_attribute("value")
    reason.check()
    note = f"Repeat imaging within a week ({order_id}); please review."
    form.locator('textarea[name="note"]').fill(note)
    form.get_by_role("button", name="Submit flag").click()
    frame.locator(f'li[data-order-id="{order_id}"][data-flagged="true"]').wait_for()

    # After the undo window the POST fails: the form is back with everything typed.
    error = frame.get_by_test_id("submit-error")
    error.wait_for(timeout=SEND_TIMEOUT_MS)
    assert error.get_attribute("role") == "alert"
    assert "not sent" in error.inner_text()
    assert len(posts) == 1
    form = frame.locator(f'li[data-order-id="{order_id}"]').get_by_test_id("flag-form")
    assert form.is_visible()
    assert form.locator(f'input[name="reason"][value="{reason_value}"]').is_checked()
    assert form.locator('textarea[name="note"]').input_value() == note
    assert flag_ids(stack) == before, "nothing reached the registry yet"
    shot(page, screenshots, "state-submit-error")

    form.locator('button[data-action="retry-flag"]').click()
    flag_id = wait_for_new_flag(frame.locator(f'li[data-order-id="{order_id}"]'), stack, before)
    assert len(posts) == 2
    # The retry reuses the first attempt's idempotency key.
    assert json.loads(posts[0])["idempotency_key"] == json.loads(posts[1])["idempotency_key"]
    with stack.api() as api:
        response = api.get(f"/flags/{flag_id}")
        assert response.status_code == 200, response.text
        detail = response.json()
    assert detail["reason"] == reason_value
    assert detail["note"] == note
    frame.locator(f'li[data-order-id="{order_id}"][data-flagged="true"]').wait_for()
    assert not frame.get_by_test_id("submit-error").is_visible()
    shot(page, screenshots, "state-submit-retried")
