"""The dashboard's read-mostly pages in a real browser: Insights against the statistics API,
Admin (tokens, EHRs, the catalog), and axe-core on every page at full width and at 360 px.

DOM contract (frontend/static/dashboard/insights/, admin/): each figure is
``figure[data-chart="service|reason|department|weekly|reply-times|close-times|cycle-time|outcomes"]``
``[data-state]``
holding the server's SVG (``rect.bar[data-key][data-value]``, Pareto charts also
``circle.cumulative[data-share]``), a table of the same numbers (``tbody tr[data-key]``, raw
numbers in ``td[data-value]``), a ``a.csv-link`` and, for the Paretos, toggle buttons
``button.toggle[data-value="count|cost"]``; the KPI tiles are ``[data-kpi] [data-slot="value"]``
with the API's number in ``data-value``. The page's state is its URL (insights/state.js):
``range=4w|12w|52w|all|custom``, ``sort_<by>=cost``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session

from app.auth.models import Role
from app.cds.models import CardFeedback, CdsDailyCount, IssuedCard
from app.db import create_sync_engine_for
from app.organizations.models import DEFAULT_ORGANIZATION_ID
from tests.e2e.conftest import Stack, staff_api
from tests.e2e.test_dashboard import api_get, open_flag, open_queue, query_of, shot

pytestmark = pytest.mark.browser

CPT = "http://www.ama-assn.org/go/cpt"
MAX_BARS = 15  # app/kit/charts.py: beyond this the tail is one "Other" bar


# --- Insights ------------------------------------------------------------------------------------


def wait_insights(page: Any) -> None:
    """Until every figure and the key figures have finished loading."""
    page.wait_for_function(
        """() => document.getElementById('kpis').getAttribute('aria-busy') === 'false'
            && [...document.querySelectorAll('figure[data-chart]')]
                .every(f => f.dataset.state !== 'loading')"""
    )


def table_of(page: Any, chart: str) -> list[dict[str, Any]]:
    """A figure's table: each row's key, row header value and numeric cells' raw values."""
    rows: list[dict[str, Any]] = page.eval_on_selector_all(
        f'figure[data-chart="{chart}"] [data-slot="table"] tbody tr',
        """rows => rows.map(tr => ({
            key: tr.dataset.key ?? null,
            head: tr.querySelector('th').dataset.value ?? null,
            values: [...tr.querySelectorAll('td')].map(td => td.dataset.value),
        }))""",
    )
    return rows


def bars_of(page: Any, chart: str) -> list[dict[str, Any]]:
    bars: list[dict[str, Any]] = page.eval_on_selector_all(
        f'figure[data-chart="{chart}"] [data-slot="chart"] svg rect.bar',
        "bars => bars.map(b => ({key: b.dataset.key ?? null, value: Number(b.dataset.value)}))",
    )
    return bars


def shares_of(page: Any, chart: str) -> list[float]:
    shares: list[float] = page.eval_on_selector_all(
        f'figure[data-chart="{chart}"] svg circle.cumulative',
        "dots => dots.map(d => Number(d.dataset.share))",
    )
    return shares


def folded(values: list[Any]) -> list[Any]:
    """What the chart draws: the first 14 bars, then one for the rest."""
    if len(values) <= MAX_BARS:
        return values
    return [*values[: MAX_BARS - 1], sum(values[MAX_BARS - 1 :])]


def close(a: float, b: float, tolerance: float = 0.005) -> bool:
    return abs(a - b) <= tolerance


