"""The audit trail is readable by admins only, newest first, and pages without gaps."""

from __future__ import annotations

from tests.factories import make_flag


async def test_admin_reads_who_opened_which_flag_newest_first(client, tokens, session_factory):
    first = await make_flag(session_factory)
    second = await make_flag(session_factory)
    for flag in (first, second):
        response = await client.get(f"/api/v1/flags/{flag.id}", headers=tokens.header("analyst"))
        assert response.status_code == 200

    response = await client.get("/api/v1/audit-events", headers=tokens.header("admin"))

    assert response.status_code == 200
    items = response.json()["items"]
    assert [(item["action"], item["entity_id"]) for item in items] == [
        ("read", str(second.id)),
        ("read", str(first.id)),
    ]
    assert items[0]["actor_role"] == "analyst"
    assert "Test analyst" in items[0]["actor_id"]
    assert items[0]["issuer"] == first.issuer
    assert items[0]["request_id"]


async def test_audit_pages_follow_before_id_without_gaps(client, tokens, session_factory):
    flags = [await make_flag(session_factory) for _ in range(5)]
    for flag in flags:
        await client.get(f"/api/v1/flags/{flag.id}", headers=tokens.header("analyst"))

    seen: list[str] = []
    before = None
    for _ in range(5):
        params = {"limit": 2, **({"before_id": before} if before else {})}
        page = (
            await client.get("/api/v1/audit-events", params=params, headers=tokens.header("admin"))
        ).json()
        seen += [item["entity_id"] for item in page["items"]]
        before = page["next_before_id"]
        if before is None:
            break
    assert seen == [str(flag.id) for flag in reversed(flags)]


async def test_audit_events_filter_by_flag_and_action(client, tokens, session_factory):
    watched = await make_flag(session_factory)
    other = await make_flag(session_factory)
    for flag in (watched, other, watched):
        await client.get(f"/api/v1/flags/{flag.id}", headers=tokens.header("lead"))
    await client.get("/api/v1/flags", headers=tokens.header("lead"))

    response = await client.get(
        "/api/v1/audit-events",
        params={"entity_id": str(watched.id), "action": "read"},
        headers=tokens.header("admin"),
    )

    assert [item["entity_id"] for item in response.json()["items"]] == [str(watched.id)] * 2


async def test_only_admins_read_the_audit_trail(client, tokens):
    for role in ("analyst", "lead"):
        response = await client.get("/api/v1/audit-events", headers=tokens.header(role))
        assert response.status_code == 403
        assert response.headers["content-type"] == "application/problem+json"
        assert "admin" in response.json()["detail"]
