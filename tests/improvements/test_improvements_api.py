"""Improvement work through the real app over HTTP (auth, problem details, the session
dependency), on SQLite and PostgreSQL: proposing, linking flags, the workflow and its
refusals, the timeline, and that a refused request writes nothing."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import col, select

from app.audit.models import AuditEvent
from app.flags.workflow import Status
from app.improvements.models import Improvement, ImprovementFlag
from app.kit.time import utcnow
from tests.improvements.conftest import MRI_TARGET, flags, move, propose

PROBLEM_JSON = "application/problem+json"


async def count(session_factory, model: type) -> int:
    async with session_factory() as session:
        return int(await session.scalar(select(sa.func.count()).select_from(model)) or 0)


async def test_an_improvement_is_proposed_with_its_flags_and_evidence(
    client, tokens, session_factory, dyad
):
    linked = await flags(session_factory, 3)
    response = await propose(
        client, tokens, owners=dyad, flag_ids=[str(f) for f in linked], notes="Order set 14."
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["Location"] == f"/api/v1/improvements/{body['id']}"
    assert body["status"] == "proposed"
    assert body["kind"] == "ehr_build"
    assert body["targets"] == [MRI_TARGET]
    assert body["owners"]["clinical_lead"]["name"] == "Dr. Ines Clinical"
    assert body["owners"]["operational_lead"]["name"] == "Omar Operations"
    assert body["flag_count"] == 3
    assert body["cost_at_stake"] == "622.92"  # 3 x 207.64
    assert {flag["id"] for flag in body["flags"]} == {str(f) for f in linked}
    assert body["evidence"]["reasons"] == [{"value": "not_indicated", "count": 3}]
    assert body["evidence"]["drivers"] == [{"value": "patient_request", "count": 3}]
    assert body["evidence"]["example_notes"] == []
    assert [event["kind"] for event in body["timeline"]] == ["created", "flags_linked"]
    assert body["timeline"][1]["details"]["count"] == 3

    listed = await client.get("/api/v1/improvements", headers=tokens.header("lead"))
    assert [item["id"] for item in listed.json()["items"]] == [body["id"]]
    by_flag = await client.get(
        "/api/v1/improvements", params={"flag": str(linked[0])}, headers=tokens.header("lead")
    )
    assert [item["id"] for item in by_flag.json()["items"]] == [body["id"]]


async def test_reading_an_improvement_leaves_an_audit_event_naming_its_flags(
    client, tokens, session_factory
):
    linked = await flags(session_factory, 1)
    created = (await propose(client, tokens, flag_ids=[str(linked[0])])).json()
    await client.get(f"/api/v1/improvements/{created['id']}", headers=tokens.header("lead"))
    async with session_factory() as session:
        reads = (
            await session.scalars(
                select(AuditEvent).where(
                    col(AuditEvent.entity_type) == "improvement", col(AuditEvent.action) == "read"
                )
            )
        ).all()
    assert len(reads) == 1
    assert reads[0].entity_id == created["id"]
    assert reads[0].details == {"flag_ids": [str(linked[0])]}


async def test_an_improvement_without_a_target_or_rule_is_refused(client, tokens, session_factory):
    response = await propose(client, tokens, targets=[], rules=[])
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    assert "targets" in response.json()["detail"]
    assert await count(session_factory, Improvement) == 0


async def test_an_unknown_rule_is_refused_naming_it(client, tokens, session_factory):
    response = await propose(client, tokens, rules=["no-such-rule"])
    assert response.status_code == 422
    assert "'no-such-rule'" in response.json()["detail"]
    assert response.json()["unknown_rules"] == ["no-such-rule"]
    assert await count(session_factory, Improvement) == 0


async def test_owners_are_a_dyad_of_two_different_people(client, tokens, dyad):
    for owners in ([dyad[0]], [dyad[0], dyad[0]]):
        response = await propose(client, tokens, owners=owners)
        assert response.status_code == 422, owners
        assert "dyad" in response.json()["detail"]


async def test_an_unknown_owner_is_refused_and_nothing_is_written(
    client, tokens, session_factory, dyad
):
    response = await propose(client, tokens, owners=[dyad[0], str(uuid.uuid4())])
    assert response.status_code == 422
    assert "staff directory" in response.json()["detail"]
    assert await count(session_factory, Improvement) == 0


async def test_linking_an_unknown_flag_refuses_the_whole_request(client, tokens, session_factory):
    real = await flags(session_factory, 1)
    missing = uuid.uuid4()
    response = await propose(client, tokens, flag_ids=[str(real[0]), str(missing)])
    assert response.status_code == 422
    assert f"No flag with id {missing}" in response.json()["detail"]
    assert await count(session_factory, Improvement) == 0
    assert await count(session_factory, ImprovementFlag) == 0


async def test_a_flag_belongs_to_one_improvement(client, tokens, session_factory):
    linked = await flags(session_factory, 2)
    first = (await propose(client, tokens, flag_ids=[str(linked[0])])).json()
    second = (await propose(client, tokens, title="Another improvement")).json()

    response = await client.post(
        f"/api/v1/improvements/{second['id']}/flags",
        json={"flag_ids": [str(linked[1]), str(linked[0])]},
        headers=tokens.header("analyst"),
    )
    assert response.status_code == 409
    assert response.json()["flag_ids"] == [str(linked[0])]
    # Nothing of the refused request was written: the free flag is not linked either.
    detail = await client.get(
        f"/api/v1/improvements/{second['id']}", headers=tokens.header("analyst")
    )
    assert detail.json()["flags"] == []
    again = await client.post(
        f"/api/v1/improvements/{first['id']}/flags",
        json={"flag_ids": [str(linked[0])]},
        headers=tokens.header("analyst"),
    )
    assert again.status_code == 200  # linking it again to its own improvement changes nothing
    assert again.json()["flag_count"] == 1
    assert [e["kind"] for e in again.json()["timeline"]] == ["created", "flags_linked"]


async def test_a_flag_judged_not_low_value_is_not_evidence(client, tokens, session_factory):
    from tests.flags.test_workflow import move as move_flag

    flag = (await flags(session_factory, 1))[0]
    await move_flag(session_factory, flag, Status.TRIAGED)
    await move_flag(session_factory, flag, Status.NOT_LOW_VALUE, reply="It was indicated.")
    response = await propose(client, tokens, flag_ids=[str(flag)])
    assert response.status_code == 422
    assert "not low-value" in response.json()["detail"]


async def test_a_note_is_shared_only_when_marked_and_clean(client, tokens, session_factory):
    clean = (await flags(session_factory, 1, note="Ordered for week-one back pain."))[0]
    named = (await flags(session_factory, 1, note="Dr. Smith always orders it."))[0]
    kept = (await flags(session_factory, 1, note="Private detail."))[0]
    created = (await propose(client, tokens)).json()
    url = f"/api/v1/improvements/{created['id']}/flags"

    refused = await client.post(
        url,
        json={"flag_ids": [str(named)], "shareable_notes": [str(named)]},
        headers=tokens.header("analyst"),
    )
    assert refused.status_code == 422
    assert "Smith" not in refused.text  # a refusal names the kind of thing, never the text

    linked = await client.post(
        url,
        json={"flag_ids": [str(clean), str(kept)], "shareable_notes": [str(clean)]},
        headers=tokens.header("analyst"),
    )
    assert linked.status_code == 200, linked.text
    assert linked.json()["evidence"]["example_notes"] == ["Ordered for week-one back pain."]


async def test_approval_needs_the_owners(client, tokens, dyad):
    created = (await propose(client, tokens)).json()
    refused = await move(client, tokens, created["id"], to="approved")
    assert refused.status_code == 422
    assert "owners" in refused.json()["detail"]

    await client.patch(
        f"/api/v1/improvements/{created['id']}",
        json={"owners": dyad},
        headers=tokens.header("analyst"),
    )
    approved = await move(client, tokens, created["id"], to="approved")
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"


async def test_an_illegal_move_is_refused_naming_the_allowed_ones(client, tokens):
    created = (await propose(client, tokens)).json()
    response = await move(client, tokens, created["id"], to="measured")
    assert response.status_code == 409
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["allowed_transitions"] == ["approved", "declined"]


async def test_going_live_needs_its_date_and_reply_and_no_future_date(client, tokens, dyad):
    created = (await propose(client, tokens, owners=dyad)).json()
    await move(client, tokens, created["id"], to="approved")
    no_reply = await move(client, tokens, created["id"], to="live", go_live="2026-01-05")
    assert no_reply.status_code == 422
    assert "'reply'" in no_reply.json()["detail"]
    future = await move(
        client, tokens, created["id"], to="live", go_live="2999-01-01", reply="Changed."
    )
    assert future.status_code == 422
    assert "future" in future.json()["detail"]
    day_after = await move(
        client, tokens, created["id"], to="live", go_live="2026-01-02", reply="Changed."
    )
    assert day_after.status_code == 200  # a past date; see the next test for "today" abroad
    misplaced = await move(client, tokens, created["id"], to="measured", reply="Not yet.")
    assert misplaced.status_code == 422


async def test_going_live_on_tomorrows_utc_date_is_accepted_for_zones_ahead_of_utc(
    client, tokens, dyad
):
    created = (await propose(client, tokens, owners=dyad)).json()
    await move(client, tokens, created["id"], to="approved")
    tomorrow = (utcnow().date() + timedelta(days=1)).isoformat()
    later = (utcnow().date() + timedelta(days=2)).isoformat()
    refused = await move(client, tokens, created["id"], to="live", go_live=later, reply="Done.")
    assert refused.status_code == 422
    accepted = await move(client, tokens, created["id"], to="live", go_live=tomorrow, reply="Done.")
    assert accepted.status_code == 200, accepted.text


async def test_declining_keeps_the_reason_and_can_be_proposed_again(client, tokens):
    created = (await propose(client, tokens)).json()
    assert (await move(client, tokens, created["id"], to="declined")).status_code == 422
    declined = await move(
        client, tokens, created["id"], to="declined", reason="The order set is national."
    )
    assert declined.json()["status"] == "declined"
    assert declined.json()["declined_reason"] == "The order set is national."
    again = await move(client, tokens, created["id"], to="proposed")
    assert again.json()["status"] == "proposed"
    assert again.json()["declined_reason"] is None
    assert [e["to_status"] for e in again.json()["timeline"]] == [None, "declined", "proposed"]


async def test_the_ticket_reference_and_changes_go_on_the_timeline(client, tokens):
    created = (await propose(client, tokens)).json()
    response = await client.patch(
        f"/api/v1/improvements/{created['id']}",
        json={"ticket_reference": "INC-20417"},
        headers=tokens.header("analyst"),
    )
    assert response.json()["ticket_reference"] == "INC-20417"
    assert response.json()["timeline"][-1]["details"] == {
        "ticket_reference": {"from": None, "to": "INC-20417"}
    }


async def test_reading_needs_a_signed_in_reader_and_writing_a_worker(client, tokens):
    assert (await client.get("/api/v1/improvements")).status_code == 401
    created = await propose(client, tokens, role="lead")
    assert created.status_code == 201  # leads work improvements as they work flags
    missing = await client.get(
        f"/api/v1/improvements/{uuid.uuid4()}", headers=tokens.header("lead")
    )
    assert missing.status_code == 404
    assert missing.headers["content-type"] == PROBLEM_JSON


async def test_the_catalog_lists_kinds_statuses_and_rules(client, tokens):
    body = (await client.get("/api/v1/improvements/catalog", headers=tokens.header("lead"))).json()
    assert next(kind["value"] for kind in body["kinds"]) == "ehr_build"
    proposed = next(s for s in body["statuses"] if s["value"] == "proposed")
    assert proposed["allowed_transitions"] == ["approved", "declined"]
    assert body["rules"], "the published catalog has rules"


async def test_a_nul_or_a_lone_surrogate_in_a_title_is_refused_and_nothing_written(
    client, tokens, session_factory
):
    for title in ("Order set\x00 change", "Order set \ud800 change"):
        response = await client.post(
            "/api/v1/improvements",
            content=json.dumps({"title": title, "kind": "other", "targets": [MRI_TARGET]}),
            headers={**tokens.header("analyst"), "content-type": "application/json"},
        )
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == PROBLEM_JSON
    assert await count(session_factory, Improvement) == 0


async def test_malformed_json_is_a_clear_400(client, tokens):
    response = await client.post(
        "/api/v1/improvements",
        content=b'{"title": ',
        headers={**tokens.header("analyst"), "content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM_JSON


async def test_a_write_based_on_an_old_version_is_refused_and_changes_nothing(client, tokens):
    created = await propose(client, tokens)
    url = f"/api/v1/improvements/{created.json()['id']}"
    loaded = await client.get(url, headers=tokens.header("analyst"))
    etag = loaded.headers["ETag"]
    assert etag == f'"v{loaded.json()["version"]}"'

    first = await client.patch(
        url,
        json={"ticket_reference": "INC-1"},
        headers={**tokens.header("analyst"), "If-Match": etag},
    )
    assert first.status_code == 200
    assert first.headers["ETag"] != etag
    stale = await client.patch(
        url,
        json={"ticket_reference": "INC-2"},
        headers={**tokens.header("analyst"), "If-Match": etag},
    )
    assert stale.status_code == 412
    assert stale.headers["content-type"] == PROBLEM_JSON
    moved = await client.post(
        f"{url}/transitions",
        json={"to": "declined", "reason": "Not now."},
        headers={**tokens.header("analyst"), "If-Match": etag},
    )
    assert moved.status_code == 412
    now = await client.get(url, headers=tokens.header("analyst"))
    assert (now.json()["ticket_reference"], now.json()["status"]) == ("INC-1", "proposed")


async def test_null_clears_the_ticket_and_notes_but_not_the_title(client, tokens):
    created = (await propose(client, tokens, notes="Order set 14.")).json()
    url = f"/api/v1/improvements/{created['id']}"
    await client.patch(url, json={"ticket_reference": "INC-9"}, headers=tokens.header("analyst"))
    cleared = await client.patch(
        url, json={"ticket_reference": None, "notes": None}, headers=tokens.header("analyst")
    )
    assert (cleared.json()["ticket_reference"], cleared.json()["notes"]) == (None, None)
    refused = await client.patch(url, json={"title": None}, headers=tokens.header("analyst"))
    assert refused.status_code == 422
    assert "cannot be cleared" in refused.json()["detail"]
