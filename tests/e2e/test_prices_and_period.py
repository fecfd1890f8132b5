"""In a real browser: an admin loads the organization's price list (a bad file shows every bad
line and loads nothing; a good one replaces the list), and Insights' default period includes
the current week, checked at a week boundary with the page's clock fixed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from app.auth.models import Role
from tests.e2e.conftest import Stack
from tests.e2e.test_dashboard import api_get

pytestmark = pytest.mark.browser

HEADER = b"code system,code,price,currency,source,effective date\n"


def upload(page: Any, content: bytes) -> None:
    form = page.locator("#load-prices")
    form.get_by_label("CSV file").set_input_files(
        files=[{"name": "prices.csv", "mimeType": "text/csv", "buffer": content}]
    )
    form.get_by_role("button", name="Load price list").click()


def test_admin_uploads_a_price_list_bad_lines_are_listed_and_a_good_file_loads(
    admin_page: Any, stack: Stack
) -> None:
    page = admin_page
    page.goto(f"{stack.base_url}/dashboard/admin#prices")
    page.locator('#prices [data-slot="state"]:not(:has-text("Loading"))').wait_for()
    before = api_get(stack, "/prices", role=Role.ADMIN)

    upload(
        page,
        HEADER + b"CPT,72148,412.00,EUR,Chargemaster,2026-01-01\nCPT,80053,-3,USD,C,2026-13-01\n",
    )
    bad_lines = page.locator('#load-prices [data-slot="bad-lines"] li')
    bad_lines.first.wait_for()
    texts = bad_lines.all_inner_texts()
    assert texts[0].startswith("Line 2, currency: currency EUR is not accepted")
    assert any(text.startswith("Line 3, price: negative price") for text in texts)
    assert any(text.startswith("Line 3, effective date:") for text in texts)
    assert "Nothing was loaded" in page.locator('#load-prices [data-slot="problem"]').inner_text()
    assert api_get(stack, "/prices", role=Role.ADMIN) == before

    upload(page, HEADER + b"CPT,72148,412.00,USD,Riverside chargemaster 2026,2026-01-01\n")
    page.locator('#prices [data-slot="summary"]:has-text("Loaded: 1 prices")').wait_for()
    assert page.locator('#load-prices [data-slot="problem"]').is_hidden()
    row = page.locator('#prices [data-slot="table"] tbody tr')
    assert row.count() == 1
    assert "412.00 USD" in row.inner_text()
    loaded = api_get(stack, "/prices", role=Role.ADMIN)
    assert [(e["code"], e["price"]) for e in loaded["entries"]] == [("72148", "412.00")]


@pytest.mark.parametrize(
    ("now", "expected_from", "expected_to"),
    [
        # Monday just after midnight UTC: the new week has begun and is in the period.
        (datetime(2026, 12, 7, 0, 5, tzinfo=UTC), "2026-09-21", "2026-12-07"),
        # Sunday just before midnight: the week ending today is in the period.
        (datetime(2026, 12, 6, 23, 55, tzinfo=UTC), "2026-09-14", "2026-12-06"),
    ],
)
def test_the_default_insights_period_includes_the_current_week(
    admin_page: Any, stack: Stack, now: datetime, expected_from: str, expected_to: str
) -> None:
    page = admin_page
    page.clock.set_fixed_time(now)
    with page.expect_request(lambda request: "/api/v1/stats/loop" in request.url) as asked:
        page.goto(f"{stack.base_url}/dashboard/insights")
    params = parse_qs(urlparse(asked.value.url).query)

    assert params["created_from"] == [expected_from]
    assert params["created_to"] == [expected_to]
    # Twelve weeks: the current one (so far) and the eleven before it.
    assert page.get_by_label("Period").input_value() == "12w"
