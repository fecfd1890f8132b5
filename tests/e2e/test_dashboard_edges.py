"""What a first week on the dashboard would hit, in a real browser: token sign-in after a typo,
the way in from ``/``, and the admins' Audit page against the audit API.

DOM contract: the sign-in form is ``#token-sign-in`` with ``#token`` and the alert
``#token-error``; the Audit page is ``#audit[data-state="loading|ready|empty|error"]`` with the
filter form ``#audit-filters``, rows ``#audit-rows tr[data-id]``, ``#audit-prev``,
``#audit-next`` and the export link ``#audit-export``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from app.auth.models import Role
from tests.e2e.conftest import Stack

pytestmark = pytest.mark.browser


def test_a_mistyped_token_says_so_and_the_right_one_then_opens_the_queue(
    dashboard_page: Any, stack: Stack
) -> None:
    from playwright.sync_api import expect

    page = dashboard_page
    page.goto(f"{stack.base_url}/dashboard/sign-in")
    # A reload would forget this: the refusal must be shown in the same page.
    page.evaluate("window.stillThisPage = true")
    field = page.get_by_label("API token")
    mistyped = stack.tokens[Role.ANALYST][:-1] + "?"

    field.fill(mistyped)
    page.get_by_role("button", name="Sign in", exact=True).click()

    error = page.locator("#token-error")
    expect(error).to_contain_text("not valid")
    expect(error).to_have_attribute("role", "alert")
    expect(error).to_be_visible()
    expect(field).to_have_value(mistyped)
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_be_focused()
    assert page.evaluate("window.stillThisPage === true")
    assert urlsplit(page.url).path == "/dashboard/sign-in"
    assert "next" not in parse_qs(urlsplit(page.url).query)

    field.fill(stack.tokens[Role.ANALYST])
    page.get_by_role("button", name="Sign in", exact=True).click()

    page.wait_for_url(lambda url: urlsplit(url).path == "/dashboard/queue")
    page.wait_for_selector('#queue[data-state="ready"], #queue[data-state="empty"]')
