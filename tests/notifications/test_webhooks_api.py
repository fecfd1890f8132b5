"""The webhook admin API and command line: secrets go in once and never come out, URLs must
be https off this machine (outside demo mode), only admins manage them."""

from __future__ import annotations

import re

import pytest

from app.config import Mode, Settings
from app.notifications import service
from app.notifications.errors import InvalidWebhook
from tests.test_cli import migrated, run

GOOD_SECRET = "whsec_" + "A" * 32  # base64 of 24 bytes


@pytest.fixture
def cli_env(tmp_path) -> dict[str, str | None]:
    """The command's environment, on a database of its own (``run`` clears cached settings)."""
    return {
        "VALUELOOP_MODE": "demo",
        "VALUELOOP_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "VALUELOOP_DATA_DIR": str(tmp_path),
        "VALUELOOP_SECRET_KEY": None,
        "VALUELOOP_LOG_LEVEL": "WARNING",
    }


async def test_an_endpoint_is_added_with_a_generated_secret_shown_once(client, tokens):
    created = await client.post(
        "/api/v1/webhooks",
        json={
            "url": "https://tickets.example.org/hooks",
            "events": ["flag.replied", "flag.created"],
        },
        headers=tokens.header("admin"),
    )

    assert created.status_code == 201
    body = created.json()
    assert re.fullmatch(r"whsec_[A-Za-z0-9+/]{43}=", body["secret"])
    assert body["events"] == ["flag.created", "flag.replied"]
    assert body["allow_patient_data"] is False
    listed = await client.get("/api/v1/webhooks", headers=tokens.header("admin"))
    assert [item["id"] for item in listed.json()] == [body["id"]]
    assert "secret" not in listed.text
    assert body["secret"] not in listed.text


async def test_an_endpoint_can_be_changed_and_removed(client, tokens):
    created = await client.post(
        "/api/v1/webhooks",
        json={
            "url": "https://chat.example.org/x",
            "events": ["flag.created"],
            "secret": GOOD_SECRET,
        },
        headers=tokens.header("admin"),
    )
    endpoint_id = created.json()["id"]

    changed = await client.patch(
        f"/api/v1/webhooks/{endpoint_id}",
        json={"active": False, "events": ["flag.assigned"]},
        headers=tokens.header("admin"),
    )
    removed = await client.delete(f"/api/v1/webhooks/{endpoint_id}", headers=tokens.header("admin"))
    again = await client.delete(f"/api/v1/webhooks/{endpoint_id}", headers=tokens.header("admin"))

    assert created.json()["secret"] == GOOD_SECRET
    assert (changed.json()["active"], changed.json()["events"]) == (False, ["flag.assigned"])
    assert GOOD_SECRET not in changed.text
    assert removed.status_code == 204
    assert again.status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://x.example.org", "events": ["flag.created"]}, "url"),
        ({"url": "https://x.example.org", "events": ["flag.deleted"]}, "events"),
        ({"url": "https://x.example.org", "events": []}, "events"),
        (
            {"url": "https://x.example.org", "events": ["flag.created"], "secret": "s3cret"},
            "secret",
        ),
        (
            {"url": "https://x.example.org", "events": ["flag.created"], "secret": "whsec_AAAA"},
            "secret",
        ),
        (
            {"url": "https://x.example.org", "events": ["flag.created"], "secret": "whsec_!!"},
            "secret",
        ),
    ],
)
async def test_a_bad_endpoint_is_refused_and_nothing_is_saved(client, tokens, body, field):
    refused = await client.post("/api/v1/webhooks", json=body, headers=tokens.header("admin"))

    assert refused.status_code == 422
    assert field in refused.text
    listed = await client.get("/api/v1/webhooks", headers=tokens.header("admin"))
    assert listed.json() == []


@pytest.mark.parametrize("role", ["analyst", "lead"])
async def test_only_admins_manage_webhooks_and_dead_letters(client, tokens, role):
    for method, path in [
        ("GET", "/api/v1/webhooks"),
        ("POST", "/api/v1/webhooks"),
        ("GET", "/api/v1/deliveries"),
        ("POST", "/api/v1/deliveries/1/retry"),
    ]:
        response = await client.request(method, path, headers=tokens.header(role), json={})
        assert response.status_code == 403, (method, path)


