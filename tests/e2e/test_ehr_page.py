"""The in-EHR page in a real browser: launched from the simulated EHR's chart into its 360 px
side panel, flag an order, see the quality team's reply come back.

DOM contract (frontend/templates/ehr_app.html, frontend/static/ehr/):
``<main id="app" data-state="loading|ready|empty|ehr-error|expired">``; orders as
``<li data-order-id="{type}/{id}">`` with ``<button data-action="flag">``; the flag form
``data-testid="flag-form"`` (radios ``name="reason"``, ``Submit flag``); a flagged order has
``data-flagged="true"`` and ``data-action="undo"``; the POST is sent after a 5 s undo window,
and once it is answered the order says ``Sent to the quality team``;
``data-action="my-flags"`` with ``data-testid="unread-badge"``; ``data-testid="my-flags"``,
``new-replies``, ``patient-banner``, ``submit-error``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import STEP_TIMEOUT_MS, Stack

pytestmark = pytest.mark.browser

UNDO_WINDOW_SECONDS = 5
# From Submit to the POST's answer: the undo window, then one request on a busy machine.
SEND_TIMEOUT_MS = UNDO_WINDOW_SECONDS * 1000 + STEP_TIMEOUT_MS
SENT = "Sent to the quality team"
PANEL = "aside.panel iframe"


def open_chart(page: Any, stack: Stack, patient: int = 0) -> None:
    """The EHR's patient list, then a patient's chart (by position in the list)."""
    page.goto(stack.chart_url)
    page.locator("table a").nth(patient).click()
    page.wait_for_url("**/chart/patients/**")


def launch_in_panel(page: Any, stack: Stack, patient: int = 0) -> Any:
    """Click the side-panel Launch button of the newest encounter; the app's frame."""
    open_chart(page, stack, patient)
    page.get_by_role("button", name="Launch ValueLoop in side panel").first.click()
    page.wait_for_url("**/chart/launch")
    handle = page.wait_for_selector(PANEL)
    frame = handle.content_frame()
    assert frame is not None
    frame.wait_for_load_state()
    frame.wait_for_url("**/launch/callback**")
    return frame


def wait_ready(frame: Any) -> None:
    frame.wait_for_selector('main#app[data-state="ready"]')


def shot(page: Any, directory: Path, name: str) -> None:
    page.screenshot(path=str(directory / f"{name}.png"), full_page=True)


def cookie_probe(frame: Any) -> bool:
    """Whether the framed app (another site) can store a third-party cookie."""
    stored = frame.evaluate(
        """() => {
            document.cookie = "vl_probe=1; Path=/; SameSite=None; Secure";
            return document.cookie.includes("vl_probe=1");
        }"""
    )
    return bool(stored)


def app_cookies(page: Any) -> list[dict[str, Any]]:
    """Every cookie the browser keeps for the app's host (any path, partitioned or not)."""
    return [c for c in page.context.cookies() if c["domain"] == "127.0.0.1"]


# Infrastructure: the launch reaches the app's page inside the 360 px frame.


def test_launch_reaches_the_app_in_the_side_panel(page: Any, stack: Stack) -> None:
    frame = launch_in_panel(page, stack)
    assert frame.url.startswith(f"{stack.base_url}/launch/callback")
    assert frame.locator('meta[name="valueloop-session"]').get_attribute("content")
    width = page.locator(PANEL).evaluate("el => el.getBoundingClientRect().width")
    assert width == 360
    assert frame.evaluate("() => window.innerWidth") == 360
    # Cross-site frame: the chart is at localhost, the app at 127.0.0.1.
    assert page.url.startswith("http://localhost:")
    # Unpartitioned third-party cookies are refused even here (Chromium's default for a fresh
    # context); the app's partitioned (CHIPS) session cookie is what a browser keeps.
    assert not cookie_probe(frame)
    assert any(c.get("partitionKey") for c in app_cookies(page))