def check_pareto(page: Any, stack: Stack, by: str, sort: str) -> None:
    data = api_get(stack, "/stats/breakdown", {"by": by, "sort": sort})
    assert data["sort"] == sort
    rows = table_of(page, by)
    assert [r["key"] for r in rows] == [row["key"] for row in data["rows"]], by
    assert [r["head"] for r in rows] == [row["label"] for row in data["rows"]], by
    assert [
        (int(count), float(share), float(cumulative), Decimal(cost))
        for count, share, cumulative, cost in (r["values"] for r in rows)
    ] == [
        (row["count"], row["share"], row["cumulative_share"], Decimal(row["estimated_cost"]))
        for row in data["rows"]
    ], by

    measure = [
        float(row["count"]) if sort == "count" else float(row["estimated_cost"])
        for row in data["rows"]
    ]
    bars = bars_of(page, by)
    expected = folded(measure)
    assert len(bars) == len(expected), by
    assert all(close(bar["value"], value) for bar, value in zip(bars, expected, strict=True)), (
        by,
        [bar["value"] for bar in bars],
        expected,
    )
    keys = [row["key"] for row in data["rows"]]
    assert [bar["key"] for bar in bars[: MAX_BARS - 1]] == keys[: MAX_BARS - 1]
    cumulative = [row["cumulative_share"] for row in data["rows"]]
    drawn = (
        cumulative if len(cumulative) <= MAX_BARS else [*cumulative[: MAX_BARS - 1], cumulative[-1]]
    )
    assert all(
        close(share, value, 1e-4) for share, value in zip(shares_of(page, by), drawn, strict=True)
    ), by


def check_figure(page: Any, chart: str, items: list[dict[str, Any]], key: str, *cells: str) -> None:
    """A table whose rows are ``items`` (keyed by ``key``) with numeric ``cells``."""
    rows = table_of(page, chart)
    assert [r["key"] for r in rows] == [str(item[key]) for item in items], chart
    assert [r["values"] for r in rows] == [[str(item[c]) for c in cells] for item in items], chart


def kpi(page: Any, name: str) -> str | None:
    value: str | None = page.locator(f'[data-kpi="{name}"] [data-slot="value"]').get_attribute(
        "data-value"
    )
    return value


def as_number(value: str | None) -> float | None:
    return None if value is None else float(value)


def take_an_improvement_live(stack: Stack) -> None:
    """An improvement on the synthetic flags' commonest service, live since 30 days ago."""
    with staff_api(stack, Role.ADMIN) as api:
        owners = [
            api.post(
                "/staff",
                json={
                    "email": f"{uuid.uuid4().hex[:8]}@hospital.test",
                    "name": name,
                    "role": "lead",
                },
            ).json()["id"]
            for name in ("Dr. Insight Clinical", "Insight Operations")
        ]
        top = api.get("/stats/breakdown", params={"by": "service"}).json()["rows"][0]
        system, _, code = top["key"].rpartition("|")
        created = api.post(
            "/improvements",
            json={
                "title": "Order-set change for the commonest service",
                "kind": "ehr_build",
                "targets": [{"system": system, "code": code}],
                "owners": owners,
            },
        ).json()
        url = f"/improvements/{created['id']}/transitions"
        assert api.post(url, json={"to": "approved"}).status_code == 200
        went_live = api.post(
            url,
            json={
                "to": "live",
                "go_live": (datetime.now(UTC).date() - timedelta(days=30)).isoformat(),
                "reply": "Your flag contributed to this change.",
            },
        )
        assert went_live.status_code == 200, went_live.text


