"""The Admin page's webhooks and undelivered notifications in a real browser: an admin adds a
webhook with its own signing secret, the receiver is down, the events land in the dead letters
after their tries, and once the receiver is back "Retry now" delivers them, signed the Standard
Webhooks way and without patient data."""

from __future__ import annotations

import base64
import json
import secrets
import time
from typing import Any

import pytest

from app.auth.models import Role
from tests.e2e.conftest import STEP_TIMEOUT_MS, Stack, staff_api
from tests.e2e.test_dashboard import synthetic_flags
from tests.e2e.test_ehr_page import reply
from tests.notifications.receiver import running_receiver

pytestmark = pytest.mark.browser

SECRET = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def dead_letters(stack: Stack, url: str) -> list[dict[str, Any]]:
    with staff_api(stack, Role.ADMIN) as api:
        response = api.get("/deliveries", params={"state": "dead", "limit": 100})
    assert response.status_code == 200, response.text
    return [item for item in response.json()["items"] if item["recipient_label"] == url]


def wait_for_dead_letter(stack: Stack, url: str) -> None:
    """Until the worker has recorded the last try and given the delivery up."""
    deadline = time.monotonic() + STEP_TIMEOUT_MS / 1000
    while not dead_letters(stack, url):
        assert time.monotonic() < deadline, "the delivery never reached the dead letters"
        time.sleep(0.05)  # polling the API for the condition above


def test_a_webhook_added_on_the_admin_page_is_retried_from_the_dead_letters(
    admin_page: Any, stack: Stack
) -> None:
    page = admin_page
    with running_receiver(SECRET, status=503) as receiver:
        page.goto(f"{stack.base_url}/dashboard/admin#webhooks")
        form = page.locator("#add-webhook")
        form.get_by_label("URL").fill(receiver.url)
        for label in ("A flag is created", "A flag's status changes"):
            form.get_by_label(label).uncheck()  # replies only: what this test causes
        form.get_by_label("Signing secret (optional)").fill(SECRET)
        form.get_by_role("button", name="Add webhook").click()
        page.locator("#webhooks").get_by_text(receiver.url).first.wait_for()
        with staff_api(stack, Role.ADMIN) as api:
            [endpoint] = [e for e in api.get("/webhooks").json() if e["url"] == receiver.url]
        try:
            [flag] = synthetic_flags(stack, 1, status="triaged")
            message = "Thanks: the order set is being changed."
            reply(stack, flag["id"], message)

            # Down: every try is refused, then the delivery is a dead letter.
            receiver.wait_until(lambda r: len(r.received) == 3, "three tries")
            wait_for_dead_letter(stack, receiver.url)

            page.goto(f"{stack.base_url}/dashboard/admin#deliveries")
            page.reload()  # a new hash alone does not load the page again
            section = page.locator("#deliveries")
            row = section.locator("tr", has_text=receiver.url)
            row.wait_for()
            assert "flag.replied" in row.inner_text()
            assert "the endpoint answered HTTP 503" in row.inner_text()
            assert row.locator("td").nth(3).inner_text().strip() == "3"  # Tries

            # Back up: one click sends it again, and it arrives once, signed.
            receiver.status = 200
            section.get_by_role("button", name=f"Retry flag.replied to {receiver.url}").click()
            receiver.wait_until(lambda r: len(r.delivered_ids()) == 1, "the retried delivery")
            section.get_by_text("Nothing undelivered").wait_for()
            assert receiver.bad_signatures == 0
            [first_try, *_, delivered] = receiver.received
            assert delivered.message_id == first_try.message_id  # one idempotency key
            data = json.loads(delivered.body)["data"]
            assert data["flag_id"] == flag["id"]
            assert {"patient_id", "order", "note"}.isdisjoint(data)
            assert message.encode() not in delivered.body
        finally:
            with staff_api(stack, Role.ADMIN) as api:
                api.delete(f"/webhooks/{endpoint['id']}")


def test_a_webhook_of_one_organization_is_added_and_listed_with_it(
    admin_page: Any, stack: Stack
) -> None:
    with staff_api(stack, Role.ADMIN) as api:
        organizations = api.get("/organizations").json()["items"]
    chosen = organizations[-1]
    page = admin_page
    page.goto(f"{stack.base_url}/dashboard/admin#webhooks")
    form = page.locator("#add-webhook")
    url = f"http://127.0.0.1:9/{secrets.token_hex(4)}"  # nothing is sent: no event is caused
    form.get_by_label("URL").fill(url)
    for label in (
        "A flag is created",
        "A flag's status changes",
        "The team replies to the reporter",
    ):
        form.get_by_label(label).uncheck()
    form.get_by_label("An EHR build is approved (change request to informatics)").check()
    form.get_by_label("Organization").select_option(label=chosen["name"])
    form.get_by_role("button", name="Add webhook").click()
    row = page.locator("#webhooks tr", has_text=url)
    row.wait_for()
    with staff_api(stack, Role.ADMIN) as api:
        [endpoint] = [e for e in api.get("/webhooks").json() if e["url"] == url]
        try:
            assert chosen["name"] in row.inner_text()
            assert endpoint["organization_id"] == chosen["id"]
            assert endpoint["events"] == ["improvement.requested"]
        finally:
            api.delete(f"/webhooks/{endpoint['id']}")
