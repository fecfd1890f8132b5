"""The Transparency page in a real browser: the report's numbers as the API gives them, a
period change, the CSV and PDF links, and axe-core at full width and at 360 px."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from app.auth.models import Role
from tests.e2e.conftest import Stack, staff_api
from tests.e2e.test_dashboard import api_flag, open_flag, synthetic_flags
from tests.e2e.test_dashboard_insights import WIDTHS, serious_violations

pytestmark = pytest.mark.browser

EVERYTHING = {"from": "2000-01-01", "to": "2099-12-31"}


def wait_report(page: Any, period: dict[str, str]) -> None:
    """Until the report for ``period`` is drawn."""
    page.wait_for_function(
        """([first, last]) => document.querySelector('[data-slot="ours"]')
               .getAttribute('aria-busy') === 'false'
            && document.getElementById('report-status').textContent
                   .includes(first + ' to ' + last)""",
        arg=[period["from"], period["to"]],
    )


def headline(page: Any, label: str) -> str:
    cell = page.locator('[data-slot="ours"] tr', has=page.get_by_role("rowheader", name=label))
    text: str = cell.locator("td").first.inner_text()
    return text


def test_the_page_shows_the_reports_numbers_and_follows_a_period_change(
    analyst_page: Any, stack: Stack
) -> None:
    page = analyst_page
    with staff_api(stack, Role.ANALYST) as api:
        expected = api.get("/reports/transparency", params=EVERYTHING).json()
    page.goto(f"{stack.base_url}/dashboard/transparency?from=2000-01-01&to=2099-12-31")
    wait_report(page, EVERYTHING)

    flags = expected["totals"]["flags"]["count"]
    assert headline(page, "Flags received") == f"{flags:,}"
    assert page.get_by_role("link", name="Transparency").get_attribute("aria-current") == "page"

    later = {"from": "2099-01-01", "to": "2099-12-31"}
    page.get_by_label("From").fill(later["from"])
    page.get_by_label("From").dispatch_event("change")
    wait_report(page, later)

    assert headline(page, "Flags received") == "fewer than 11"
    assert "from=2099-01-01" in page.url
    for fmt, media_type in (("csv", "text/csv"), ("pdf", "application/pdf")):
        href = page.get_by_role("link", name=f"Download {fmt.upper()}").get_attribute("href")
        assert f"format={fmt}" in href
        assert "from=2099-01-01" in href
        download = page.request.get(f"{stack.base_url}{href}")
        assert download.status == 200
        assert download.headers["content-type"].startswith(media_type)


def test_the_page_reads_well_and_passes_axe_at_full_width_and_360_px(
    analyst_page: Any, stack: Stack, axe_script: Path
) -> None:
    page = analyst_page
    axe_source = axe_script.read_text(encoding="utf-8")
    found: list[str] = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{stack.base_url}/dashboard/transparency?from=2000-01-01&to=2099-12-31")
        wait_report(page, EVERYTHING)
        found += [f"at {width} px: {v}" for v in serious_violations(page, axe_source)]
        overflow = page.evaluate("document.documentElement.scrollWidth")
        assert overflow <= width, f"the page scrolls sideways at {width} px"
    assert found == [], "\n".join(found)


def test_a_reply_is_marked_shareable_from_the_keyboard_and_refused_when_it_names_someone(
    analyst_page: Any, stack: Stack
) -> None:
    page = analyst_page
    (flag,) = synthetic_flags(stack, 1, status="triaged")
    open_flag(page, stack, flag["id"])
    form = page.locator("#reply-form")
    box = form.get_by_label("May be shared in the transparency report", exact=False)

    form.get_by_label("Message").fill("Dr. Example asked us to look: thank you.")
    form.get_by_label("Message").press("Tab")
    assert box.evaluate("node => node === document.activeElement")
    page.keyboard.press("Space")
    assert box.is_checked()
    form.get_by_role("button", name="Send reply").click()
    error = form.locator('[data-slot="error"]')
    error.wait_for()
    assert "an honorific followed by a name" in error.inner_text()

    # A token of letters only: digits could make a run of five (an MRN to the check).
    token = "".join(chr(ord("a") + int(digit, 16)) for digit in uuid.uuid4().hex[:8])
    clean = f"We removed the default from the order set ({token})."
    form.get_by_label("Message").fill(clean)
    form.get_by_role("button", name="Send reply").click()
    page.locator("#timeline li[data-kind=reply]").filter(has_text=clean).wait_for()
    (reply,) = [e for e in api_flag(stack, flag["id"])["timeline"] if e["body"] == clean]
    assert reply["details"] == {"shareable": True}
    assert not box.is_checked()
