"""Improvement work in a real browser: an analyst starts an improvement from a flag with its
likely siblings, names the dyad that owns it, approves it and takes it live with a reply that
reaches every linked reporter (by email too), and the page then measures its effect with a run
chart. The board, the improvement page and the flag page's Improvement section read well at
360 px and pass axe.

DOM contract (frontend/templates/dashboard/improvement*.html, frontend/static/dashboard/
improvements/): the board is ``#board[data-state="loading|ready|empty|error"]`` with columns
``section.board-column[data-status]`` of cards ``li.card[data-id]``; an improvement is
``#improvement[data-state]`` with ``#owners-form``, ``#workflow`` (``button[data-to]``,
``#live-form``, ``#decline-form``, ``#workflow-status``), ``#linked-flags tr[data-id]`` and
``#effect[data-state]`` (its chart in ``[data-slot="chart"]``); a flag's section is
``#improvement-panel[data-state="loading|linked|unlinked|not-linkable|error"]`` with
``#start-improvement-form`` (checkboxes ``input[name="sibling"]``) and ``#link-improvement-form``.

The flags this test improves are its own: flagged through the clinician API after a launch of
the simulated EHR, on orders it adds to an encounter in a department no other encounter has, so
siblings offered from other tests' flags (if any) are left out and nothing else is replied to.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from app.auth.models import Role
from tests.e2e.conftest import Stack, sign_in, staff_api
from tests.e2e.test_closed_loop_email import wait_for_mail
from tests.e2e.test_dashboard import SYNTHETIC_REPORTER, api_flag, api_get, open_flag, shot
from tests.e2e.test_dashboard_insights import serious_violations
from tests.sim_ehr import session_handle

pytestmark = pytest.mark.browser

# A dyad from the demo directory the dashboard data seeds that no other browser test uses: going
# live makes it the owner of the linked flags nobody owned, which the owner filter's test reads.
CLINICAL_LEAD = "Dr. P. Lindqvist"
OPERATIONAL_LEAD = "S. Moreau"
ORDERABLE = "tsh"  # the simulated EHR's TSH (CPT 84443): no low-value rule is about it
REPORTERS = ("prac-00004", "prac-00005")


# --- arranging flags through the APIs, as an EHR and its clinicians would ------------------------


@dataclass(frozen=True)
class Flagged:
    """The flags one test made: the first is opened on the dashboard, the rest its siblings."""

    ids: list[str]
    emails: dict[str, str]  # flag id -> its reporter's email, for the identified ones


def quiet_encounter(stack: Stack) -> tuple[str, str]:
    """(patient, encounter) of a finished encounter whose department no other encounter has:
    the browser tests chart the newest encounters, so orders added here disturb none of them."""
    encounters = list(stack.sim.state.store.all("Encounter"))

    def department(encounter: dict[str, Any]) -> str | None:
        # As the app reads it (app/clinician/context.py): the first location's name.
        locations = [place.get("location", {}) for place in encounter.get("location", [])]
        return next((place["display"] for place in locations if place.get("display")), None)

    departments = [department(encounter) for encounter in encounters]
    for encounter in encounters:
        alone = department(encounter) and departments.count(department(encounter)) == 1
        if encounter["status"] == "finished" and alone:
            return encounter["subject"]["reference"].split("/")[1], str(encounter["id"])
    raise AssertionError("the simulated EHR has no encounter alone in its department")


def add_orders(stack: Stack, encounter: str, count: int) -> list[str]:
    """Orders entered and signed on the EHR's order-entry page; their ids, as the EHR has them."""

    def orders(status: str) -> set[str]:
        return {
            order["id"]
            for order in stack.sim.state.store.all("ServiceRequest")
            if order["encounter"]["reference"] == f"Encounter/{encounter}"
            and order["status"] == status
        }

    before = orders("active")
    with httpx.Client(base_url=stack.sim.base_url, timeout=10) as ehr:
        for _ in range(count):
            added = ehr.post(f"/chart/encounters/{encounter}/orders", data={"orderable": ORDERABLE})
            assert added.status_code == 303, added.text
        signed = ehr.post(f"/chart/encounters/{encounter}/sign")
        assert signed.status_code == 200, signed.text
    new = sorted(orders("active") - before)
    assert len(new) == count, signed.text
    return new


