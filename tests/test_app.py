"""The application shell: health, docs, errors, headers, startup checks and settings."""

from __future__ import annotations

import inspect
import re
import sqlite3
import stat
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import ValidationError

from app.config import MIN_SECRET_KEY_LENGTH, Mode, Settings
from app.db import create_sync_engine_for
from app.main import create_app
from app.migrate import DatabaseNotMigrated, upgrade
from app.openapi import dependency_calls

SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
GOOD_KEY = "k" * MIN_SECRET_KEY_LENGTH


# --- health and docs ----------------------------------------------------------------------------


async def test_healthz_says_the_process_is_alive(client):
    response = await client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_says_ready_on_a_migrated_database(client):
    response = await client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_docs_load_every_asset_from_the_app_itself(client, page):
    response = await client.get(page)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "http://" not in response.text
    assert "https://" not in response.text
    assets = re.findall(r'(?:src|href)="([^"]+)"', response.text)
    assert assets
    for asset in assets:
        assert asset.startswith("/")
        assert not asset.startswith("//")
        assert (await client.get(asset)).status_code == 200, asset


async def test_openapi_lists_the_flag_endpoints(client):
    response = await client.get("/openapi.json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/flags" in paths
    assert "/api/v1/exports/flags" in paths


# --- errors and headers -------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/no-such-page", "/api/v1/no-such-thing"])
async def test_an_unknown_route_is_a_404_problem(client, path):
    response = await client.get(path)

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert (body["status"], body["title"], body["instance"]) == (404, "Not found", path)
    assert "/docs" in body["detail"]


@pytest.mark.parametrize("path", ["/healthz", "/api/v1/flags", "/no-such-page", "/docs"])
async def test_every_response_carries_a_request_id_and_nosniff(client, path):
    response = await client.get(path)

    assert SAFE_REQUEST_ID.match(response.headers["x-request-id"])
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_each_request_gets_its_own_request_id(client):
    first = await client.get("/healthz")
    second = await client.get("/healthz")

    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_a_sane_incoming_request_id_is_echoed(client):
    response = await client.get("/healthz", headers={"X-Request-ID": "lb-trace.0123456789_ab"})

    assert response.headers["x-request-id"] == "lb-trace.0123456789_ab"


@pytest.mark.parametrize(
    "unsafe", ["short", "has spaces in it", "<script>alert(1)</script>", "x" * 65, "a;b=c,d:e"]
)
async def test_an_unsafe_incoming_request_id_is_replaced(client, unsafe):
    response = await client.get("/healthz", headers={"X-Request-ID": unsafe})

    assert response.headers["x-request-id"] != unsafe
    assert SAFE_REQUEST_ID.match(response.headers["x-request-id"])


async def test_api_responses_are_never_cached(client, tokens):
    answered = await client.get("/api/v1/flags", headers=tokens.header("analyst"))
    refused = await client.get("/api/v1/flags")

    assert (answered.status_code, refused.status_code) == (200, 401)
    assert answered.headers["cache-control"] == "no-store"
    assert refused.headers["cache-control"] == "no-store"


# --- startup on a database that is not ready ----------------------------------------------------


def demo_settings(database_url: str, data_dir: Path) -> Settings:
    return Settings(
        mode=Mode.DEMO, database_url=database_url, data_dir=data_dir, log_level="WARNING"
    )


async def test_the_app_refuses_to_start_on_an_unmigrated_database(tmp_path):
    database = tmp_path / "empty.db"
    sqlite3.connect(database).close()
    app = create_app(demo_settings(f"sqlite:///{database}", tmp_path))

    with pytest.raises(DatabaseNotMigrated) as raised:
        async with app.router.lifespan_context(app):
            pytest.fail("the app started on an unmigrated database")

    message = str(raised.value)
    assert "has no ValueLoop schema" in message
    assert "Run `valueloop migrate`" in message


async def test_the_app_refuses_to_start_on_a_database_at_another_revision(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url)
    engine = create_sync_engine_for(url)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = 'older'"))
    engine.dispose()
    app = create_app(demo_settings(url, tmp_path))

    with pytest.raises(DatabaseNotMigrated, match="is at revision older") as raised:
        async with app.router.lifespan_context(app):
            pytest.fail("the app started on an outdated database")

    assert "valueloop migrate" in str(raised.value)


# --- settings -----------------------------------------------------------------------------------


def production(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "mode": Mode.PRODUCTION,
        "secret_key": GOOD_KEY,
        "base_url": "https://valueloop.example.org",
        "database_url": "sqlite:///./var/valueloop.db",
    }
    values.update(overrides)
    return Settings.model_validate(values)


def test_production_accepts_a_long_secret_and_an_https_base_url():
    settings = production(base_url="https://valueloop.example.org/")

    assert settings.base_url == "https://valueloop.example.org"
    assert settings.resolved_secret_key() == GOOD_KEY


def test_production_refuses_a_missing_secret_key_and_says_how_to_fix_it():
    with pytest.raises(ValidationError, match="VALUELOOP_SECRET_KEY is required") as raised:
        production(secret_key=None)

    assert "VALUELOOP_MODE=demo" in str(raised.value)


def test_production_refuses_a_short_secret_key():
    with pytest.raises(ValidationError, match=f"at least {MIN_SECRET_KEY_LENGTH} characters"):
        production(secret_key="k" * (MIN_SECRET_KEY_LENGTH - 1))


def test_production_refuses_a_plain_http_base_url():
    with pytest.raises(ValidationError, match="must use https"):
        production(base_url="http://valueloop.example.org")


def test_production_allows_plain_http_on_the_loopback_interface_only():
    assert production(base_url="http://127.0.0.1:8000").base_url == "http://127.0.0.1:8000"


def test_a_base_url_must_be_absolute_in_any_mode():
    with pytest.raises(ValidationError, match="absolute http"):
        Settings(mode=Mode.DEMO, base_url="valueloop.example.org")


def test_demo_mode_creates_a_private_secret_key_file_once_and_reuses_it(tmp_path):
    data_dir = tmp_path / "var"

    first = Settings(mode=Mode.DEMO, data_dir=data_dir).resolved_secret_key()
    second = Settings(mode=Mode.DEMO, data_dir=data_dir).resolved_secret_key()

    key_file = data_dir / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(first) >= MIN_SECRET_KEY_LENGTH
    assert key_file.read_text(encoding="utf-8") == first
    assert second == first


def test_demo_mode_never_uses_an_empty_key_file_as_the_secret(tmp_path):
    # What a crash (or a second process) between creating the file and writing it leaves behind.
    (tmp_path / "secret_key").touch(mode=0o600)

    key = Settings(mode=Mode.DEMO, data_dir=tmp_path).resolved_secret_key()

    assert len(key) >= MIN_SECRET_KEY_LENGTH


def test_demo_mode_reads_its_key_file_once_per_settings(tmp_path):
    settings = Settings(mode=Mode.DEMO, data_dir=tmp_path)
    first = settings.resolved_secret_key()
    (tmp_path / "secret_key").unlink()

    assert settings.resolved_secret_key() == first  # not read (or made) again per request


def test_two_processes_making_the_demo_key_at_once_agree_on_one(tmp_path, monkeypatch):
    """The second to link its new key into place finds the first one's and uses that."""
    import os

    settings = Settings(mode=Mode.DEMO, data_dir=tmp_path)
    real_link = os.link

    def first_process_wins(source, target):
        Path(target).write_text("f" * MIN_SECRET_KEY_LENGTH, encoding="utf-8")
        real_link(source, target)  # raises FileExistsError, as it would in the race

    monkeypatch.setattr(os, "link", first_process_wins)

    assert settings.resolved_secret_key() == "f" * MIN_SECRET_KEY_LENGTH
    assert sorted(path.name for path in tmp_path.iterdir()) == ["secret_key"]


def test_an_explicit_secret_key_wins_over_the_demo_key_file(tmp_path):
    Settings(mode=Mode.DEMO, data_dir=tmp_path).resolved_secret_key()

    key = Settings(mode=Mode.DEMO, data_dir=tmp_path, secret_key=GOOD_KEY).resolved_secret_key()

    assert key == GOOD_KEY


def _runs_on_the_event_loop(call: Any) -> bool:
    """Whether FastAPI awaits ``call`` rather than running it in a worker thread."""
    target = call if inspect.isfunction(call) or inspect.ismethod(call) else call.__call__
    return inspect.iscoroutinefunction(target) or inspect.isasyncgenfunction(target)


def test_no_request_dependency_runs_in_a_worker_thread(running_app):
    """A plain ``def`` dependency costs a thread hand-off per request (app/dependencies.py)."""
    in_threads = {
        f"{route.path}: {getattr(call, '__qualname__', type(call).__name__)}"
        for route in iter_route_contexts(running_app.routes)
        if isinstance(route.original_route, APIRoute)
        for call in dependency_calls(route.dependant)
        if not _runs_on_the_event_loop(call)
    }

    assert in_threads == set()
    endpoints = [r for r in iter_route_contexts(running_app.routes) if r.endpoint is not None]
    assert len(endpoints) > 40  # the walk sees every endpoint
