"""The ``valueloop`` command, run as an operator would, on a database of its own."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner, Result

from app.cli import cli
from app.config import Mode, Settings, get_settings
from app.db import create_sync_engine_for
from app.main import create_app


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    """Settings are cached per process; each invocation must read its own environment."""
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def database_file(tmp_path: Path) -> Path:
    return tmp_path / "cli.db"


@pytest.fixture
def env(tmp_path: Path, database_file: Path) -> dict[str, str | None]:
    return {
        "VALUELOOP_MODE": "demo",
        "VALUELOOP_DATABASE_URL": f"sqlite:///{database_file}",
        "VALUELOOP_DATA_DIR": str(tmp_path),
        "VALUELOOP_SECRET_KEY": None,
        "VALUELOOP_LOG_LEVEL": "WARNING",
    }


def run(env: dict[str, str | None], *args: str) -> Result:
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    finally:
        get_settings.cache_clear()


def migrated(env: dict[str, str | None]) -> dict[str, str | None]:
    result = run(env, "migrate")
    assert result.exit_code == 0, result.output
    return env


async def statuses_with(settings: Settings, *tokens: str) -> list[int]:
    """The status of GET /api/v1/flags with each token, on a running app on that database."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://cli.test") as client:
            return [
                (
                    await client.get("/api/v1/flags", headers={"Authorization": f"Bearer {token}"})
                ).status_code
                for token in tokens
            ]


def flag_count(database_file: Path) -> int:
    engine = create_sync_engine_for(f"sqlite:///{database_file}")
    try:
        with engine.connect() as connection:
            return int(connection.execute(sa.text("SELECT count(*) FROM flag")).scalar_one())
    finally:
        engine.dispose()


def test_help_documents_every_command(env):
    result = run(env, "--help")

    assert result.exit_code == 0
    for command in ("serve", "migrate", "tokens", "seed"):
        assert re.search(rf"^\W*{command}\s+\S", result.output, re.MULTILINE), command


def test_migrate_creates_the_schema_and_can_run_again(env, database_file):
    first = run(env, "migrate")
    second = run(env, "migrate")

    assert (first.exit_code, second.exit_code) == (0, 0)
    assert "newest schema" in first.output
    assert flag_count(database_file) == 0


def test_tokens_create_prints_the_token_alone_on_the_last_line_and_it_works(env, tmp_path):
    result = run(migrated(env), "tokens", "create", "--role", "analyst", "--name", "A. Rivera")

    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"vl_[A-Za-z0-9_-]{40,}", token)
    assert "analyst" in result.stdout.splitlines()[0]

    settings = Settings(
        mode=Mode.DEMO,
        database_url=str(env["VALUELOOP_DATABASE_URL"]),
        data_dir=tmp_path,
        log_level="WARNING",
    )
    assert asyncio.run(statuses_with(settings, token, token + "x")) == [200, 401]


def test_tokens_list_shows_tokens_but_never_their_secrets(env):
    migrated(env)
    secrets = [
        run(env, "tokens", "create", "--role", role, "--name", name).stdout.splitlines()[-1]
        for role, name in (("analyst", "A. Rivera"), ("admin", "IT on call"))
    ]

    result = run(env, "tokens", "list")

    assert result.exit_code == 0
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2
    assert {line.split()[1] for line in lines} == {"analyst", "admin"}
    assert "A. Rivera" in result.stdout
    assert "IT on call" in result.stdout
    for secret in secrets:
        assert secret not in result.stdout
        assert secret[:10] in result.stdout  # the prefix is how an admin tells tokens apart


def test_tokens_revoke_marks_the_token_revoked(env):
    migrated(env)
    run(env, "tokens", "create", "--role", "lead", "--name", "Dr. H. Tanaka")
    token_id = run(env, "tokens", "list").stdout.split()[0]

    result = run(env, "tokens", "revoke", token_id)

    assert result.exit_code == 0, result.output
    assert f"Revoked {token_id}." in result.stdout
    assert "revoked" in run(env, "tokens", "list").stdout


