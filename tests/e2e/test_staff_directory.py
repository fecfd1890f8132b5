"""The staff directory in a real browser: an admin adds a person on the Admin page (a duplicate
email shows the server's problem next to the field), changes their role, deactivates and
reactivates them, all with the keyboard; and the section reads as cards at 360 px.

DOM contract (frontend/templates/dashboard/admin.html, frontend/static/dashboard/admin/staff.js):
``#staff`` with ``[data-slot="table"]`` rows ``tr[data-staff-id]``, the form ``#add-staff``
with its ``[data-slot="problem"]``, and ``#confirm-dialog``.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from app.auth.models import Role
from tests.e2e.conftest import Stack, staff_api

pytestmark = pytest.mark.browser


def directory_entry(stack: Stack, email: str) -> dict[str, Any]:
    with staff_api(stack, Role.ADMIN) as api:
        response = api.get("/staff", params={"q": email})
    assert response.status_code == 200, response.text
    [person] = response.json()["items"]
    return dict(person)


def open_admin(page: Any, stack: Stack) -> Any:
    page.goto(f"{stack.base_url}/dashboard/admin")
    section = page.locator("#staff")
    section.locator('[data-slot="table"]:not([hidden]) tr[data-staff-id]').first.wait_for()
    return section


def test_admin_adds_a_person_a_duplicate_email_is_refused_and_deactivating_shows_them_inactive(
    admin_page: Any, stack: Stack
) -> None:
    page = admin_page
    section = open_admin(page, stack)
    form = section.locator("#add-staff")
    email = f"j.okonkwo.{uuid.uuid4().hex[:8]}@example.org"

    # Add, with the keyboard: type, Tab between fields, arrow through the role, Enter submits.
    form.get_by_label("Name").fill("J. Okonkwo")
    page.keyboard.press("Tab")
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    page.keyboard.press("ArrowDown")  # Lead -> Analyst
    form.get_by_label("Email").press("Enter")
    row = section.locator("tr[data-staff-id]", has_text=email)
    row.wait_for()
    person = directory_entry(stack, email)
    assert (person["name"], person["role"], person["active"]) == ("J. Okonkwo", "analyst", True)
    assert row.get_attribute("data-staff-id") == person["id"]
    assert row.locator("td", has_text="Active").count() == 1
    assert section.get_by_role("status").filter(has_text="J. Okonkwo added as Analyst").count() == 1

    # The same email again (in capitals): the server's problem, shown next to the email field.
    form.get_by_label("Name").fill("Someone Else")
    form.get_by_label("Email").fill(email.upper())
    form.get_by_role("button", name="Add person").click()
    problem = form.locator('[data-slot="problem"]:not([hidden])')
    problem.wait_for()
    assert "Email already in the directory" in problem.inner_text()
    assert form.get_by_label("Email").get_attribute("aria-invalid") == "true"
    assert "already belongs to someone" in form.locator("#staff-email-error").inner_text()
    assert section.locator("tr[data-staff-id]", has_text="Someone Else").count() == 0

    # Change the role: the select alone saves nothing, its button does.
    row.get_by_label("Role of J. Okonkwo", exact=True).select_option("lead")
    assert directory_entry(stack, email)["role"] == "analyst"
    row.get_by_role("button", name="Change role of J. Okonkwo").press("Enter")
    page.wait_for_function(
        """id => document.querySelector(`#staff tr[data-staff-id="${id}"] select`)?.value === 'lead'
            && document.querySelector('#staff [data-slot="status"]').textContent
                .includes('is now Lead')""",
        arg=person["id"],
    )
    assert directory_entry(stack, email)["role"] == "lead"

    # Deactivate (after confirming), then reactivate.
    row.get_by_role("button", name="Deactivate J. Okonkwo").press("Enter")
    dialog = page.locator("#confirm-dialog")
    dialog.get_by_role("button", name="Deactivate").click()
    row.locator("td", has_text="Inactive").wait_for()
    assert directory_entry(stack, email)["active"] is False
    assert row.get_by_role("button", name="Reactivate J. Okonkwo").is_visible()

    row.get_by_role("button", name="Reactivate J. Okonkwo").press("Enter")
    row.get_by_role("button", name="Deactivate J. Okonkwo").wait_for()
    assert row.locator("td", has_text="Active").count() == 1
    assert directory_entry(stack, email)["active"] is True


def test_cancelling_the_deactivation_changes_nothing(admin_page: Any, stack: Stack) -> None:
    page = admin_page
    section = open_admin(page, stack)
    email = f"c.ferreira.{uuid.uuid4().hex[:8]}@example.org"
    with staff_api(stack, Role.ADMIN) as api:
        created = api.post("/staff", json={"email": email, "name": "C. Ferreira", "role": "lead"})
    assert created.status_code == 201, created.text
    page.reload()
    section = open_admin(page, stack)
    row = section.locator("tr[data-staff-id]", has_text=email)
    row.get_by_role("button", name="Deactivate C. Ferreira").press("Enter")
    page.locator("#confirm-dialog[open]").wait_for()
    page.keyboard.press("Escape")
    page.locator("#confirm-dialog[open]").wait_for(state="hidden")
    assert row.locator("td", has_text="Active").count() == 1
    assert directory_entry(stack, email)["active"] is True


def test_the_directory_reads_as_cards_at_360_px(
    admin_page: Any, stack: Stack, screenshots: Path
) -> None:
    page = admin_page
    page.set_viewport_size({"width": 360, "height": 800})
    section = open_admin(page, stack)
    # Nothing is wider than the screen: no sideways scrolling to reach a person's buttons.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    box = section.locator("tr[data-staff-id]").first.bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= 360
    button = section.locator("tr[data-staff-id] button[data-action='active']").first
    button_box = button.bounding_box()
    assert button_box is not None
    assert button_box["x"] + button_box["width"] <= 360
    section.screenshot(path=str(screenshots / "admin-staff-narrow.png"))
