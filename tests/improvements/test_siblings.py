"""Likely siblings of a flag, to start an improvement with: unlinked flags of the same
department in the last 90 days, on the same order code or judged by one of the same rules."""

from __future__ import annotations

from datetime import timedelta

from app.kit.time import utcnow
from tests.factories import make_flag
from tests.improvements.conftest import propose
from tests.improvements.test_measurement import VITAMIN_D, flag_at

ELSEWHERE = {"fhir_id": "enc-9", "class_code": "AMB", "department": "Cardiology"}
BACK_PAIN_RULE = [
    {
        "rule_id": "low-back-pain-imaging",
        "rule_version": "1",
        "title": "Imaging for low back pain",
    }
]


async def siblings_of(client, tokens, flag_id) -> set[str]:
    response = await client.get(f"/api/v1/flags/{flag_id}/siblings", headers=tokens.header("lead"))
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["items"]}


async def test_siblings_share_the_code_and_department_within_ninety_days(
    client, tokens, session_factory
):
    flag = await make_flag(session_factory)
    same = await make_flag(session_factory)
    recent = await flag_at(session_factory, utcnow() - timedelta(days=89))
    await flag_at(session_factory, utcnow() - timedelta(days=91))  # too old
    await make_flag(session_factory, encounter=ELSEWHERE)  # another department
    await make_flag(session_factory, order=VITAMIN_D)  # another code, no rule in common
    assert await siblings_of(client, tokens, flag.id) == {str(same.id), str(recent)}


async def test_a_shared_rule_makes_a_sibling_across_codes(client, tokens, session_factory):
    flag = await make_flag(session_factory, rule_agreement=BACK_PAIN_RULE)
    other_code = await make_flag(
        session_factory,
        rule_agreement=BACK_PAIN_RULE,
        order={**VITAMIN_D, "code": {**VITAMIN_D["code"], "code": "72100", "display": "X-ray"}},
    )
    await make_flag(session_factory, order=VITAMIN_D, rule_agreement=[])
    assert await siblings_of(client, tokens, flag.id) == {str(other_code.id)}


async def test_linked_flags_are_no_longer_siblings(client, tokens, session_factory):
    flag = await make_flag(session_factory)
    linked = await make_flag(session_factory)
    free = await make_flag(session_factory)
    await propose(client, tokens, flag_ids=[str(linked.id)])
    assert await siblings_of(client, tokens, flag.id) == {str(free.id)}


async def test_an_unknown_flag_has_no_siblings_but_a_404(client, tokens):
    response = await client.get(
        "/api/v1/flags/00000000-0000-4000-8000-00000000abcd/siblings",
        headers=tokens.header("lead"),
    )
    assert response.status_code == 404