def launch(stack: Stack, practitioner: str, patient: str, encounter: str) -> str:
    """An EHR launch through the real authorize endpoint; the app session's handle."""
    with (
        httpx.Client(timeout=10) as ehr,
        httpx.Client(base_url=stack.base_url, timeout=10) as app,
    ):
        created = ehr.post(
            f"{stack.sim.base_url}/_sim/launches",
            json={
                "user": f"Practitioner/{practitioner}",
                "patient": patient,
                "encounter": encounter,
            },
        )
        assert created.status_code == 201, created.text
        params = {"iss": stack.sim.fhir_base, "launch": created.json()["launch"]}
        started = app.get("/launch", params=params)
        assert started.status_code == 302, started.text
        authorized = ehr.get(started.headers["location"])
        assert authorized.status_code == 302, authorized.text
        callback = urlsplit(authorized.headers["location"])
        finished = app.get(f"{callback.path}?{callback.query}")
        assert finished.status_code == 200, finished.text
        return session_handle(finished.text)


def flag(stack: Stack, handle: str, order_id: str, **overrides: str) -> str:
    body = {
        "resource_type": "ServiceRequest",
        "order_id": order_id,
        "reason": "not_indicated",
        "reporter_role": "physician",
        "idempotency_key": uuid.uuid4().hex,
        **overrides,
    }
    with httpx.Client(base_url=stack.base_url, timeout=10) as app:
        created = app.post(
            "/api/v1/clinician/flags", json=body, headers={"X-ValueLoop-Session": handle}
        )
    assert created.status_code == 201, created.text
    return str(created.json()["flag_id"])


def three_alike(stack: Stack) -> Flagged:
    """Three flags on the same order code in the same department: two identified reporters
    (with email addresses) and one anonymous."""
    patient, encounter = quiet_encounter(stack)
    orders = add_orders(stack, encounter, 3)
    first, second = (launch(stack, who, patient, encounter) for who in REPORTERS)
    ids = [
        flag(stack, first, orders[0]),
        flag(stack, second, orders[1]),
        flag(stack, first, orders[2], anonymity="anonymous"),
    ]
    emails = {}
    for flag_id in ids[:2]:
        email = api_flag(stack, flag_id)["reporter"]["email"]
        assert email, "the simulated EHR gives each practitioner an email address"
        emails[flag_id] = email
    return Flagged(ids=ids, emails=emails)


def unlinked_flag(stack: Stack, status: str) -> dict[str, Any]:
    """A seeded flag in ``status`` that no improvement answers yet."""
    for flag in api_get(stack, "/flags", {"status": status, "limit": 50})["items"]:
        seeded = (flag["reporter"].get("fhir_user") or "").startswith(SYNTHETIC_REPORTER)
        if seeded and not api_get(stack, "/improvements", {"flag": flag["id"]})["items"]:
            return dict(flag)
    raise AssertionError(f"every seeded {status} flag is linked already")


def staff_id(stack: Stack, name: str) -> str:
    [person] = [p for p in api_get(stack, "/staff", {"q": name})["items"] if p["name"] == name]
    return str(person["id"])


@pytest.fixture
def live_improvement(stack: Stack, dashboard_data: int) -> dict[str, Any]:
    """An improvement with no flags, live since today: its page has every section."""
    dyad = [staff_id(stack, CLINICAL_LEAD), staff_id(stack, OPERATIONAL_LEAD)]
    title = f"Order-set review of lumbar imaging ({uuid.uuid4().hex[:6]})"
    target = {"system": "http://www.ama-assn.org/go/cpt", "code": "72148"}
    with staff_api(stack, Role.ANALYST) as api:
        body = {"title": title, "kind": "protocol", "targets": [target], "owners": dyad}
        created = api.post("/improvements", json=body)
        assert created.status_code == 201, created.text
        improvement = created.json()
        path = f"/improvements/{improvement['id']}/transitions"
        assert api.post(path, json={"to": "approved"}).status_code == 200
        today = datetime.now(UTC).date().isoformat()
        live = api.post(path, json={"to": "live", "go_live": today, "reply": "Changed."})
        assert live.status_code == 200, live.text
    return dict(live.json())