def test_third_party_cookies_are_blocked_in_the_strict_browser(
    strict_page: Any, stack: Stack
) -> None:
    frame = launch_in_panel(strict_page, stack)
    assert frame.locator('meta[name="valueloop-session"]').get_attribute("content")
    assert not cookie_probe(frame), "the strict browser must refuse third-party cookies"
    assert app_cookies(strict_page) == [], "no cookie from the app is kept"


# The DOM contract.


class Clicks:
    """Counts the clicks a test spends, to hold the flow to its budget."""

    def __init__(self) -> None:
        self.count = 0

    def click(self, locator: Any) -> None:
        self.count += 1
        locator.click()


def flag_ids(stack: Stack) -> set[str]:
    with stack.api() as api:
        response = api.get("/flags", params={"limit": 200})
        assert response.status_code == 200, response.text
        return {item["id"] for item in response.json()["items"]}


def wait_sent(order: Any) -> None:
    """Until the page has its answer to the order's flag POST (sent after the undo window).

    The request's transaction commits before the answer is sent, so the flag is in the
    registry from then on. Waiting inside Playwright also keeps route handlers running (the
    strict browser's cookie stripping): the sync API runs them only during a Playwright call.
    """
    from playwright.sync_api import expect

    expect(order).to_contain_text(SENT, timeout=SEND_TIMEOUT_MS)


def wait_for_new_flag(order: Any, stack: Stack, before: set[str]) -> str:
    """The id of the flag the page sent for ``order`` (an order's ``li``), once it is sent."""
    wait_sent(order)
    new = flag_ids(stack) - before
    assert new, "the flag never reached the registry"
    assert len(new) == 1, new
    return new.pop()


def reply(stack: Stack, flag_id: str, body: str) -> None:
    with stack.api() as api:
        response = api.post(f"/flags/{flag_id}/replies", json={"body": body})
        assert response.status_code == 201, response.text


def closed_loop(page: Any, stack: Stack, screenshots: Path, patient: int, name: str) -> None:
    """Launch, flag in at most three clicks, reply through the API, relaunch, read it."""
    frame = launch_in_panel(page, stack, patient)
    wait_ready(frame)
    # In the side panel the EHR shows its own banner (need_patient_banner false).
    shot(page, screenshots, f"{name}-ready")
    before = flag_ids(stack)
    order = frame.locator("li[data-order-id]").first
    order_id = order.get_attribute("data-order-id")
    clicks = Clicks()
    clicks.click(order.locator('button[data-action="flag"]'))
    form = frame.get_by_test_id("flag-form")
    form.wait_for()
    shot(page, screenshots, f"{name}-flag-form")
    clicks.click(form.locator('input[name="reason"]').first)
    clicks.click(form.get_by_role("button", name="Submit flag"))
    assert clicks.count <= 3
    flagged = frame.locator(f'li[data-order-id="{order_id}"][data-flagged="true"]')
    flagged.wait_for()
    assert flagged.locator('button[data-action="undo"]').is_visible()
    shot(page, screenshots, f"{name}-flagged")
    flag_id = wait_for_new_flag(order, stack, before)
    message = f"Thanks: we are looking at {order_id} ({name})."
    reply(stack, flag_id, message)

    frame = launch_in_panel(page, stack, patient)
    wait_ready(frame)
    badge = frame.get_by_test_id("unread-badge")
    frame.wait_for_function(
        "() => document.querySelector('[data-testid=unread-badge]').textContent.trim() === '1'"
    )
    assert badge.is_visible()
    assert frame.get_by_test_id("new-replies").is_visible()
    shot(page, screenshots, f"{name}-new-replies")
    frame.locator('button[data-action="my-flags"]').click()
    my_flags = frame.get_by_test_id("my-flags")
    my_flags.wait_for()
    # The badge drops at the click; the read is recorded when the server answers, and the next
    # test's badge counts on it, so wait for that answer.
    with page.expect_response(lambda r: r.url.endswith(f"/flags/{flag_id}/read")) as read:
        my_flags.locator(f'details[data-flag-id="{flag_id}"] summary').click()
    assert read.value.ok
    my_flags.get_by_text(message).wait_for()
    frame.wait_for_function(
        """() => {
            const badge = document.querySelector('[data-testid=unread-badge]');
            return badge.hidden || badge.textContent.trim() === '0';
        }"""
    )
    shot(page, screenshots, f"{name}-my-flags")


