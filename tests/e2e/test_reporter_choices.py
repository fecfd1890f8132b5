"""The reporter in a real browser: who is signed in, the flag form's choices in a 360 x 640
panel, "Other" needs a note, a flag pending during Undo, the reply on the first screen, and
the dashboard's flag page that never names a confidential or anonymous reporter (and lets the
team reclassify reason and driver)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from app.auth.models import Role
from tests.e2e.conftest import Stack, _close, _new_context, sign_in
from tests.e2e.test_ehr_page import flag_ids, open_chart, reply, wait_for_new_flag, wait_ready

pytestmark = pytest.mark.browser


@pytest.fixture
def small_page(browser: Any) -> Iterator[Any]:
    """A phone-sized browser, the size of an EHR's side panel: 360 x 640."""
    context = _new_context(browser, 360, 640)
    yield context.new_page()
    _close(context)


def launch_full_window(page: Any, stack: Stack, patient: int) -> Any:
    """Launch in the whole (360 x 640) window: the app page is the top page, with a banner."""
    open_chart(page, stack, patient)
    page.get_by_role("button", name="Launch ValueLoop in full window").first.click()
    page.wait_for_url("**/launch/callback**")
    wait_ready(page)
    return page


def unflagged_orders(page: Any, count: int) -> list[Any]:
    """``count`` orders not flagged yet (other tests flag this practitioner's orders too),
    each located by its id so flagging one does not move the others."""
    ids = page.locator("li[data-order-id]:not([data-flagged])").evaluate_all(
        "items => items.map(item => item.dataset.orderId)"
    )
    assert len(ids) >= count, ids
    return [page.locator(f'li[data-order-id="{order_id}"]') for order_id in ids[:count]]


def the_signed_in_name(stack: Stack, page: Any) -> str:
    text = page.get_by_test_id("signed-in").inner_text()
    assert text.startswith("Signed in as ")
    return str(text.removeprefix("Signed in as ").strip())


def submit_in_view(page: Any, form: Any) -> None:
    """Submit is inside the 640 px viewport and nothing covers it."""
    button = form.get_by_role("button", name="Submit flag")
    box = button.bounding_box()
    assert box is not None
    assert box["y"] >= 0, box
    assert box["y"] + box["height"] <= 640, box
    on_top = page.evaluate(
        "([x, y]) => document.elementFromPoint(x, y)?.textContent?.trim()",
        [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
    )
    assert on_top == "Submit flag"


def test_the_form_offers_choices_fits_the_panel_and_other_needs_a_note(
    small_page: Any, stack: Stack, dashboard_page: Any
) -> None:
    page = launch_full_window(small_page, stack, patient=3)
    name = the_signed_in_name(stack, page)
    assert name != "The EHR did not say who is signed in."
    first, second = unflagged_orders(page, 2)

    first.locator('button[data-action="flag"]').click()
    form = first.get_by_test_id("flag-form")
    form.wait_for()
    assert form.locator('input[name="anonymity"]').count() == 3
    assert form.locator('input[name="anonymity"][value="identified"]').is_checked()
    assert form.get_by_text("the quality team sees your name").is_visible()
    submit_in_view(page, form)

    # "Other" without a note: said at once, nothing sent.
    form.locator('input[name="reason"][value="other"]').check()
    form.get_by_role("button", name="Submit flag").click()
    form.get_by_test_id("submit-error").get_by_text("needs a note").wait_for()
    assert first.get_attribute("data-flagged") is None

    before = flag_ids(stack)
    form.locator('textarea[name="note"]').fill("Repeat of yesterday's test by another team.")
    form.locator('select[name="driver"]').select_option("missing_prior_result")
    form.locator('input[name="anonymity"][value="confidential"]').check()
    form.get_by_role("button", name="Submit flag").click()
    first.locator('button[data-action="undo"]').wait_for()
    # During the undo window My flags shows the order as pending, not "no flags yet".
    page.locator('button[data-action="my-flags"]').click()
    pending = page.get_by_test_id("pending-flag")
    pending.wait_for()
    assert "You have not flagged any orders yet" not in page.get_by_test_id("my-flags").inner_text()
    confidential = wait_for_new_flag(first, stack, before)

    before = flag_ids(stack)
    second.locator('button[data-action="flag"]').click()
    form = second.get_by_test_id("flag-form")
    form.locator('input[name="reason"]').first.check()
    form.locator('input[name="anonymity"][value="anonymous"]').check()
    form.get_by_role("button", name="Submit flag").click()
    anonymous = wait_for_new_flag(second, stack, before)

    with stack.api() as api:
        stored = api.get(f"/flags/{confidential}").json()
    assert (stored["reason"], stored["driver"]) == ("other", "missing_prior_result")
    assert stored["reporter"]["identity_hidden"] is True

    # The team replies; at the next launch the reply itself is on the first screen.
    message = "Thanks: the duplicate came from the order set; we are fixing it."
    reply(stack, confidential, message)
    page = launch_full_window(small_page, stack, patient=3)
    new_replies = page.get_by_test_id("new-replies")
    new_replies.get_by_text(message).wait_for()
    box = new_replies.get_by_text(message).bounding_box()
    assert box is not None
    assert box["y"] + box["height"] <= 640

    # The dashboard never names the confidential or the anonymous reporter.
    sign_in(dashboard_page, stack, Role.ANALYST)
    for flag_id in (confidential, anonymous):
        dashboard_page.goto(f"{stack.base_url}/dashboard/flags/{flag_id}")
        dashboard_page.locator('#flag[data-state="ready"]').wait_for()
        reporter = dashboard_page.locator('[data-slot="reporter"]')
        reporter.get_by_text("Identity", exact=True).wait_for()
        content = dashboard_page.content()
        assert name not in content
        assert "@example.org" not in content

    # The team reclassifies the confidential flag's reason; the timeline keeps both.
    dashboard_page.goto(f"{stack.base_url}/dashboard/flags/{confidential}")
    dashboard_page.locator('#flag[data-state="ready"]').wait_for()
    classification = dashboard_page.locator("#classification-form")
    classification.get_by_label("Reason").select_option("repeat_duplicate")
    classification.get_by_role("button", name="Reclassify").click()
    event = dashboard_page.locator('#timeline li[data-kind="reclassification"]')
    event.wait_for()
    assert "Other" in event.inner_text()
    assert "Repeat or duplicate" in event.inner_text()
    with stack.api() as api:
        assert api.get(f"/flags/{confidential}").json()["reason"] == "repeat_duplicate"


def test_identified_flags_name_the_reporter_on_the_dashboard(
    small_page: Any, stack: Stack, dashboard_page: Any
) -> None:
    page = launch_full_window(small_page, stack, patient=4)
    name = the_signed_in_name(stack, page)
    (order,) = unflagged_orders(page, 1)
    before = flag_ids(stack)
    order.locator('button[data-action="flag"]').click()
    form = order.get_by_test_id("flag-form")
    form.locator('input[name="reason"]').first.check()
    form.get_by_role("button", name="Submit flag").click()
    flag_id = wait_for_new_flag(order, stack, before)

    sign_in(dashboard_page, stack, Role.ANALYST)
    dashboard_page.goto(f"{stack.base_url}/dashboard/flags/{flag_id}")
    dashboard_page.locator('#flag[data-state="ready"]').wait_for()
    dashboard_page.locator('[data-slot="reporter"]').get_by_text(name).wait_for()