# --- the pages -----------------------------------------------------------------------------------


def open_improvement(page: Any, stack: Stack, improvement_id: str) -> None:
    page.goto(f"{stack.base_url}/dashboard/improvements/{improvement_id}")
    page.wait_for_selector('#improvement[data-state="ready"]')


def open_board(page: Any, stack: Stack) -> None:
    page.goto(f"{stack.base_url}/dashboard/improvements")
    page.wait_for_selector('#board:is([data-state="ready"], [data-state="empty"])')


def pick(form: Any, label: str, typed: str, wanted: str) -> None:
    """Type into a staff picker, walk to the person with the arrow keys, choose with Enter."""
    picker = form.get_by_label(label, exact=True)
    picker.fill("")
    picker.press_sequentially(typed)
    listbox = form.locator(f"#{picker.get_attribute('aria-controls')}")
    listbox.get_by_role("option", name=wanted).wait_for()
    options = listbox.get_by_role("option").all_inner_texts()
    for _ in range(options.index(next(o for o in options if wanted in o))):
        picker.press("ArrowDown")
    picker.press("Enter")
    assert picker.get_attribute("aria-expanded") == "false"


def wait_for_status(page: Any, text: str) -> None:
    page.locator("#workflow-status", has_text=text).wait_for()


def start_from_the_flag(page: Any, stack: Stack, flagged: Flagged, screenshots: Path) -> str:
    """On the first flag's page: start an improvement with this test's siblings checked; the
    new improvement's id, once its page has loaded."""
    first, *siblings = flagged.ids
    open_flag(page, stack, first)
    panel = page.locator('#improvement-panel[data-state="unlinked"]')
    panel.get_by_text("Not part of any improvement yet.").wait_for()
    panel.get_by_role("button", name="Start an improvement from this flag").click()
    form = page.locator("#start-improvement-form")
    display = api_flag(stack, first)["order"]["code"]["display"]
    assert form.get_by_label("Title").input_value() == f"Reduce {display}"
    assert "CPT 84443" in form.locator('[data-slot="target"]').inner_text()
    form.locator('[data-slot="siblings-status"]', has_text="all checked").wait_for()

    # The page offers what the API calls siblings, all checked; other tests' flags are left out.
    offered = form.locator('input[name="sibling"]')
    expected = [f["id"] for f in api_get(stack, f"/flags/{first}/siblings")["items"]]
    assert offered.evaluate_all("inputs => inputs.map(i => i.value)") == expected
    assert offered.evaluate_all("inputs => inputs.every(i => i.checked)")
    assert set(siblings) <= set(expected)
    for other in set(expected) - set(siblings):
        form.locator(f'input[value="{other}"]').uncheck()
    label = form.locator(f'label[for="sibling-{siblings[0]}"]').inner_text()
    assert display in label
    assert "Not indicated" in label

    form.get_by_label("Kind").select_option(label="EHR build or order-set change")
    shot(page, screenshots, "dashboard-flag-start-improvement")
    form.get_by_role("button", name="Start the improvement").click()
    page.wait_for_url("**/dashboard/improvements/*")
    page.wait_for_selector('#improvement[data-state="ready"]')
    return str(urlsplit(page.url).path).rsplit("/", 1)[1]


def name_the_dyad_and_approve(page: Any) -> None:
    owners = page.locator("#owners-form")
    pick(owners, "Clinical lead's name", "dr. p", CLINICAL_LEAD)
    pick(owners, "Operational lead's name", "S. M", OPERATIONAL_LEAD)
    owners.get_by_role("button", name="Save the owners").click()
    dyad = f"{CLINICAL_LEAD} (clinical) + {OPERATIONAL_LEAD} (operational)"
    page.locator("#owners-now", has_text=dyad).wait_for()
    page.locator("#workflow").get_by_role("button", name="Approve").click()
    wait_for_status(page, "Approved")


