"""The closed loop by email, end to end in a real browser: a clinician flags an order in the
EHR's side panel, an analyst gives it to a dyad picked from the staff directory (both owners get
an email with a link to the flag), replies on the dashboard (the reporter gets an email that
sends them to ValueLoop in their EHR), and at the next launch the reply is on the first screen.

The mail is what the app's own outbox worker sent to a real SMTP server on loopback (the
stack's ``mail``); none of it may carry the patient, the order, the note or the reply.
"""

from __future__ import annotations

import time
from email.message import EmailMessage
from typing import Any

import pytest

from app.auth.models import Role
from tests.e2e.conftest import STEP_TIMEOUT_MS, Stack, sign_in
from tests.e2e.test_dashboard import api_flag, open_flag
from tests.e2e.test_ehr_page import flag_ids, launch_in_panel, wait_for_new_flag, wait_ready
from tests.e2e.test_owner_picker import pick
from tests.e2e.test_reporter_choices import unflagged_orders

pytestmark = pytest.mark.browser

# How long the outbox worker may take to hand a message to the SMTP server on a busy machine.
MAIL_TIMEOUT_SECONDS = STEP_TIMEOUT_MS / 1000
CLINICAL_LEAD = ("Dr. H. Tanaka", "h.tanaka@example.org")
OPERATIONAL_LEAD = ("R. Alvarez", "r.alvarez@example.org")


def wait_for_mail(stack: Stack, address: str, contains: str) -> EmailMessage:
    """The first message to ``address`` whose text holds ``contains``, once it has arrived."""
    deadline = time.monotonic() + MAIL_TIMEOUT_SECONDS
    while True:
        for message in stack.mail.to(address):
            if contains in text_of(message):
                return message
        if time.monotonic() > deadline:
            got = [str(m["Subject"]) for m in stack.mail.to(address)]
            pytest.fail(f"no email to {address} mentioning {contains!r} arrived; got {got}")
        time.sleep(0.05)  # polling the server's inbox for the condition above


def text_of(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None, "every message has a plain-text part"
    return str(body.get_content())


def test_owners_and_the_reporter_hear_by_email_and_the_reply_is_on_the_first_screen(
    page: Any, stack: Stack, dashboard_page: Any, dashboard_data: int
) -> None:
    # The clinician flags an order, with a note, in the EHR's side panel.
    frame = launch_in_panel(page, stack, patient=5)
    wait_ready(frame)
    (order,) = unflagged_orders(frame, 1)
    order_text = order.locator(".order-display").inner_text().strip()
    note = "Third identical panel this admission; nobody looked at the first two."
    before = flag_ids(stack)
    order.locator('button[data-action="flag"]').click()
    form = order.get_by_test_id("flag-form")
    form.locator('input[name="reason"]').first.check()
    form.locator('textarea[name="note"]').fill(note)
    form.get_by_role("button", name="Submit flag").click()
    flag_id = wait_for_new_flag(order, stack, before)
    flag = api_flag(stack, flag_id)
    reporter_email = flag["reporter"]["email"]
    assert reporter_email, "the simulated EHR gives the practitioner's email"
    patient_name = page.locator(".chart h1").inner_text().strip()
    mrn = page.locator(".chart p").first.inner_text().rsplit("MRN", 1)[1].strip()

    # The analyst picks a clinical + operational dyad from the directory.
    sign_in(dashboard_page, stack, Role.ANALYST)
    open_flag(dashboard_page, stack, flag_id)
    owner_form = dashboard_page.locator("#owner-form")
    owner_form.get_by_label("A dyad (clinical + operational lead)").check()
    pick(dashboard_page, "Clinical lead's name", "dr. h", CLINICAL_LEAD[0])
    pick(dashboard_page, "Operational lead's name", "R.", OPERATIONAL_LEAD[0])
    owner_form.get_by_role("button", name="Assign").click()
    dashboard_page.get_by_text(
        f"{CLINICAL_LEAD[0]} (clinical) + {OPERATIONAL_LEAD[0]} (operational)"
    ).first.wait_for()

    # Both owners get an email whose link opens this flag on the dashboard.
    link = f"{stack.base_url}/dashboard/flags/{flag_id}"
    for _, address in (CLINICAL_LEAD, OPERATIONAL_LEAD):
        assigned = wait_for_mail(stack, address, link)
        assert assigned["Subject"] == "ValueLoop: a flag was assigned to you"
    dashboard_page.goto(link)
    dashboard_page.locator('#flag[data-state="ready"]').wait_for()

    # The analyst replies on the dashboard; the reporter gets an email sending them to the EHR.
    reply = "Thanks: we are removing this panel from the admission order set."
    reply_form = dashboard_page.locator("#reply-form")
    reply_form.get_by_label("Message").fill(reply)
    reply_form.get_by_role("button", name="Send reply").click()
    dashboard_page.get_by_text("Reply sent.").first.wait_for()
    reference = flag_id.split("-")[0]
    replied = wait_for_mail(stack, reporter_email, f"reference {reference}")
    assert replied["Subject"] == "ValueLoop: the quality team replied to your flag"
    assert "open ValueLoop in your EHR" in text_of(replied)
    assert replied["Message-ID"], "the delivery's idempotency key"

    # Nothing a message carries names the patient, the order, the note or the reply.
    sent = stack.mail.raw().decode("utf-8", "replace")
    for secret in (patient_name, mrn, flag["patient"]["fhir_id"], order_text, note, reply):
        assert secret
        assert secret not in sent, f"an email carries {secret!r}"

    # At the next launch the reply itself is on the first screen of the side panel.
    frame = launch_in_panel(page, stack, patient=5)
    wait_ready(frame)
    shown = frame.get_by_test_id("new-replies").get_by_text(reply)
    shown.wait_for()
    box = shown.bounding_box()
    assert box is not None
    panel = page.locator("aside.panel iframe").bounding_box()
    assert panel is not None
    first_screen = panel["y"] + frame.evaluate("() => window.innerHeight")
    assert box["y"] + box["height"] <= first_screen, (box, panel)

    # Read in My flags, as the clinician would: later tests count this practitioner's unread.
    frame.locator('button[data-action="my-flags"]').click()
    my_flags = frame.get_by_test_id("my-flags")
    with page.expect_response(lambda r: r.url.endswith(f"/flags/{flag_id}/read")) as read:
        my_flags.locator(f'details[data-flag-id="{flag_id}"] summary').click()
    assert read.value.ok
