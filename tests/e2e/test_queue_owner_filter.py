"""The queue's owner filter in a real browser: the assignee is picked from the staff directory
with the type-ahead (keyboard only), the URL carries their staff id, and the list shows only
flags they own (as lead or either member of a dyad), as the API says."""

from __future__ import annotations

from typing import Any

import pytest

from app.auth.models import Role
from tests.e2e.conftest import Stack
from tests.e2e.test_dashboard import api_get, open_queue, query_of, wait_rows

pytestmark = pytest.mark.browser


def person(stack: Stack, name: str) -> dict[str, Any]:
    [found] = api_get(stack, "/staff", {"q": name}, role=Role.ADMIN)["items"]
    return dict(found)


def owned_by(flag: dict[str, Any], staff_id: str) -> bool:
    owner = flag["owner"] or {}
    return staff_id in {
        (owner.get(role) or {}).get("id") for role in ("lead", "clinical_lead", "operational_lead")
    }


def test_filtering_by_an_owner_picked_with_the_keyboard_shows_only_their_flags(
    analyst_page: Any, stack: Stack
) -> None:
    page = analyst_page
    alvarez = person(stack, "R. Alvarez")
    expected = api_get(stack, "/flags", {"owner": alvarez["id"], "limit": 50})["items"]
    assert expected, "the seeded registry has flags owned by R. Alvarez"
    assert all(owned_by(flag, alvarez["id"]) for flag in expected)
    open_queue(page, stack)

    picker = page.get_by_role("combobox", name="Assignee")
    picker.focus()
    page.keyboard.type("r.")
    listbox = page.locator(f"#{picker.get_attribute('aria-controls')}")
    listbox.get_by_role("option", name="R. Alvarez").wait_for()
    options = listbox.get_by_role("option").all_inner_texts()
    for _ in range(next(i for i, text in enumerate(options) if text.startswith("R. Alvarez"))):
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")

    page.wait_for_url(lambda url: "owner=" in url)
    assert query_of(page)["owner"] == [alvarez["id"]]
    wait_rows(page, [flag["id"] for flag in expected])
    assert picker.input_value() == "R. Alvarez <r.alvarez@example.org>"

    # The link opens the same view, with the person's name back in the picker.
    page.reload()
    wait_rows(page, [flag["id"] for flag in expected])
    page.wait_for_function(
        "() => document.getElementById('f-owner').value === 'R. Alvarez <r.alvarez@example.org>'"
    )


def test_a_name_not_picked_from_the_list_is_refused_next_to_the_field(
    analyst_page: Any, stack: Stack
) -> None:
    page = analyst_page
    open_queue(page, stack)
    picker = page.get_by_role("combobox", name="Assignee")
    picker.fill("Nobody by this name")
    page.get_by_role("listbox", name="People").get_by_text("Nobody matches.").wait_for()
    picker.press("Escape")
    picker.press("Enter")  # the list is closed: Enter applies the filters
    error = page.locator("#filter-error:not([hidden])")
    error.wait_for()
    assert "Pick the assignee from the list" in error.inner_text()
    assert picker.get_attribute("aria-invalid") == "true"
    assert "owner" not in query_of(page)


def test_an_old_link_with_a_name_for_owner_opens_without_the_filter(
    analyst_page: Any, stack: Stack
) -> None:
    page = analyst_page
    open_queue(page, stack, "?owner=R.%20Alvarez&status=accepted")
    page.wait_for_url(lambda url: "owner=" not in url)
    assert query_of(page)["status"] == ["accepted"]
    assert page.get_by_role("combobox", name="Assignee").input_value() == ""