def go_live(page: Any, reply: str, screenshots: Path) -> None:
    page.locator("#workflow").get_by_role("button", name="Go live…").click()
    form = page.locator("#live-form")
    today = datetime.now(UTC).date().isoformat()
    assert form.get_by_label("Go-live date").input_value() <= today
    text = form.get_by_label("Reply to the reporters")
    assert text.input_value().startswith("Your flag contributed to this change: ")
    assert "3 linked flags" in form.locator('[data-slot="reach"]').inner_text()
    text.fill(reply)
    shot(page, screenshots, "dashboard-improvement-go-live")
    form.get_by_role("button", name="Go live and reply").click()
    wait_for_status(page, "Live since")


def last_reply(flag: dict[str, Any]) -> str:
    replies = [event for event in flag["timeline"] if event["kind"] == "reply"]
    return str(replies[-1]["body"])


def test_an_improvement_started_from_a_flag_closes_every_linked_loop_and_measures_its_effect(
    dashboard_page: Any, stack: Stack, dashboard_data: int, screenshots: Path
) -> None:
    page = dashboard_page
    flagged = three_alike(stack)
    sign_in(page, stack, Role.ANALYST)

    improvement_id = start_from_the_flag(page, stack, flagged, screenshots)
    detail = api_get(stack, f"/improvements/{improvement_id}")
    assert sorted(f["id"] for f in detail["flags"]) == sorted(flagged.ids)
    assert page.locator("#linked-flags tr[data-id]").count() == 3
    assert page.locator("#improvement-title").inner_text() == detail["title"]

    name_the_dyad_and_approve(page)
    # Approving an EHR build sends informatics its change request, or says why it could not.
    [request] = [
        event
        for event in api_get(stack, f"/improvements/{improvement_id}")["timeline"]
        if event["kind"] == "change_requested"
    ]
    hint = page.locator("#change-request-hint")
    if request["details"]["endpoints"] == 0:
        assert "No webhook endpoint subscribes to change requests" in hint.inner_text()
    else:
        assert hint.is_hidden()

    unique = uuid.uuid4().hex[:6]
    reply = f"Your flag contributed to this change: TSH leaves the order set ({unique})."
    go_live(page, reply, screenshots)
    page.locator("#improvement-timeline li.event-reply", has_text=reply).wait_for()

    # Every linked flag carries the reply and moved on; the identified reporters are emailed.
    for flag_id in flagged.ids:
        flag = api_flag(stack, flag_id)
        assert flag["status"] == "action_taken", flag_id
        assert last_reply(flag) == reply
    for flag_id, email in flagged.emails.items():
        wait_for_mail(stack, email, f"reference {flag_id.split('-')[0]}")
    sent = stack.mail.raw().decode("utf-8", "replace")
    assert reply not in sent, "an email says there is a reply, never its text"

    # Fresh data: the effect is shown with its counts, not a ratio, and the run chart inline.
    effect = page.locator('#effect[data-state="ready"]')
    effect.wait_for()
    assert "Not enough data yet" in effect.locator('[data-slot="ratio"]').inner_text()
    assert "After: 3 flags in 1 day" in effect.inner_text()
    chart = effect.locator('[data-slot="chart"] > svg')
    assert chart.evaluate("svg => svg.namespaceURI") == "http://www.w3.org/2000/svg"
    assert chart.get_attribute("role") == "img"
    shot(page, screenshots, "dashboard-improvement-live")

    # The flag's page links to the improvement, and the board shows it among the live work.
    open_flag(page, stack, flagged.ids[0])
    linked = page.locator('#improvement-panel[data-state="linked"]')
    linked.wait_for()
    assert linked.get_by_role("link", name=detail["title"]).get_attribute("href") == (
        f"/dashboard/improvements/{improvement_id}"
    )
    assert "Live" in linked.inner_text()
    open_board(page, stack)
    card = page.locator(f'section[data-status="live"] li.card[data-id="{improvement_id}"]')
    assert "3 flags" in card.inner_text()
    assert "at stake" in card.inner_text()
    assert CLINICAL_LEAD in card.inner_text()
    shot(page, screenshots, "dashboard-improvements-board")


