"""The quality dashboard in a real browser: triage a clinician's flag to closure and see the
reply reach them in the EHR, the queue's filters and keyset pages, bulk triage, edit
conflicts, roles and the keyboard (Insights, Admin and accessibility: test_dashboard_insights).

DOM contract (frontend/templates/dashboard/, frontend/static/dashboard/): the queue is
``#queue[data-state="loading|ready|empty|error"]`` with rows ``#queue-rows tr[data-id]
[data-status]`` (checkbox ``.row-check``, link ``.row-link``), the filter form ``#filters``,
``#bulk-triage``, ``#bulk-assign``, ``#export-link``, ``#bulk-result``, ``#prev-page``,
``#next-page``, ``#shortcuts-dialog``; a flag is ``#flag[data-state]`` with
``#transition-form`` (radios ``#to-<status>``), ``#reply-form``, ``#conflict-banner`` and
``#timeline li[data-kind]``.

The registry is shared by every browser test of the session (160 seeded flags and whatever
other tests add), so each test asks the API for flags in the state it needs and compares the
page with the API at that moment, never with fixed counts.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from app.auth.models import Role
from tests.e2e.conftest import Stack, sign_in, staff_api
from tests.e2e.test_ehr_page import flag_ids, launch_in_panel, wait_for_new_flag, wait_ready

pytestmark = pytest.mark.browser

SYNTHETIC_REPORTER = "Practitioner/synth-"  # app/demo/synthetic.py's reporters
ROWS = "#queue-rows tr[data-id]"


# --- the API, as the pages' reference -----------------------------------------------------------


def api_get(stack: Stack, path: str, params: Any = None, role: Role = Role.ANALYST) -> Any:
    with staff_api(stack, role) as api:
        response = api.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def api_flag(stack: Stack, flag_id: str) -> dict[str, Any]:
    flag: dict[str, Any] = api_get(stack, f"/flags/{flag_id}")
    return flag


def comment_through_api(stack: Stack, flag_id: str, body: str) -> None:
    """Someone else's change: an internal note moves the flag to its next version."""
    with staff_api(stack, Role.ADMIN) as api:
        response = api.post(f"/flags/{flag_id}/comments", json={"body": body})
    assert response.status_code == 201, response.text


def synthetic_flags(stack: Stack, count: int, **params: Any) -> list[dict[str, Any]]:
    """Seeded flags matching ``params``, in the API's order: their reporters are made up, so a
    reply to one never lands in the simulated EHR clinician's My flags."""
    items = api_get(stack, "/flags", {"limit": 50, **params})["items"]
    chosen = [
        flag
        for flag in items
        if (flag["reporter"].get("fhir_user") or "").startswith(SYNTHETIC_REPORTER)
    ][:count]
    assert len(chosen) == count, f"fewer than {count} seeded flags match {params}"
    return chosen


# --- the pages -----------------------------------------------------------------------------------


def shot(page: Any, directory: Path, name: str) -> None:
    page.screenshot(path=str(directory / f"{name}.png"), full_page=True)