async def test_retrying_an_unknown_delivery_is_a_404(client, tokens):
    response = await client.post("/api/v1/deliveries/999/retry", headers=tokens.header("admin"))

    assert response.status_code == 404


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://tickets.example.org/hooks", True),
        ("http://tickets.example.org/hooks", False),
        ("http://127.0.0.1:8080/hooks", True),
        ("http://localhost/hooks", True),
    ],
)
def test_outside_demo_mode_an_endpoint_must_use_https_except_on_this_machine(url, allowed):
    if allowed:
        assert service.normalize_url(url, mode=Mode.PRODUCTION) == url
    else:
        with pytest.raises(InvalidWebhook, match="must use https"):
            service.normalize_url(url, mode=Mode.PRODUCTION)
    assert service.normalize_url(url, mode=Mode.DEMO) == url


def test_the_command_line_adds_lists_and_removes_webhooks(cli_env):
    env = migrated(cli_env)

    added = run(
        env,
        "webhooks",
        "add",
        "https://tickets.example.org/hooks",
        "--events",
        "flag.created,flag.status_changed,flag.replied",
    )
    given = run(
        env,
        "webhooks",
        "add",
        "https://chat.example.org/x",
        "--events",
        "flag.created",
        "--secret",
        GOOD_SECRET,
    )
    bad = run(env, "webhooks", "add", "https://x.example.org", "--events", "flag.nope")
    listed = run(env, "webhooks", "list")

    assert added.exit_code == 0, added.output
    secret = added.output.strip().splitlines()[-1]
    assert re.fullmatch(r"whsec_\S+", secret)
    assert given.exit_code == 0
    assert GOOD_SECRET not in given.output
    assert bad.exit_code == 1
    assert "Unknown event flag.nope" in bad.output
    assert "tickets.example.org" in listed.output
    assert "chat.example.org" in listed.output
    assert secret not in listed.output
    assert GOOD_SECRET not in listed.output
    endpoint_id = listed.output.split()[0]
    removed = run(env, "webhooks", "remove", endpoint_id)
    assert removed.exit_code == 0
    assert endpoint_id not in run(env, "webhooks", "list").output
    assert run(env, "webhooks", "remove", "not-an-id").exit_code == 1


def test_worker_once_delivers_what_is_due_and_exits(cli_env):
    env = migrated(cli_env)

    result = run(env, "worker", "--once")

    assert result.exit_code == 0, result.output


def test_serve_starts_a_worker_unless_switched_off(monkeypatch):
    monkeypatch.setenv("VALUELOOP_WORKER", "off")
    assert Settings(mode=Mode.DEMO).worker is False
    monkeypatch.delenv("VALUELOOP_WORKER")
    assert Settings(mode=Mode.DEMO).worker is True


def test_a_lease_shorter_than_a_send_is_refused():
    with pytest.raises(ValueError, match="must be longer than"):
        Settings(mode=Mode.DEMO, outbox_lease_seconds=5, outbound_timeout_seconds=10)


def test_the_command_line_adds_an_endpoint_of_one_organization(cli_env):
    env = migrated(cli_env)
    assert run(env, "orgs", "add", "practice", "--name", "Riverside Practice").exit_code == 0

    added = run(
        env,
        "webhooks",
        "add",
        "https://tickets.example.org/p",
        "--events",
        "flag.created",
        "--org",
        "practice",
    )
    unknown = run(
        env,
        "webhooks",
        "add",
        "https://tickets.example.org/x",
        "--events",
        "flag.created",
        "--org",
        "nowhere",
    )
    listed = run(env, "webhooks", "list")

    assert added.exit_code == 0, added.output
    assert unknown.exit_code == 1
    assert "nowhere" in unknown.output
    assert "  organization " in listed.output
    assert "tickets.example.org/x" not in listed.output