def test_insights_charts_match_the_api(admin_page: Any, stack: Stack, screenshots: Path) -> None:
    take_an_improvement_live(stack)
    page = admin_page
    page.goto(f"{stack.base_url}/dashboard/insights?range=all")
    wait_insights(page)
    assert page.get_by_label("Period").input_value() == "all"
    states = page.eval_on_selector_all(
        "figure[data-chart]",
        "fs => Object.fromEntries(fs.map(f => [f.dataset.chart, f.dataset.state]))",
    )
    live = api_get(stack, "/stats/improvements")
    assert live["improvements"], "an improvement went live (arranged above)"
    assert states.pop("improvements") == "ready"
    assert [r["key"] for r in table_of(page, "improvements")] == [
        row["id"] for row in live["improvements"]
    ]
    assert states == dict.fromkeys(
        (
            "service",
            "reason",
            "department",
            "weekly",
            "reply-times",
            "close-times",
            "cycle-time",
            "outcomes",
            "cds-rules",  # the synthetic flags include orders the rules cover
        ),
        "ready",
    )

    for by in ("service", "reason", "department"):
        check_pareto(page, stack, by, "count")

    weekly = api_get(stack, "/stats/weekly")
    check_figure(page, "weekly", weekly["weeks"], "week_start", "count", "estimated_cost")
    assert bars_of(page, "weekly") == [
        {"key": week["week_start"], "value": week["count"]} for week in weekly["weeks"]
    ]
    times = api_get(stack, "/stats/reply-times")
    check_figure(page, "reply-times", times["buckets"], "key", "count")
    assert bars_of(page, "reply-times") == [
        {"key": bucket["key"], "value": bucket["count"]} for bucket in times["buckets"]
    ]
    closing = api_get(stack, "/stats/close-times")
    check_figure(page, "close-times", closing["by_reason"], "reason", "closed", "median_hours")
    cycle = api_get(stack, "/stats/cycle-time")
    left = [row for row in cycle["statuses"] if row["stays"]]
    assert left, "the synthetic data moves flags on"
    check_figure(page, "cycle-time", left, "status", "stays", "median_hours")
    outcomes = api_get(stack, "/stats/outcomes")
    check_figure(page, "outcomes", outcomes["by_status"], "status", "count")

    loop = api_get(stack, "/stats/loop")
    totals = api_get(stack, "/stats/breakdown", {"by": "reason"})
    assert kpi(page, "flags") == str(loop["flags"])
    assert Decimal(kpi(page, "cost") or "NaN") == Decimal(totals["total_estimated_cost"])
    assert as_number(kpi(page, "closed-loop")) == loop["closed_loop_rate"]
    assert as_number(kpi(page, "median-reply")) == loop["median_hours_to_first_reply"]
    assert as_number(kpi(page, "closed-with-action")) == outcomes["closed_with_action_share"]

    # The CSV link downloads exactly what the API answers to a script.
    link = page.locator('figure[data-chart="service"] a.csv-link')
    with page.expect_download() as download:
        link.click()
    with staff_api(stack, Role.ANALYST) as api:
        csv = api.get(
            "/stats/breakdown", params={"by": "service", "sort": "count", "format": "csv"}
        )
    assert csv.status_code == 200
    assert Path(download.value.path()).read_bytes() == csv.content
    # The server names the file (Content-Disposition wins over the link's download name).
    assert download.value.suggested_filename.endswith(".csv")

    shot(page, screenshots, "dashboard-insights")
    page.emulate_media(media="print")
    shot(page, screenshots, "dashboard-insights-print")
    page.emulate_media(media="screen")

    # By estimated cost: the sort is in the URL, the table and chart follow the API's cost order.
    figure = page.locator('figure[data-chart="service"]')
    figure.locator('button.toggle[data-value="cost"]').click()
    page.wait_for_url(lambda url: "sort_service=cost" in url)
    page.wait_for_selector('figure[data-chart="service"][data-state="ready"]')
    assert query_of(page) == {"range": ["all"], "sort_service": ["cost"]}
    assert (
        figure.locator('button.toggle[data-value="cost"]').get_attribute("aria-pressed") == "true"
    )
    check_pareto(page, stack, "service", "cost")
    assert "sort=cost" in (figure.locator("a.csv-link").get_attribute("href") or "")


# --- Caught at ordering --------------------------------------------------------------------------


def add_cds_counts(stack: Stack) -> None:
    """A day of CDS counts for the EEG-for-headache rule (Jan 2020, away from other data):
    evaluated 9, shown 6, accepted 2, overridden 3 (shared decision 2, no reason 1)."""
    day = datetime(2020, 1, 6, 9, 0, tzinfo=UTC)
    cards = [
        IssuedCard(
            organization_id=DEFAULT_ORGANIZATION_ID,
            id=uuid.uuid4(),
            service_id="valueloop-order-sign",
            hook_instance=uuid.uuid4(),
            rule_id="headache-eeg",
            rule_version="1",
            order_ref="ServiceRequest/sr-e2e",
            patient_id="p-e2e",
            user_id="Practitioner/e2e",
            client_iss="https://ehr.e2e.test",
            suggestion_id=uuid.uuid4(),
            issued_at=day,
            snapshot={},
            order_code_system=CPT,
            order_code="95816",
            feedback_counted=True,
        )
        for _ in range(3)
    ]
    reasons = [("shared-decision", "Shared decision with the patient")] * 2 + [(None, None)]
    engine = create_sync_engine_for(stack.database_url)
    try:
        with Session(engine) as session:
            session.add(
                CdsDailyCount(
                    organization_id=DEFAULT_ORGANIZATION_ID,
                    day=day.date(),
                    service_id="valueloop-order-sign",
                    rule_id="headache-eeg",
                    order_code_system=CPT,
                    order_code="95816",
                    evaluated=9,
                    shown=6,
                    accepted=2,
                    overridden=3,
                )
            )
            session.add_all(cards)
            session.flush()
            session.add_all(
                CardFeedback(
                    card_id=card.id,
                    outcome="overridden",
                    accepted_suggestion=False,
                    override_code=code,
                    override_display=display,
                    user_comment="Comment that must stay off the page",
                    outcome_at=day,
                    received_at=day,
                    counted=True,
                )
                for card, (code, display) in zip(cards, reasons, strict=True)
            )
            session.commit()
    finally:
        engine.dispose()


