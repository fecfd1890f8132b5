"""The in-EHR "What happened to our flags" in the 360 px side panel: one click opens it, the
keyboard reaches it, it fits the panel and has no serious accessibility violations.

DOM contract: ``data-action="outcomes"`` toggles ``data-testid="outcomes"``, which holds
``outcomes-organization`` and ``outcomes-system`` sections once loaded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Stack
from tests.e2e.test_ehr_page import launch_in_panel, wait_ready

pytestmark = pytest.mark.browser


def test_what_happened_opens_in_the_panel_and_reads_well(
    page: Any, stack: Stack, axe_script: Path, screenshots: Path
) -> None:
    frame = launch_in_panel(page, stack)
    wait_ready(frame)

    button = frame.locator('button[data-action="outcomes"]')
    button.focus()
    page.keyboard.press("Enter")
    frame.get_by_test_id("outcomes-organization").wait_for()
    frame.get_by_test_id("outcomes-system").wait_for()

    assert button.get_attribute("aria-expanded") == "true"
    assert frame.evaluate("() => document.activeElement.id") == "outcomes-title"
    ours = frame.get_by_test_id("outcomes-organization").inner_text()
    assert "flags received" in ours
    assert "What became of them" in ours
    assert "You said, we did" in ours
    # Fits the panel: nothing wider than the 360 px frame.
    assert frame.evaluate("() => document.documentElement.scrollWidth") <= 360
    page.screenshot(path=str(screenshots / "ehr-outcomes.png"))
    frame.evaluate(axe_script.read_text(encoding="utf-8") + "\n;void 0")
    result = frame.evaluate("async () => await axe.run(document)")
    serious = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}"
        for v in result["violations"]
        if v["impact"] in {"serious", "critical"}
    ]
    assert serious == [], "\n".join(serious)

    button.click()
    assert frame.get_by_test_id("outcomes").is_hidden()