def test_flag_and_see_the_reply(page: Any, stack: Stack, screenshots: Path) -> None:
    closed_loop(page, stack, screenshots, patient=0, name="panel")


def test_flag_and_see_the_reply_without_cookies(
    strict_page: Any, stack: Stack, screenshots: Path
) -> None:
    closed_loop(strict_page, stack, screenshots, patient=1, name="no-cookies")
    assert app_cookies(strict_page) == []


def press_tab(page: Any, frame: Any) -> None:
    """Press Tab and wait until focus has landed.

    Within one document focus has moved when the key press returns. Into the app's frame
    (another site, so another renderer process) the chart only hands focus over afterwards,
    and a Tab pressed before the frame has it would go to the chart and skip the frame.
    """
    page.keyboard.press("Tab")
    if page.evaluate("panel => document.activeElement?.matches(panel) === true", PANEL):
        frame.wait_for_function(
            "() => document.hasFocus() && document.activeElement !== document.body"
        )


def test_flag_with_the_keyboard_only(page: Any, stack: Stack, screenshots: Path) -> None:
    frame = launch_in_panel(page, stack, patient=2)
    wait_ready(frame)
    flag = frame.locator('li[data-order-id] button[data-action="flag"]').first
    order_id = frame.locator("li[data-order-id]").first.get_attribute("data-order-id")
    # Into the frame from the chart: Tab until the first Flag button has focus.
    for _ in range(30):
        if flag.evaluate("el => el === document.activeElement"):
            break
        press_tab(page, frame)
    else:
        raise AssertionError("Tab never reached the first Flag button")
    page.keyboard.press("Enter")
    form = frame.get_by_test_id("flag-form")
    form.wait_for()
    # Tab to the reason radios, choose with the arrow keys (a radio group), Space to select.
    for _ in range(10):
        if frame.evaluate("() => document.activeElement?.name === 'reason'"):
            break
        press_tab(page, frame)
    else:
        raise AssertionError("Tab never reached the reasons")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Space")
    assert frame.evaluate(
        "() => document.querySelector("
        "'[data-testid=flag-form] input[name=reason]:checked') !== null"
    )
    for _ in range(10):
        if frame.evaluate("() => document.activeElement?.textContent?.trim() === 'Submit flag'"):
            break
        press_tab(page, frame)
    else:
        raise AssertionError("Tab never reached Submit flag")
    page.keyboard.press("Enter")
    flagged = frame.locator(f'li[data-order-id="{order_id}"][data-flagged="true"]')
    flagged.wait_for()
    shot(page, screenshots, "keyboard-flagged")
    # Let the flag leave before the context closes, so that it never lands in the registry
    # in the middle of a later test's count of new flags.
    wait_sent(flagged)


def test_no_serious_accessibility_violations(
    page: Any, stack: Stack, axe_script: Path, screenshots: Path
) -> None:
    frame = launch_in_panel(page, stack, patient=3)
    wait_ready(frame)
    frame.locator('li[data-order-id] button[data-action="flag"]').first.click()
    frame.get_by_test_id("flag-form").wait_for()
    # The page's CSP (script-src 'self') refuses add_script_tag's inline script; evaluating
    # the source through the DevTools protocol is not subject to it.
    frame.evaluate(axe_script.read_text(encoding="utf-8") + "\n;void 0")
    result = frame.evaluate("async () => await axe.run(document)")
    serious = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}"
        for v in result["violations"]
        if v["impact"] in {"serious", "critical"}
    ]
    assert serious == [], "\n".join(serious)