@pytest.mark.parametrize(
    ("token_id", "message"),
    [
        ("not-a-token-id", "is not a token id"),
        (str(uuid.UUID(int=7)), "No API token with id"),
    ],
)
def test_tokens_revoke_with_a_bad_id_fails_with_a_message(env, token_id, message):
    result = run(migrated(env), "tokens", "revoke", token_id)

    assert result.exit_code == 1
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_seed_if_empty_leaves_a_seeded_registry_alone(env, database_file):
    migrated(env)

    first = run(env, "seed", "--flags", "50")
    second = run(env, "seed", "--flags", "50", "--if-empty")

    assert (first.exit_code, second.exit_code) == (0, 0)
    assert "Seeded 50 synthetic flags." in first.stdout
    assert "already has 50 flags; nothing seeded" in second.stdout
    assert flag_count(database_file) == 50


def test_seed_if_empty_fills_an_empty_registry(env, database_file):
    result = run(migrated(env), "seed", "--flags", "20", "--if-empty")

    assert result.exit_code == 0
    assert flag_count(database_file) == 20


def test_seed_on_an_unmigrated_database_fails_with_the_migrate_hint(env):
    result = run(env, "seed", "--flags", "5")

    assert result.exit_code == 1
    assert "valueloop migrate" in result.stderr


def test_serve_on_an_unmigrated_database_exits_with_the_migrate_hint(env):
    result = run(env, "serve", "--port", "1")

    assert result.exit_code == 1
    assert "has no ValueLoop schema" in result.stderr
    assert "Run `valueloop migrate`" in result.stderr


def test_production_mode_without_a_secret_key_is_a_configuration_error(env):
    production = env | {"VALUELOOP_MODE": "production"}

    result = run(production, "migrate")

    assert result.exit_code == 2
    assert result.stderr.startswith("Configuration error: VALUELOOP_SECRET_KEY is required")
    assert "Traceback" not in result.output


def test_ehrs_add_registers_an_ehr_and_list_shows_it_without_secrets(env):
    migrated(env)

    added = run(
        env,
        "ehrs",
        "add",
        "https://ehr.example.org/fhir",
        "--client-id",
        "valueloop",
        "--client-secret",
        "cli-secret-value",
        "--frame-origin",
        "https://ehr.example.org",
    )
    listed = run(env, "ehrs", "list")

    assert added.exit_code == 0, added.output
    assert "client_secret_basic" in added.output
    assert "https://ehr.example.org/fhir" in listed.output
    assert "cli-secret-value" not in listed.output


def test_ehrs_add_refuses_a_plain_http_ehr_and_both_kinds_of_credential(env):
    migrated(env)

    insecure = run(env, "ehrs", "add", "http://ehr.example.org/fhir", "--client-id", "v")
    both = run(
        env,
        "ehrs",
        "add",
        "https://ehr.example.org/fhir",
        "--client-id",
        "v",
        "--client-secret",
        "s",
        "--private-key-jwt",
    )

    assert insecure.exit_code == 1
    assert "https" in insecure.output
    assert both.exit_code == 1
    assert "not both" in both.output


def test_staff_add_list_deactivate_and_a_persons_token(env):
    migrated(env)

    added = run(
        env, "staff", "add", "Ana.Lee@Example.org", "--name", "Dr. A. Lee", "--role", "lead"
    )
    again = run(env, "staff", "add", "ana.lee@example.org", "--name", "Ana", "--role", "admin")
    bad_role = run(env, "staff", "add", "b@example.org", "--name", "B", "--role", "owner")
    token = run(env, "tokens", "create", "--staff", "ana.lee@example.org")
    both = run(env, "tokens", "create", "--staff", "ana.lee@example.org", "--role", "admin")
    gone = run(env, "staff", "deactivate", "ANA.LEE@example.org")
    listed = run(env, "staff", "list")
    after = run(env, "tokens", "create", "--staff", "ana.lee@example.org")
    unknown = run(env, "staff", "deactivate", "nobody@example.org")

    assert added.exit_code == 0, added.output
    assert "ana.lee@example.org" in added.output
    assert again.exit_code == 1
    assert "already belongs" in again.output
    assert bad_role.exit_code == 2
    assert token.exit_code == 0, token.output
    assert "Created a lead token for 'Dr. A. Lee'" in token.output
    assert both.exit_code == 1
    assert gone.exit_code == 0, gone.output
    assert "deactivated" in listed.output
    assert "Dr. A. Lee" in listed.output
    assert after.exit_code == 1
    assert "deactivated" in after.output
    assert unknown.exit_code == 1
    assert "nobody@example.org" in unknown.output