def query_of(page: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def wait_for_path(page: Any, path: str) -> None:
    page.wait_for_url(lambda url: urlsplit(url).path == path)


def row_ids(page: Any) -> list[str]:
    ids: list[str] = page.eval_on_selector_all(ROWS, "rows => rows.map(r => r.dataset.id)")
    return ids


def wait_rows(page: Any, expected: list[str]) -> None:
    """Until the queue has loaded and shows exactly these flags, in this order (if it never
    does, the assertion shows how the rows on screen differ)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(
            """ids => document.getElementById('queue').dataset.state === 'ready'
                && JSON.stringify([...document.querySelectorAll('#queue-rows tr[data-id]')]
                    .map(r => r.dataset.id)) === JSON.stringify(ids)""",
            arg=expected,
        )
    except PlaywrightTimeout:
        assert row_ids(page) == expected


def open_queue(page: Any, stack: Stack, search: str = "") -> None:
    page.goto(f"{stack.base_url}/dashboard/queue{search}")
    page.wait_for_selector('#queue[data-state="ready"]')


def open_flag(page: Any, stack: Stack, flag_id: str) -> None:
    page.goto(f"{stack.base_url}/dashboard/flags/{flag_id}")
    page.wait_for_selector('#flag[data-state="ready"]')


# --- triage to closure, and the reply back in the EHR --------------------------------------------


def is_my_flags(response: Any) -> bool:
    """The EHR page's GET of the clinician's own flags (the unread badge's source)."""
    return bool(
        response.request.method == "GET" and response.url.endswith("/api/v1/clinician/flags")
    )


def launch_counting_unread(page: Any, stack: Stack, patient: int) -> tuple[Any, int]:
    """Launch into the side panel; the frame and the unread replies the server reported."""
    with page.expect_response(is_my_flags) as listed:
        frame = launch_in_panel(page, stack, patient)
    wait_ready(frame)
    unread: int = listed.value.json()["unread"]
    return frame, unread


def flag_in_the_ehr(page: Any, stack: Stack) -> tuple[str, int, int]:
    """Flag an order nobody has flagged yet, in three clicks: (flag id, patient, unread before).

    The EHR page's tests flag the first order of their patient's newest encounter, so this one
    takes the last order of an encounter that has more than one."""
    for patient in (5, 3, 4, 2, 1, 0):
        frame, unread = launch_counting_unread(page, stack, patient)
        orders = frame.locator("li[data-order-id]")
        order = orders.last
        if orders.count() > 1 and order.get_attribute("data-flagged") != "true":
            break
    else:
        raise AssertionError("no simulated encounter has a second order left to flag")
    before = flag_ids(stack)
    order.locator('button[data-action="flag"]').click()
    form = frame.get_by_test_id("flag-form")
    form.locator('input[name="reason"]').first.click()
    form.get_by_role("button", name="Submit flag").click()
    return wait_for_new_flag(order, stack, before), patient, unread


def move(page: Any, to: str, label: str, *, owner: str = "", reply: str = "") -> None:
    """One move on the flag page, through its form; returns once the page shows the result."""
    form = page.locator("#transition-form")
    form.locator(f"#to-{to}").check()
    if owner:  # picked from the staff directory with the type-ahead, keyboard only
        picker = form.get_by_label("Lead's name", exact=True)
        picker.press_sequentially(owner)
        form.get_by_role("option", name=owner).wait_for()
        picker.press("ArrowDown")
        picker.press("ArrowUp")
        picker.press("Enter")
    if reply:
        form.locator("#transition-reply").fill(reply)
    form.get_by_role("button", name=f"Move to {label}").click()
    form.locator("legend", has_text=f"Move from {label} to").wait_for()


def test_triage_to_closure_and_the_reply_reaches_my_flags(
    page: Any, dashboard_page: Any, stack: Stack, dashboard_data: int, screenshots: Path
) -> None:
    flag_id, patient, unread = flag_in_the_ehr(page, stack)

    sign_in(dashboard_page, stack, Role.ANALYST)
    dashboard_page.wait_for_selector('#queue[data-state="ready"]')
    # New flags come first, newest first: the one just sent is on top.
    assert row_ids(dashboard_page)[0] == flag_id
    assert dashboard_page.locator(ROWS).first.get_attribute("data-status") == "submitted"
    shot(dashboard_page, screenshots, "dashboard-queue")
    dashboard_page.locator(f'tr[data-id="{flag_id}"] a.row-link').click()
    wait_for_path(dashboard_page, f"/dashboard/flags/{flag_id}")
    dashboard_page.wait_for_selector('#flag[data-state="ready"]')
    shot(dashboard_page, screenshots, "dashboard-flag")

    lead = "Dr. E. Nwosu"  # from the demo directory the dashboard data seeds
    message = f"We stopped the routine repeat of this order ({uuid.uuid4().hex[:8]}). Thank you!"
    move(dashboard_page, "triaged", "Triaged")
    move(dashboard_page, "accepted", "Accepted", owner=lead)
    move(dashboard_page, "action_taken", "Action taken")
    move(dashboard_page, "closed", "Closed", reply=message)
    reply = dashboard_page.locator('#timeline li[data-kind="reply"]').filter(has_text=message)
    reply.wait_for()
    assert "visible to the reporter" in reply.inner_text()
    shot(dashboard_page, screenshots, "dashboard-flag-closed")

    flag = api_flag(stack, flag_id)
    assert flag["status"] == "closed"
    assert flag["owner"]["lead"]["name"] == lead
    assert [e["to_status"] for e in flag["timeline"] if e["kind"] == "status_change"] == [
        "triaged",
        "accepted",
        "action_taken",
        "closed",
    ]
    assert [e["body"] for e in flag["timeline"] if e["kind"] == "reply"] == [message]

    frame, unread_now = launch_counting_unread(page, stack, patient)
    assert unread_now == unread + 1
    badge = frame.get_by_test_id("unread-badge")
    frame.wait_for_function(
        "n => document.querySelector('[data-testid=unread-badge]').textContent.trim() === n",
        arg=str(unread + 1),
    )
    assert badge.is_visible()
    frame.locator('button[data-action="my-flags"]').click()
    mine = frame.get_by_test_id("my-flags").locator(f'li[data-flag-id="{flag_id}"]')
    mine.wait_for()
    assert "Closed" in mine.inner_text()
    # Reading it is recorded on the server, so the badge stays as it was for the next launch.
    with page.expect_response(lambda r: r.url.endswith(f"/flags/{flag_id}/read")) as read:
        mine.locator("summary").click()
    assert read.value.ok
    mine.get_by_text(message).wait_for()
    frame.wait_for_function(
        """n => {
            const badge = document.querySelector('[data-testid=unread-badge]');
            return n === 0 ? badge.hidden : badge.textContent.trim() === String(n);
        }""",
        arg=unread,
    )


# --- the queue: filters in the URL, keyset pages, Back -------------------------------------------

OPEN = ["submitted", "triaged"]


def test_queue_filters_round_trip_through_the_url_and_paginate(
    analyst_page: Any, stack: Stack
) -> None:
    page = analyst_page
    page.wait_for_selector('#queue[data-state="ready"]')
    # The most common reason and department among the open, unanswered flags: a view with rows.
    waiting = api_get(stack, "/flags", {"status": OPEN, "answered": "false", "limit": 200})
    pairs: dict[tuple[str, str], int] = {}
    for flag in waiting["items"]:
        if flag["department"]:
            key = (flag["reason"], flag["department"])
            pairs[key] = pairs.get(key, 0) + 1
    reason, department = max(pairs, key=lambda key: pairs[key])
    filters = {
        "status": OPEN,
        "reason": [reason],
        "department": [department],
        "answered": ["false"],
    }
    expected = api_get(stack, "/flags", {**filters, "sort": "new_first", "limit": 50})
    filtered = [flag["id"] for flag in expected["items"]]
    assert filtered

    form = page.locator("#filters")
    for status in OPEN:
        form.locator(f"#f-status-{status}").check()
    form.get_by_label("Reason", exact=True).select_option(reason)
    form.locator(f'#f-department option[value="{department}"]').wait_for(state="attached")
    form.get_by_label("Department", exact=True).select_option(department)
    form.get_by_label("Unanswered only").check()
    form.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(lambda url: parse_qs(urlsplit(url).query) == filters)
    wait_rows(page, filtered)

    page.reload()
    wait_rows(page, filtered)
    assert query_of(page) == filters
    assert form.locator("#f-status-submitted").is_checked()
    assert form.locator("#f-status-triaged").is_checked()
    assert not form.locator("#f-status-closed").is_checked()
    assert form.get_by_label("Reason", exact=True).input_value() == reason
    assert form.get_by_label("Department", exact=True).input_value() == department
    assert form.get_by_label("Unanswered only").is_checked()

    # Keyset pages of 25 over every flag: the same pages the API's cursors give.
    pages: list[list[str]] = []
    cursor = None
    for _ in range(3):
        params = {"sort": "new_first", "limit": 25, **({"cursor": cursor} if cursor else {})}
        answer = api_get(stack, "/flags", params)
        pages.append([flag["id"] for flag in answer["items"]])
        cursor = answer["next_cursor"]
        assert cursor, "the seeded registry has more than three pages of 25"
    assert len({flag_id for ids in pages for flag_id in ids}) == 75, "pages overlap"

    page.get_by_role("button", name="Clear filters").first.click()
    page.wait_for_url(lambda url: urlsplit(url).query == "")
    form.get_by_label("Flags per page").select_option("25")
    page.wait_for_url(lambda url: parse_qs(urlsplit(url).query) == {"limit": ["25"]})
    wait_rows(page, pages[0])
    assert page.locator("#prev-page").is_disabled()
    next_page = page.get_by_role("button", name="Next page")
    next_page.click()
    wait_rows(page, pages[1])
    assert query_of(page)["limit"] == ["25"]
    assert "cursor" in query_of(page)
    next_page.click()
    wait_rows(page, pages[2])
    assert page.locator("#page-number").inner_text() == "Page 3"
    page.get_by_role("button", name="Previous page").click()
    wait_rows(page, pages[1])
    assert page.locator("#page-number").inner_text() == "Page 2"

    # Back walks the views in reverse: page 3, 2, 1, the cleared list, the filtered view.
    for ids in (pages[2], pages[1], pages[0]):
        page.go_back()
        wait_rows(page, ids)
    for _ in range(3):
        if "reason" in query_of(page):
            break
        page.go_back()
    assert query_of(page) == filters
    wait_rows(page, filtered)
    assert form.get_by_label("Reason", exact=True).input_value() == reason
    assert form.get_by_label("Unanswered only").is_checked()


# --- bulk triage ---------------------------------------------------------------------------------

NEW_QUEUE = "?status=submitted"


def check_rows(page: Any, flags: list[dict[str, Any]]) -> None:
    for flag in flags:
        page.locator(f'tr[data-id="{flag["id"]}"] .row-check').check()
    assert page.locator("#selected-count").inner_text() == f"{len(flags)} selected"


def test_bulk_triage_marks_the_checked_new_flags_triaged(analyst_page: Any, stack: Stack) -> None:
    page = analyst_page
    chosen = synthetic_flags(stack, 3, status="submitted", sort="new_first")
    open_queue(page, stack, NEW_QUEUE)
    check_rows(page, chosen)
    page.get_by_role("button", name="Mark triaged").click()
    result = page.locator("#bulk-result.ok")
    result.wait_for()
    assert "Marked 3 flags triaged." in result.inner_text()
    for flag in chosen:
        now = api_flag(stack, flag["id"])
        assert now["status"] == "triaged"
        assert now["version"] == flag["version"] + 1
        # The list reloads: a triaged flag leaves the view of New flags.
        page.locator(f'tr[data-id="{flag["id"]}"]').wait_for(state="detached")


def test_bulk_triage_of_a_flag_changed_meanwhile_changes_nothing_and_names_it(
    analyst_page: Any, stack: Stack
) -> None:
    page = analyst_page
    chosen = synthetic_flags(stack, 3, status="submitted", sort="new_first")
    open_queue(page, stack, NEW_QUEUE)
    check_rows(page, chosen)
    changed = chosen[1]
    comment_through_api(stack, changed["id"], "Looked at this one already.")
    assert api_flag(stack, changed["id"])["version"] == changed["version"] + 1

    page.get_by_role("button", name="Mark triaged").click()
    result = page.locator("#bulk-result.problem")
    result.wait_for()
    text = result.inner_text()
    assert "Nothing was marked triaged: 1 flag changed since the list was loaded." in text
    assert f"(version {changed['version']} → {changed['version'] + 1})" in text
    for flag in chosen:
        now = api_flag(stack, flag["id"])
        assert now["status"] == "submitted"
        assert now["version"] == flag["version"] + (1 if flag is changed else 0)


# --- a flag changed by someone else while a reply is being written -------------------------------


def test_concurrent_change_shows_reload_and_keeps_the_draft(
    analyst_page: Any, stack: Stack
) -> None:
    page = analyst_page
    (flag,) = synthetic_flags(stack, 1, status="triaged")
    open_flag(page, stack, flag["id"])
    draft = f"Thanks for the flag: we are reviewing the indication ({uuid.uuid4().hex[:8]})."
    note = f"Pharmacy checked this order ({uuid.uuid4().hex[:8]})."
    form = page.locator("#reply-form")
    form.get_by_label("Message").fill(draft)
    comment_through_api(stack, flag["id"], note)

    form.get_by_role("button", name="Send reply").click()
    banner = page.locator("#conflict-banner")
    banner.wait_for()
    assert "Someone changed this flag since you opened it" in banner.inner_text()
    assert "someone changed this flag" in form.locator('[data-slot="error"]').inner_text()
    assert form.get_by_label("Message").input_value() == draft
    assert not [e for e in api_flag(stack, flag["id"])["timeline"] if e["body"] == draft]

    page.get_by_role("button", name="Reload").click()
    banner.wait_for(state="hidden")
    page.locator("#timeline li[data-kind=comment]").filter(has_text=note).wait_for()
    assert form.get_by_label("Message").input_value() == draft

    form.get_by_role("button", name="Send reply").click()
    page.locator("#timeline li[data-kind=reply]").filter(has_text=draft).wait_for()
    assert form.get_by_label("Message").input_value() == ""
    assert banner.is_hidden()
    replies = [e["body"] for e in api_flag(stack, flag["id"])["timeline"] if e["kind"] == "reply"]
    assert replies.count(draft) == 1


# --- roles and the session -----------------------------------------------------------------------


def test_lead_has_no_assign_or_export_and_gets_the_403_page_on_admin(
    dashboard_page: Any, stack: Stack, dashboard_data: int
) -> None:
    page = dashboard_page
    sign_in(page, stack, Role.LEAD)
    page.wait_for_selector('#queue[data-state="ready"]')
    assert page.locator("#bulk-triage").is_visible()
    assert page.locator("#bulk-assign").count() == 0
    assert page.locator("#export-link").count() == 0
    assert page.locator('nav a[href="/dashboard/admin"]').count() == 0
    response = page.goto(f"{stack.base_url}/dashboard/admin")
    assert response.status == 403
    assert page.get_by_role("heading", level=1).inner_text() == "Not allowed"
    assert "manage_tokens" in page.locator("main").inner_text()


def test_analyst_has_assign_and_export_but_no_admin_link(analyst_page: Any, stack: Stack) -> None:
    page = analyst_page
    page.wait_for_selector('#queue[data-state="ready"]')
    assert page.locator("#bulk-assign").is_visible()
    assert page.locator("#export-link").is_visible()
    assert page.locator('nav a[href="/dashboard/insights"]').is_visible()
    assert page.locator('nav a[href="/dashboard/admin"]').count() == 0


def test_signed_out_visit_signs_in_back_to_insights_and_sign_out_ends_the_session(
    dashboard_page: Any, stack: Stack, dashboard_data: int
) -> None:
    page = dashboard_page
    page.goto(f"{stack.base_url}/dashboard/insights?range=all")
    wait_for_path(page, "/dashboard/sign-in")
    assert query_of(page) == {"next": ["/dashboard/insights?range=all"]}
    page.get_by_label("API token").fill(stack.tokens[Role.LEAD])
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(lambda url: url == f"{stack.base_url}/dashboard/insights?range=all")
    page.get_by_role("heading", name="Insights", level=1).wait_for()

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(lambda url: url == f"{stack.base_url}/dashboard/sign-in")
    assert page.request.get(f"{stack.base_url}/api/v1/session").status == 401
    page.goto(f"{stack.base_url}/dashboard/queue")
    wait_for_path(page, "/dashboard/sign-in")
    assert query_of(page) == {"next": ["/dashboard/queue"]}


# --- the keyboard --------------------------------------------------------------------------------


def test_queue_keyboard_triages_the_checked_row_and_opens_help_and_search(
    analyst_page: Any, stack: Stack
) -> None:
    page = analyst_page
    open_queue(page, stack, NEW_QUEUE)
    second = page.locator(ROWS).nth(1)
    flag_id = second.get_attribute("data-id")
    version = api_flag(stack, flag_id)["version"]
    assert second.get_attribute("data-status") == "submitted"

    for key in ("j", "j", "x"):
        page.keyboard.press(key)
    assert second.get_attribute("aria-current") == "true"
    assert second.locator(".row-check").is_checked()
    assert page.locator("#selected-count").inner_text() == "1 selected"
    page.keyboard.press("t")
    page.locator("#bulk-result.ok").filter(has_text="Marked 1 flag triaged.").wait_for()
    # Then the list reloads and gives focus back to the current row; the keys below must come
    # after that, or the reload would take focus from the search field.
    page.wait_for_selector("#queue:not([aria-busy])")
    now = api_flag(stack, flag_id)
    assert (now["status"], now["version"]) == ("triaged", version + 1)

    dialog = page.locator("#shortcuts-dialog")
    page.keyboard.press("?")
    dialog.wait_for()
    assert dialog.evaluate("d => d.open")
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")
    page.keyboard.press("/")
    assert page.evaluate("() => document.activeElement.id") == "f-q"
