"""What a first week on the dashboard would hit, in a real browser: token sign-in after a typo,
the way in from ``/``, and the admins' Audit page against the audit API.

DOM contract: the sign-in form is ``#token-sign-in`` with ``#token`` and the alert
``#token-error``; the Audit page is ``#audit[data-state="loading|ready|empty|error"]`` with the
filter form ``#audit-filters``, rows ``#audit-rows tr[data-id]``, ``#audit-prev``,
``#audit-next`` and the export link ``#audit-export``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from app.auth.models import Role
from tests.e2e.conftest import Stack, staff_api

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


def audit_api(stack: Stack, **params: Any) -> list[int]:
    with staff_api(stack, Role.ADMIN) as api:
        response = api.get("/audit-events", params={"limit": 50, **params})
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def wait_audit(page: Any) -> None:
    page.wait_for_function(
        "() => ['ready', 'empty', 'error'].includes(document.getElementById('audit').dataset.state)"
        " && document.getElementById('audit').getAttribute('aria-busy') === 'false'"
    )


def shown_ids(page: Any) -> list[int]:
    ids: list[int] = page.eval_on_selector_all(
        "#audit-rows tr[data-id]", "rows => rows.map(r => Number(r.dataset.id))"
    )
    return ids


def test_admin_filters_the_audit_trail_by_flag_pages_it_and_exports_the_same_filters(
    admin_page: Any, stack: Stack, dashboard_data: int
) -> None:
    page = admin_page
    with staff_api(stack, Role.LEAD) as api:
        flag_id = api.get("/flags", params={"limit": 1}).json()["items"][0]["id"]
        for _ in range(3):
            assert api.get(f"/flags/{flag_id}").status_code == 200

    page.get_by_role("link", name="Audit", exact=True).click()
    page.wait_for_url(lambda url: urlsplit(url).path == "/dashboard/audit")
    wait_audit(page)
    page.get_by_label("Flag id").fill(flag_id)
    page.get_by_label("Action").select_option("read")
    page.get_by_role("button", name="Apply filters").click()

    page.wait_for_url(lambda url: parse_qs(urlsplit(url).query).get("flag_id") == [flag_id])
    wait_audit(page)
    expected = audit_api(stack, flag_id=flag_id, action="read")
    assert len(expected) >= 3
    assert shown_ids(page) == expected
    export = page.get_attribute("#audit-export", "href")
    assert parse_qs(urlsplit(export).query) == {"flag_id": [flag_id], "action": ["read"]}
    with staff_api(stack, Role.ADMIN) as api:
        exported = api.get(export.removeprefix("/api/v1"))
    assert exported.status_code == 200
    assert [int(line.split(",")[0]) for line in exported.text.splitlines()[1:]] == expected


def test_audit_pages_walk_older_and_back_to_newer(admin_page: Any, stack: Stack) -> None:
    page = admin_page
    with staff_api(stack, Role.LEAD) as api:
        for _ in range(55):  # more searches than one page shows
            assert api.get("/filter-options").status_code == 200
            assert api.get("/flags", params={"limit": 1}).status_code == 200
    page.goto(f"{stack.base_url}/dashboard/audit?action=search&actor=E2E+lead")
    wait_audit(page)
    first = shown_ids(page)
    assert first == audit_api(stack, action="search", actor="E2E lead")

    page.get_by_role("button", name="Older events").click()
    page.wait_for_url(lambda url: "before_id" in url)
    wait_audit(page)
    second = shown_ids(page)
    assert second
    assert max(second) < min(first)

    page.get_by_role("button", name="Newer events").click()
    page.wait_for_url(lambda url: "before_id" not in url)
    wait_audit(page)
    assert shown_ids(page)[-1] == first[-1]


def test_analyst_has_no_audit_link_and_gets_the_403_page(analyst_page: Any, stack: Stack) -> None:
    page = analyst_page
    assert page.get_by_role("link", name="Audit", exact=True).count() == 0

    response = page.goto(f"{stack.base_url}/dashboard/audit")

    assert response.status == 403
    with staff_api(stack, Role.ANALYST) as api:
        assert api.get("/audit-events").status_code == 403


def test_audit_page_and_a_refused_sign_in_have_no_serious_accessibility_violations(
    admin_page: Any, stack: Stack, axe_script: Path
) -> None:
    from tests.e2e.test_dashboard_insights import WIDTHS, serious_violations

    page = admin_page
    axe_source = axe_script.read_text(encoding="utf-8")
    found: list[str] = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{stack.base_url}/dashboard/audit")
        wait_audit(page)
        found += [f"audit at {width} px: {v}" for v in serious_violations(page, axe_source)]
    signed_out = page.context.browser.new_context()
    try:
        sign_in = signed_out.new_page()
        sign_in.goto(f"{stack.base_url}/dashboard/sign-in")
        sign_in.get_by_label("API token").fill("not-a-token")
        sign_in.get_by_role("button", name="Sign in", exact=True).click()
        sign_in.locator("#token-error:not(:empty)").wait_for()
        found += [f"refused sign-in: {v}" for v in serious_violations(sign_in, axe_source)]
    finally:
        signed_out.close()
    assert found == [], "\n".join(found)
