"""``valueloop cds-clients``, run as an operator would, on a database of its own."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from app.cli import cli
from app.config import get_settings
from tests.cds.jwt_factory import ISS, JWKS_URL, Signer


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def run(env: dict[str, str | None], *args: str) -> Result:
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    finally:
        get_settings.cache_clear()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str | None]:
    environment: dict[str, str | None] = {
        "VALUELOOP_MODE": "production",
        "VALUELOOP_SECRET_KEY": "x" * 40,
        "VALUELOOP_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "VALUELOOP_DATA_DIR": str(tmp_path),
        "VALUELOOP_LOG_LEVEL": "WARNING",
    }
    assert run(environment, "migrate").exit_code == 0
    return environment


def write(tmp_path: Path, name: str, document: object) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return str(path)


def test_add_list_deactivate_activate_and_remove_a_cds_client(env, tmp_path):
    keys = write(tmp_path, "jwks.json", Signer.rs384().jwks())

    by_url = run(env, "cds-clients", "add", ISS + "/", "--jwks-url", JWKS_URL, "--name", "EHR")
    by_file = run(env, "cds-clients", "add", "https://b.example.org", "--jwks-file", keys)
    again = run(env, "cds-clients", "add", ISS, "--jwks-url", JWKS_URL)
    deactivated = run(env, "cds-clients", "deactivate", ISS)
    listed = run(env, "cds-clients", "list")

    assert (by_url.exit_code, by_file.exit_code, again.exit_code) == (0, 0, 0)
    assert f"Registered CDS client {ISS} " in by_url.output
    assert "Updated" in again.output
    assert deactivated.exit_code == 0
    assert f"{ISS}  deactivated  {JWKS_URL}" in listed.output
    assert "https://b.example.org  active       stored JWK Set" in listed.output

    assert run(env, "cds-clients", "activate", ISS).exit_code == 0
    removed = run(env, "cds-clients", "remove", ISS)
    after = run(env, "cds-clients", "list")

    assert removed.exit_code == 0
    assert ISS not in after.output
    assert "https://b.example.org" in after.output


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--jwks-url", "http://ehr.example.org/jwks.json"], "must use https"),
        (["--jwks-url", "ehr.example.org/jwks.json"], "not an absolute http(s) URL"),
        ([], "Give either --jwks-url URL or --jwks-file PATH"),
        (["--jwks-url", JWKS_URL, "--jwks-file", "x.json"], "Give either"),
        (["--jwks-file", "/nonexistent/jwks.json"], "Cannot read"),
    ],
)
def test_add_refuses_bad_input_with_one_line_and_status_2(env, arguments, message):
    result = run(env, "cds-clients", "add", ISS, *arguments)

    assert result.exit_code == 2
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_a_loopback_jwks_url_may_use_plain_http(env):
    result = run(env, "cds-clients", "add", ISS, "--jwks-url", "http://127.0.0.1:9000/jwks")

    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("private", "is a private key"),
        ({"keys": []}, "no usable public key"),
        ({"keys": [{"kty": "oct", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQ", "kid": "h"}]}, "symmetric"),
        ({"not": "a jwks"}, "not a JWK Set"),
        ([1, 2], "not a JWK Set"),
    ],
)
def test_add_refuses_a_jwks_file_without_public_keys(env, tmp_path, document, message):
    if document == "private":
        signer = Signer.es384()
        document = {"keys": [{**signer.key.as_dict(private=True), "kid": signer.kid}]}
    path = write(tmp_path, "bad.json", document)

    result = run(env, "cds-clients", "add", ISS, "--jwks-file", path)

    assert result.exit_code == 2
    assert message in result.output
    assert run(env, "cds-clients", "list").output.startswith("No CDS clients registered")


def test_removing_an_unknown_client_says_so(env):
    result = run(env, "cds-clients", "remove", "https://nobody.example.org")

    assert result.exit_code == 2
    assert "No CDS client with iss" in result.output


def test_add_puts_a_cds_client_in_the_organization_org_names(env):
    assert (
        run(env, "orgs", "add", "riverside", "--name", "Riverside Family Practice").exit_code == 0
    )

    practice = run(env, "cds-clients", "add", ISS, "--jwks-url", JWKS_URL, "--org", "riverside")
    default = run(env, "cds-clients", "add", "https://b.example.org", "--jwks-url", JWKS_URL)
    listed = run(env, "cds-clients", "list").output.splitlines()

    assert (practice.exit_code, default.exit_code) == (0, 0)
    by_iss = {line.split()[0]: line for line in listed}
    assert by_iss[ISS].endswith("(organization riverside)")
    assert by_iss["https://b.example.org"].endswith("(organization main)")


def test_add_refuses_an_unknown_organization_and_registers_nothing(env):
    result = run(env, "cds-clients", "add", ISS, "--jwks-url", JWKS_URL, "--org", "nowhere")

    assert result.exit_code == 2
    assert "No organization has the code 'nowhere'" in result.output
    assert run(env, "cds-clients", "list").output.startswith("No CDS clients registered")