def test_caught_at_ordering_shows_each_rules_hits_beside_clinician_flags(
    admin_page: Any, stack: Stack, screenshots: Path
) -> None:
    add_cds_counts(stack)
    page = admin_page
    page.goto(f"{stack.base_url}/dashboard/insights?range=all")
    wait_insights(page)

    data = api_get(stack, "/stats/cds")
    shown = [
        row
        for row in data["rules"]
        if row["evaluated"] + row["shown"] + row["clinician_flags"] + row["catches"] > 0
    ]
    rows = table_of(page, "cds-rules")
    assert [r["key"] for r in rows] == [row["rule_id"] for row in shown]
    # Compared as numbers: the page writes a rate of 1.0 as "1". Other tests of this stack may
    # have added catches of their own (the CDS card test), so the rows are the API's.
    assert [[as_number(v) for v in r["values"][:7]] for r in rows] == [
        [
            None if row[c] is None else float(row[c])
            for c in (
                "clinician_flags",
                "catches",
                "evaluated",
                "shown",
                "accepted",
                "overridden",
                "acceptance_rate",
            )
        ]
        for row in shown
    ]
    eeg = page.locator('figure[data-chart="cds-rules"] tr[data-key="headache-eeg"]')
    assert [float(v) for v in rows[0]["values"][2:7]] == [9, 6, 2, 3, round(2 / 6, 4)]
    assert rows[0]["key"] == "headache-eeg"  # the most cards shown comes first
    assert eeg.locator("li").all_inner_texts() == [
        "Shared decision with the patient: 2",
        "No reason given: 1",
    ]
    assert "Comment that must stay off the page" not in page.content()
    assert eeg.get_by_role("link").get_attribute("href") == rows_source(data, "headache-eeg")

    page.set_viewport_size({"width": 360, "height": 900})
    figure = page.locator('figure[data-chart="cds-rules"]')
    assert figure.bounding_box()["width"] <= 360
    assert figure.locator('[data-slot="table"]').get_attribute("role") == "region"
    figure.screenshot(path=str(screenshots / "dashboard-caught-at-ordering-narrow.png"))
    page.set_viewport_size({"width": 1280, "height": 900})


def rows_source(data: dict[str, Any], rule_id: str) -> str:
    [row] = [row for row in data["rules"] if row["rule_id"] == rule_id]
    return str(row["source_url"])


# --- Admin ---------------------------------------------------------------------------------------


def test_admin_creates_a_token_shown_once_and_revokes_it(admin_page: Any, stack: Stack) -> None:
    page = admin_page
    page.goto(f"{stack.base_url}/dashboard/admin")
    page.locator('#tokens [data-slot="table"]:not([hidden])').wait_for()
    name = f"E2E export script {uuid.uuid4().hex[:6]}"
    form = page.locator("#create-token")
    form.get_by_label("Name").fill(name)
    form.get_by_label("Role").select_option("analyst")
    form.get_by_role("button", name="Create token").click()
    page.locator("#new-token").wait_for()
    secret = page.locator("#new-token-secret").input_value()
    assert secret
    with httpx.Client(base_url=f"{stack.base_url}/api/v1", timeout=10) as api:
        bearer = {"Authorization": f"Bearer {secret}"}
        assert api.get("/flags", params={"limit": 1}, headers=bearer).status_code == 200

        (token,) = [t for t in api_get(stack, "/tokens", role=Role.ADMIN) if t["name"] == name]
        row = page.locator(f'tr[data-token-id="{token["id"]}"]')
        row.get_by_role("button", name=f"Revoke {name}").click()
        page.locator("#confirm-dialog").get_by_role("button", name="Revoke token").click()
        page.locator(f'tr.revoked[data-token-id="{token["id"]}"]').wait_for()
        assert "Revoked" in page.locator(f'tr[data-token-id="{token["id"]}"]').inner_text()
        # The secret is worthless now and no longer on the page.
        assert page.locator("#new-token").is_hidden()
        assert page.locator("#new-token-secret").input_value() == ""
        assert api.get("/flags", params={"limit": 1}, headers=bearer).status_code == 401


