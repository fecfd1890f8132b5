"""The low-value rules on the in-EHR page, in a real browser at 360 px (an EHR side panel) and
full screen: a marked order shows the rule's label, its reason and the evidence one click away;
its flag form starts on the rule's reason; a launch on an order (fhirContext, as a CDS card's
link makes) opens that order's form with no click; the quality team sees whether a rule agreed.

The patient is added to the simulated EHR by ``tests.low_value_chart``: a PSA test and a
repeated DXA scan that rules judge low-value, and a lipid panel that no rule is about.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from app.auth.models import Role
from tests.e2e.conftest import STEP_TIMEOUT_MS, Stack, _close, _new_context, sign_in
from tests.low_value_chart import Chart, add_low_value_chart

pytestmark = pytest.mark.browser

PANEL = (360, 640)
FULL_SCREEN = (1100, 800)
UNDO_WINDOW_MS = 5000
SENT = "Sent to the quality team"


@pytest.fixture
def panel_page(browser: Any) -> Iterator[Any]:
    """The app on its own in a window as narrow as an EHR side panel."""
    context = _new_context(browser, *PANEL)
    yield context.new_page()
    _close(context)


def launch(page: Any, stack: Stack, chart: Chart, *, focus: str | None = None) -> None:
    """An EHR launch on ``chart`` (on ``focus``, an order, when given), until the page is ready."""
    body: dict[str, Any] = {
        "user": "Practitioner/prac-00001",
        "patient": chart.patient,
        "encounter": chart.encounter,
        "need_patient_banner": False,
    }
    if focus is not None:
        body["fhir_context"] = [{"reference": focus}]
    answer = httpx.post(f"{stack.sim.base_url}/_sim/launches", json=body, timeout=10)
    assert answer.status_code == 201, answer.text
    query = urlencode({"iss": stack.sim.fhir_base, "launch": answer.json()["launch"]})
    page.goto(f"{stack.base_url}/launch?{query}")
    page.wait_for_url("**/launch/callback**")
    page.wait_for_selector('main#app[data-state="ready"]')


def order(page: Any, order_id: str) -> Any:
    return page.locator(f'li[data-order-id="ServiceRequest/{order_id}"]')


@pytest.mark.parametrize("size", [PANEL, FULL_SCREEN], ids=["side-panel", "full-screen"])
def test_a_marked_order_shows_its_rule_reason_and_evidence_and_fits_the_window(
    browser: Any, stack: Stack, screenshots: Path, size: tuple[int, int]
) -> None:
    chart = add_low_value_chart(stack.sim)
    context = _new_context(browser, *size)
    try:
        page = context.new_page()
        launch(page, stack, chart)

        marker = order(page, chart.psa).get_by_test_id("low-value")
        assert marker.is_visible()
        assert "PSA screening in older men" in marker.inner_text()
        assert "screening no longer helps" in marker.inner_text()
        evidence = marker.get_by_role("link")
        assert evidence.get_attribute("href").startswith("https://")
        assert evidence.get_attribute("target") == "_blank"
        assert "noopener" in evidence.get_attribute("rel").split()
        assert order(page, chart.lipids).get_by_test_id("low-value").count() == 0
        assert order(page, chart.lipids).get_attribute("data-low-value") is None
        # Nothing sideways: the panel never scrolls horizontally.
        assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
        page.screenshot(path=str(screenshots / f"low-value-{size[0]}px.png"), full_page=True)
    finally:
        _close(context)


def test_the_evidence_link_is_the_next_tab_stop_after_the_flag_button(
    panel_page: Any, stack: Stack
) -> None:
    chart = add_low_value_chart(stack.sim)
    launch(panel_page, stack, chart)
    psa = order(panel_page, chart.psa)

    psa.locator('button[data-action="flag"]').focus()
    panel_page.keyboard.press("Tab")

    assert panel_page.evaluate(
        "() => document.activeElement.matches('[data-testid=low-value] a[target=_blank]')"
    )


def flag_with_its_preselected_reason(page: Any, li: Any) -> None:
    li.locator('button[data-action="flag"]').click()
    form = li.get_by_test_id("flag-form")
    form.wait_for()
    form.get_by_role("button", name="Submit flag").click()


def test_a_marked_orders_form_starts_on_the_rules_reason_and_the_dashboard_says_a_rule_agreed(
    panel_page: Any, dashboard_page: Any, stack: Stack, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    chart = add_low_value_chart(stack.sim)
    launch(panel_page, stack, chart)
    checked = 'input[name="reason"]:checked'

    order(panel_page, chart.dxa).locator('button[data-action="flag"]').click()
    order(panel_page, chart.lipids).locator('button[data-action="flag"]').click()

    assert order(panel_page, chart.dxa).locator(checked).get_attribute("value") == (
        "repeat_duplicate"
    )
    assert order(panel_page, chart.lipids).locator(checked).count() == 0
    # Flag and Submit: two clicks on a marked order, its reason already chosen.
    flag_with_its_preselected_reason(panel_page, order(panel_page, chart.psa))
    lipids = order(panel_page, chart.lipids)
    lipids.locator('input[name="reason"][value="low_benefit"]').check()
    lipids.get_by_role("button", name="Submit flag").click()
    for li in (order(panel_page, chart.psa), lipids):
        expect(li).to_contain_text(SENT, timeout=UNDO_WINDOW_MS + STEP_TIMEOUT_MS)

    with stack.api() as api:
        items = api.get("/flags", params={"limit": 200}).json()["items"]
    ids = {item["order"]["fhir_id"]: item["id"] for item in items}
    sign_in(dashboard_page, stack, Role.ANALYST)
    dashboard_page.goto(f"{stack.base_url}/dashboard/flags/{ids[chart.psa]}")
    agreed = dashboard_page.get_by_test_id("rule-agreement")
    expect(agreed).to_contain_text("A rule agreed: PSA screening in older men")
    assert agreed.get_by_role("link").get_attribute("href").startswith("https://")
    dashboard_page.screenshot(path=str(screenshots / "dashboard-rule-agreed.png"))
    dashboard_page.goto(f"{stack.base_url}/dashboard/flags/{ids[chart.lipids]}")
    expect(dashboard_page.get_by_test_id("rule-agreement")).to_have_text(
        "No rule judged this order"
    )


def test_a_launch_on_an_order_opens_its_flag_form_focused_with_no_click(
    panel_page: Any, stack: Stack, screenshots: Path
) -> None:
    chart = add_low_value_chart(stack.sim)

    launch(panel_page, stack, chart, focus=f"ServiceRequest/{chart.dxa}")

    dxa = order(panel_page, chart.dxa)
    dxa.get_by_test_id("flag-form").wait_for()
    panel_page.wait_for_function(
        """id => {
            const li = document.querySelector(`li[data-order-id="${id}"]`);
            const active = document.activeElement;
            return li.contains(active) && active.name === 'reason' && active.checked
                && active.value === 'repeat_duplicate';
        }""",
        arg=f"ServiceRequest/{chart.dxa}",
    )
    # The order is scrolled to, and the focused reason is in view above the sticky Submit bar.
    assert dxa.evaluate("li => Math.abs(li.getBoundingClientRect().top) < 2")
    assert panel_page.evaluate(
        """() => {
            const reason = document.activeElement.getBoundingClientRect();
            const bar = document.activeElement.form.querySelector('.actions');
            return reason.top >= 0 && reason.bottom <= bar.getBoundingClientRect().top;
        }"""
    )
    assert panel_page.get_by_test_id("flag-form").count() == 1  # only the focused order's
    panel_page.screenshot(path=str(screenshots / "low-value-focus-order.png"))


def test_marked_orders_and_their_form_have_no_serious_accessibility_violations(
    panel_page: Any, stack: Stack, axe_script: Path
) -> None:
    chart = add_low_value_chart(stack.sim)
    launch(panel_page, stack, chart, focus=f"ServiceRequest/{chart.psa}")
    order(panel_page, chart.psa).get_by_test_id("flag-form").wait_for()

    panel_page.evaluate(axe_script.read_text(encoding="utf-8") + "\n;void 0")
    result = panel_page.evaluate("async () => await axe.run(document)")

    serious = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}"
        for v in result["violations"]
        if v["impact"] in {"serious", "critical"}
    ]
    assert serious == [], "\n".join(serious)