def test_a_flag_is_linked_to_an_open_improvement_from_its_page(
    analyst_page: Any, stack: Stack
) -> None:
    page = analyst_page
    title = f"Vitamin D screening protocol ({uuid.uuid4().hex[:6]})"
    with staff_api(stack, Role.ANALYST) as api:
        body = {
            "title": title,
            "kind": "education",
            "rules": [],
            "targets": [{"system": "http://www.ama-assn.org/go/cpt", "code": "82306"}],
        }
        created = api.post("/improvements", json=body)
    assert created.status_code == 201, created.text
    improvement_id = created.json()["id"]
    flag = unlinked_flag(stack, "triaged")

    open_flag(page, stack, flag["id"])
    panel = page.locator('#improvement-panel[data-state="unlinked"]')
    panel.get_by_role("button", name="Link to an improvement").click()
    form = page.locator("#link-improvement-form")
    form.get_by_label("Improvement").select_option(improvement_id)
    form.get_by_role("button", name="Link this flag").click()
    linked_panel = page.locator('#improvement-panel[data-state="linked"]')
    linked_panel.get_by_role("link", name=title).wait_for()
    linked = api_get(stack, f"/improvements/{improvement_id}")["flags"]
    assert [f["id"] for f in linked] == [flag["id"]]
    # Linking to a proposed improvement replies to nobody: the flag stays where it was.
    assert api_flag(stack, flag["id"])["status"] == flag["status"]


def test_a_new_improvement_from_the_board_refuses_a_malformed_code_then_opens(
    analyst_page: Any, stack: Stack, screenshots: Path
) -> None:
    page = analyst_page
    open_board(page, stack)
    page.get_by_role("button", name="New improvement").click()
    form = page.locator("#new-improvement")
    title = f"Stop routine TSH on admission ({uuid.uuid4().hex[:6]})"
    form.get_by_label("Title").fill(title)
    form.get_by_label("Order codes").fill("84443")
    form.get_by_role("button", name="Propose the improvement").click()
    error = form.get_by_role("alert")
    error.wait_for()
    assert "is not system|code" in error.inner_text()
    assert form.get_by_label("Order codes").get_attribute("aria-invalid") == "true"

    form.get_by_label("Order codes").fill("http://www.ama-assn.org/go/cpt|84443")
    form.get_by_role("button", name="Propose the improvement").click()
    page.wait_for_url("**/dashboard/improvements/*")
    page.wait_for_selector('#improvement[data-state="ready"]')
    assert page.locator("#improvement-title").inner_text() == title
    assert "Proposed" in page.locator("#improvement-header").inner_text()
    # Without owners approving is refused, in the server's words, beside the buttons.
    page.locator("#workflow").get_by_role("button", name="Approve").click()
    refusal = page.locator("#move-error")
    refusal.wait_for()
    assert "needs its owners" in refusal.inner_text()
    shot(page, screenshots, "dashboard-improvement-proposed")

    # Declining needs a reason, which the page then shows; declined work can be proposed again.
    workflow = page.locator("#workflow")
    workflow.get_by_role("button", name="Decline…").click()
    decline = page.locator("#decline-form")
    decline.get_by_role("button", name="Decline", exact=True).click()
    assert "Say why" in decline.get_by_role("alert").inner_text()
    reason = "Covered by the laboratory stewardship project."
    decline.get_by_label("Why it is declined").fill(reason)
    decline.get_by_role("button", name="Decline", exact=True).click()
    wait_for_status(page, f"Declined: {reason}")
    assert decline.is_hidden()
    workflow.get_by_role("button", name="Propose again").click()
    wait_for_status(page, "Proposed")


