"""The flag page's owner picker: an analyst gives a flag to a clinical + operational dyad
picked from the staff directory with the type-ahead, using the keyboard only."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import Stack
from tests.e2e.test_dashboard import api_flag, open_flag, synthetic_flags


def pick(page: Any, label: str, typed: str, wanted: str) -> None:
    """Type into the picker, walk the options with the arrow keys, choose with Enter."""
    picker = page.locator("#owner-form").get_by_label(label, exact=True)
    picker.press_sequentially(typed)
    listbox = page.locator(f"#{picker.get_attribute('aria-controls')}")
    listbox.get_by_role("option", name=wanted).wait_for()
    assert picker.get_attribute("aria-expanded") == "true"
    options = listbox.get_by_role("option").all_inner_texts()
    for _ in range(options.index(next(o for o in options if wanted in o))):
        picker.press("ArrowDown")
    active = picker.get_attribute("aria-activedescendant")
    assert page.locator(f"#{active}").inner_text().startswith(wanted)
    picker.press("Enter")
    assert picker.get_attribute("aria-expanded") == "false"


def test_analyst_assigns_a_dyad_from_the_directory_with_the_keyboard(
    analyst_page: Any, stack: Stack
) -> None:
    [flag] = synthetic_flags(stack, 1, status="triaged")
    page = analyst_page
    open_flag(page, stack, flag["id"])
    form = page.locator("#owner-form")

    form.get_by_label("One lead").focus()
    page.keyboard.press("ArrowDown")  # radio group: to "A dyad"
    assert form.get_by_label("A dyad (clinical + operational lead)").is_checked()
    page.keyboard.press("Tab")
    pick(page, "Clinical lead's name", "dr. h", "Dr. H. Tanaka")
    page.keyboard.press("Tab")
    pick(page, "Operational lead's name", "R.", "R. Alvarez")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the Assign button

    # The page shows the new owner once the server has it.
    page.get_by_text("Dr. H. Tanaka (clinical) + R. Alvarez (operational)").first.wait_for()
    owner = api_flag(stack, flag["id"])["owner"]
    assert (owner["clinical_lead"]["name"], owner["operational_lead"]["name"]) == (
        "Dr. H. Tanaka",
        "R. Alvarez",
    )
    assert owner["clinical_lead"]["email"] == "h.tanaka@example.org"
