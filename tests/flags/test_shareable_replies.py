"""Replies that may be shared in the transparency report: checked for patient and clinician
data before they are stored, refused (422, nothing written) when they seem to hold some."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.flags import service
from app.flags.models import Flag
from app.flags.shareable import Known, findings, name_parts
from tests.conftest import Tokens
from tests.factories import make_flag, make_staff

CLEAN = "Thanks: we removed the default lumbar MRI from the back pain order set."

# (text, what the refusal names): one per pattern the check looks for.
REFUSED = [
    ("Write to avery@example.org about it.", "an email address"),
    ("Call the clinic on (555) 123-4567.", "a phone number"),
    ("Call 555-123-4567 for details.", "a phone number"),
    ("Seen on 3/14/2026 in clinic.", "a date"),
    ("Repeated on 2026-03-14.", "a date"),
    ("Repeated on March 14.", "a date"),
    ("Repeated on 14 Mar at noon.", "a date"),
    ("Chart 12345678 shows it.", "a run of 5 or more digits"),
    ("This was about pt-1 again.", "the flag's patient, encounter or order id"),
    ("The order sr-1 is cancelled.", "the flag's patient, encounter or order id"),
    ("Visit ENC-1 had the same order.", "the flag's patient, encounter or order id"),
    ("Thanks Avery, good catch.", "the reporter's name"),
    ("The sample you sent was right.", "the reporter's name"),
    ("Tanaka changed the order set.", "a name from the staff directory"),
    ("Dr. Ortega changed the order set.", "an honorific followed by a name"),
    ("Mrs Okafor asked for it.", "an honorific followed by a name"),
    ("Nurse Kim cancelled it.", "an honorific followed by a name"),
]


async def closed_ready_flag(factory: async_sessionmaker[AsyncSession]) -> Flag:
    """A flag (reporter 'Dr. Avery Sample'; patient pt-1, encounter enc-1, order sr-1)."""
    return await make_flag(factory)


async def state(factory: async_sessionmaker[AsyncSession], flag: Flag) -> tuple[int, list[Any]]:
    async with factory() as session:
        stored = await service.get_flag(session, flag.id)
        events = await service.timeline(session, stored)
        return stored.version, [(e.kind, e.body, e.details) for e in events]


async def post_reply(
    client: httpx.AsyncClient, tokens: Tokens, flag: Flag, body: dict[str, Any]
) -> httpx.Response:
    return await client.post(
        f"/api/v1/flags/{flag.id}/replies", json=body, headers=tokens.header("analyst")
    )


@pytest.mark.parametrize(("text", "named"), REFUSED)
async def test_shareable_reply_with_identifying_text_is_refused_and_nothing_is_written(
    client, tokens, session_factory, text, named
):
    await make_staff(session_factory, name="Dr. H. Tanaka")
    flag = await closed_ready_flag(session_factory)
    before = await state(session_factory, flag)

    response = await post_reply(client, tokens, flag, {"body": text, "shareable": True})

    assert response.status_code == 422
    problem = response.json()
    assert problem["type"].endswith("unshareable-reply")
    assert named in problem["found"]
    assert named in problem["detail"]
    assert await state(session_factory, flag) == before


async def test_refusal_names_what_was_found_without_echoing_it(client, tokens, session_factory):
    flag = await closed_ready_flag(session_factory)

    response = await post_reply(
        client, tokens, flag, {"body": "Avery: call 555-867-5309 re pt-1.", "shareable": True}
    )

    text = response.text
    assert response.status_code == 422
    for echoed in ("555", "Avery", "pt-1"):
        assert echoed not in text


async def test_the_same_text_not_marked_shareable_is_stored_unchecked(
    client, tokens, session_factory
):
    flag = await closed_ready_flag(session_factory)

    response = await post_reply(client, tokens, flag, {"body": "Thanks Avery, see 3/14/2026."})

    assert response.status_code == 201
    _, events = await state(session_factory, flag)
    assert events[-1] == ("reply", "Thanks Avery, see 3/14/2026.", None)


async def test_clean_shareable_reply_is_stored_marked_shareable(client, tokens, session_factory):
    flag = await closed_ready_flag(session_factory)

    response = await post_reply(client, tokens, flag, {"body": CLEAN, "shareable": True})

    assert response.status_code == 201
    version, events = await state(session_factory, flag)
    assert version == 2
    assert events[-1] == ("reply", CLEAN, {"shareable": True})


async def test_transition_reply_can_be_shareable_and_is_checked_the_same_way(
    client, tokens, session_factory
):
    flag = await closed_ready_flag(session_factory)
    headers = {**tokens.header("analyst"), "If-Match": '"v1"'}
    url = f"/api/v1/flags/{flag.id}/transitions"
    await client.post(url, json={"to": "triaged"}, headers=headers)
    headers["If-Match"] = '"v2"'
    move = {"to": "not_low_value", "reply_shareable": True}

    named = {**move, "reply": "Dr. Sample was right."}
    refused = await client.post(url, json=named, headers=headers)
    before = await state(session_factory, flag)
    stored = await client.post(url, json={**move, "reply": CLEAN}, headers=headers)

    assert refused.status_code == 422
    assert before[0] == 2
    assert stored.status_code == 200
    _, events = await state(session_factory, flag)
    assert events[-1] == ("reply", CLEAN, {"shareable": True})


async def test_reply_shareable_without_a_reply_is_refused(client, tokens, session_factory):
    flag = await closed_ready_flag(session_factory)

    response = await client.post(
        f"/api/v1/flags/{flag.id}/transitions",
        json={"to": "triaged", "reply_shareable": True},
        headers={**tokens.header("analyst"), "If-Match": '"v1"'},
    )

    assert response.status_code == 422


def test_ordinary_replies_pass_the_check():
    known = Known(
        ids=frozenset({"pt-1", "enc-1", "sr-1"}),
        reporter=frozenset(name_parts(["Dr. Avery Sample"])),
        staff=frozenset(name_parts(["Dr. H. Tanaka", "R. Alvarez"])),
    )
    for text in (
        CLEAN,
        "We agree: repeat vitamin D screening in 2026 is low-value. The lab now asks why.",
        "A nurse practitioner and the pharmacy reviewed the default; it is off since May.",
        "Version 2.5 of the order set went live; thank you for flagging.",
    ):
        assert findings(text, known) == [], text


def test_name_parts_keep_words_of_three_letters_or_more_but_no_honorifics():
    assert name_parts(["Dr. E. Nwosu", "Nurse Jo Kim-Lee", None]) == {"nwosu", "kim", "lee"}
