"""No email carries PHI: every message the SMTP server receives is searched for the flag's
patient id, order, note and the reply's text."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.flags import review
from app.flags.models import Flag
from app.flags.review import Actor
from app.notifications.email.channel import EmailChannel
from app.notifications.email.planning import plan_due_digests, plan_email
from app.notifications.email.recipients import StaffRecipient
from tests.factories import flag_create, make_flag
from tests.notifications.email.conftest import ListedDirectory, as_delivery

pytestmark = pytest.mark.usefixtures("clean_tables")

PATIENT_ID = "pt-secret-7731"
ORDER = "Zolpidem tartrate 10 mg oral tablet"
NOTE = "Asked twice; patient anxious about sleep on ward 4"
REPLY = "We spoke to the prescriber about the zolpidem on ward 4"


async def secret_flag(session_factory) -> Flag:
    order = flag_create().order.model_dump(mode="json")
    order["code"]["display"] = ORDER
    patient = {"fhir_id": PATIENT_ID, "age_band": "65-74", "sex": "male"}
    return await make_flag(session_factory, patient=patient, order=order, note=NOTE)


async def test_no_email_carries_the_patient_the_order_the_note_or_the_reply(
    email_settings, session_factory, smtp_server
):
    flag = await secret_flag(session_factory)
    lead = StaffRecipient(staff_id="3", email="lead@hospital.test")
    directory = ListedDirectory(
        reporters={flag.id: "reporter@hospital.test"}, flag_owners={flag.id: [lead]}, leads=[lead]
    )
    planned = []
    async with session_factory() as session:
        # The digest counts the flag while it still waits for its reply.
        planned += await plan_due_digests(
            session,
            (flag.created_at + timedelta(days=10)).replace(hour=12),
            settings=email_settings,
            directory=directory,
        )
        flag = await review.reply(
            session, flag.id, REPLY, actor=Actor("A. Analyst", "analyst"), if_match=None
        )
        await session.commit()
        for event in ("flag.replied", "flag.needs_info", "flag.assigned"):
            planned += await plan_email(
                session, flag, event, {}, settings=email_settings, directory=directory
            )
    channel = EmailChannel.from_settings(email_settings, session_factory)
    assert channel is not None
    for number, delivery in enumerate(planned, start=1):
        await channel.deliver(as_delivery(delivery, number=number))

    messages = smtp_server.messages()
    templates = sorted(str(p.payload["template"]) for p in planned)
    assert templates == ["assigned", "digest", "needs_info", "replied"]
    assert len(messages) == 4
    decoded = "\n".join(
        part.get_content()
        for message in messages
        for part in message.walk()
        if not part.is_multipart()
    )
    everything = smtp_server.raw().decode("utf-8", "replace") + decoded
    for secret in (PATIENT_ID, ORDER, "Zolpidem", NOTE, "ward 4", REPLY, "A. Analyst"):
        assert secret.lower() not in everything.lower(), secret
    assert "open ValueLoop in your EHR" in decoded