def test_the_ticket_is_saved_and_cleared_and_an_edit_from_a_stale_page_is_refused(
    analyst_page: Any, stack: Stack
) -> None:
    with staff_api(stack, Role.ANALYST) as api:
        created = api.post(
            "/improvements",
            json={
                "title": f"Ticket round trip ({uuid.uuid4().hex[:6]})",
                "kind": "ehr_build",
                "targets": [{"system": "http://loinc.org", "code": "3016-3"}],
            },
        ).json()
    page = analyst_page
    open_improvement(page, stack, created["id"])
    form = page.locator("#ticket-form")
    form.get_by_label("Ticket reference").fill("INC-4711")
    form.get_by_role("button", name="Save the ticket reference").click()
    page.wait_for_function(
        "() => document.querySelector('#toast').textContent === 'Ticket reference saved.'"
    )
    with staff_api(stack, Role.ANALYST) as api:
        assert api.get(f"/improvements/{created['id']}").json()["ticket_reference"] == "INC-4711"
        # Someone else changes the improvement while this page still shows the old version.
        api.patch(f"/improvements/{created['id']}", json={"notes": "Changed elsewhere."})
    form.get_by_label("Ticket reference").fill("")
    form.get_by_role("button", name="Save the ticket reference").click()
    error = form.get_by_role("alert")
    error.wait_for()
    assert "changed since you loaded it" in error.inner_text()
    with staff_api(stack, Role.ANALYST) as api:
        assert api.get(f"/improvements/{created['id']}").json()["ticket_reference"] == "INC-4711"

    open_improvement(page, stack, created["id"])  # the current version
    form.get_by_label("Ticket reference").fill("")
    form.get_by_role("button", name="Save the ticket reference").click()
    page.wait_for_function(
        "() => document.querySelector('#toast').textContent === 'Ticket reference removed.'"
    )
    with staff_api(stack, Role.ANALYST) as api:
        assert api.get(f"/improvements/{created['id']}").json()["ticket_reference"] is None


def test_an_empty_board_says_how_to_start_from_a_flag(analyst_page: Any, stack: Stack) -> None:
    page = analyst_page
    # An organization with no improvement work yet: the list answers with no items.
    page.route("**/api/v1/improvements", lambda route: route.fulfill(json={"items": []}))
    page.goto(f"{stack.base_url}/dashboard/improvements")
    page.wait_for_selector('#board[data-state="empty"]')
    empty = page.locator("#board-empty")
    assert "Start an improvement from this flag" in empty.inner_text()
    assert empty.get_by_role("link", name="Open the triage queue").get_attribute("href") == (
        "/dashboard/queue"
    )
    assert page.locator("#board-columns").is_hidden()


# --- narrow screens and accessibility ------------------------------------------------------------


def no_sideways_scroll(page: Any) -> bool:
    return bool(page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"))


def test_the_board_and_an_improvement_fit_360_px(
    analyst_page: Any, stack: Stack, live_improvement: dict[str, Any], screenshots: Path
) -> None:
    page = analyst_page
    page.set_viewport_size({"width": 360, "height": 800})
    open_board(page, stack)
    page.locator(f'li.card[data-id="{live_improvement["id"]}"]').wait_for()
    assert no_sideways_scroll(page)
    shot(page, screenshots, "dashboard-improvements-board-narrow")

    open_improvement(page, stack, live_improvement["id"])
    page.locator('#effect[data-state="ready"] [data-slot="chart"] svg').wait_for()
    assert no_sideways_scroll(page)
    box = page.locator("#effect").bounding_box()
    assert box is not None
    assert box["x"] + box["width"] <= 360
    shot(page, screenshots, "dashboard-improvement-narrow")


def test_improvement_pages_have_no_serious_accessibility_violations(
    analyst_page: Any, stack: Stack, live_improvement: dict[str, Any], axe_script: Path
) -> None:
    page = analyst_page
    axe_source = axe_script.read_text(encoding="utf-8")
    flag = unlinked_flag(stack, "accepted")

    def board() -> None:
        open_board(page, stack)

    def improvement() -> None:
        open_improvement(page, stack, live_improvement["id"])
        page.locator('#effect[data-state="ready"]').wait_for()

    def flag_with_the_start_form() -> None:
        open_flag(page, stack, flag["id"])
        page.get_by_role("button", name="Start an improvement from this flag").click()
        page.locator('#start-improvement-form [data-slot="siblings-status"]:not(:empty)').wait_for()

    found: list[str] = []
    for width in (1280, 360):
        page.set_viewport_size({"width": width, "height": 900})
        for name, show in (
            ("board", board),
            ("improvement", improvement),
            ("flag", flag_with_the_start_form),
        ):
            show()
            found += [f"{name} at {width} px: {v}" for v in serious_violations(page, axe_source)]
            if width == 360 and not no_sideways_scroll(page):
                found.append(f"{name} at 360 px scrolls sideways")
    assert found == [], "\n".join(found)