def test_admin_register_ehr_with_a_bad_issuer_shows_the_error(
    admin_page: Any, stack: Stack
) -> None:
    page = admin_page
    page.goto(f"{stack.base_url}/dashboard/admin")
    page.locator('#ehrs [data-slot="table"]:not([hidden])').wait_for()
    before = api_get(stack, "/ehrs", role=Role.ADMIN)
    issuer = "http://ehr.example.org/fhir"  # plain http off this machine is refused
    form = page.locator("#register-ehr")
    form.get_by_label("Issuer (FHIR base URL)").fill(issuer)
    form.get_by_label("Client ID").fill("valueloop")
    form.get_by_role("button", name="Register EHR").click()
    problem = form.locator('[data-slot="problem"]')
    problem.wait_for()
    assert "must use https" in problem.inner_text()
    field_error = page.locator("#ehr-issuer-error")
    assert field_error.is_visible()
    assert "must use https" in field_error.inner_text()
    assert page.locator("#ehr-issuer").get_attribute("aria-invalid") == "true"
    assert api_get(stack, "/ehrs", role=Role.ADMIN) == before


def test_admin_catalog_lists_every_reason(admin_page: Any, stack: Stack) -> None:
    page = admin_page
    page.goto(f"{stack.base_url}/dashboard/admin")
    page.locator('#catalog [data-slot="content"]:not([hidden])').wait_for()
    catalog = api_get(stack, "/catalog")
    rows = page.locator('#catalog [data-slot="reasons"] tbody tr')
    assert rows.evaluate_all("rows => rows.map(r => r.dataset.key)") == [
        reason["value"] for reason in catalog["reasons"]
    ]
    assert rows.locator("th").all_inner_texts() == [r["label"] for r in catalog["reasons"]]


# --- accessibility -------------------------------------------------------------------------------

WIDTHS = (1280, 360)


def serious_violations(page: Any, axe_source: str) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now."""
    # The CSP (script-src 'self') refuses an injected <script>; evaluating the source through
    # the DevTools protocol is not subject to it.
    page.evaluate(axe_source + "\n;void 0")
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}"
        for v in result["violations"]
        if v["impact"] in {"serious", "critical"}
    ]


def test_no_serious_accessibility_violations_at_full_width_and_360_px(
    admin_page: Any, stack: Stack, axe_script: Path, screenshots: Path
) -> None:
    page = admin_page
    axe_source = axe_script.read_text(encoding="utf-8")
    (flag,) = api_get(stack, "/flags", {"status": "accepted", "limit": 1})["items"]

    def sign_in_page() -> None:
        page.goto(f"{stack.base_url}/dashboard/sign-in")
        page.get_by_label("API token").wait_for()

    def queue() -> None:
        open_queue(page, stack)

    def flag_detail() -> None:
        open_flag(page, stack, flag["id"])

    def insights() -> None:
        page.goto(f"{stack.base_url}/dashboard/insights?range=all")
        wait_insights(page)

    def admin() -> None:
        page.goto(f"{stack.base_url}/dashboard/admin")
        for section in ("#tokens", "#staff", "#ehrs"):
            page.locator(f'{section} [data-slot="table"]:not([hidden])').wait_for()
        page.locator('#catalog [data-slot="content"]:not([hidden])').wait_for()

    found: list[str] = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        for name, show in (
            ("sign-in", sign_in_page),
            ("queue", queue),
            ("flag", flag_detail),
            ("insights", insights),
            ("admin", admin),
        ):
            show()
            found += [f"{name} at {width} px: {v}" for v in serious_violations(page, axe_source)]
            if (name, width) == ("queue", 360):
                shot(page, screenshots, "dashboard-queue-narrow")
    assert found == [], "\n".join(found)
