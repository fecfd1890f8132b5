"""``valueloop orgs`` and the ``--org`` options, run as an operator would."""

from __future__ import annotations

import sqlalchemy as sa

from app.db import create_sync_engine_for
from tests.test_cli import migrated, run


def _rows(database_file, query: str) -> list[tuple[object, ...]]:
    engine = create_sync_engine_for(f"sqlite:///{database_file}")
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(sa.text(query))]
    finally:
        engine.dispose()


def test_orgs_add_list_and_rename(env):
    migrated(env)

    added = run(env, "orgs", "add", "riverside", "--name", "Riverside Family Practice")
    renamed = run(env, "orgs", "rename", "riverside", "--name", "Riverside Practice")
    listed = run(env, "orgs", "list")

    assert added.exit_code == 0, added.output
    assert renamed.exit_code == 0, renamed.output
    assert "main" in listed.output  # the migration's default organization
    assert "riverside            Riverside Practice" in listed.output


def test_orgs_add_refuses_a_taken_or_malformed_code(env):
    migrated(env)
    run(env, "orgs", "add", "riverside", "--name", "Riverside")

    taken = run(env, "orgs", "add", "Riverside", "--name", "Again")
    malformed = run(env, "orgs", "add", "river side!", "--name", "Bad")

    assert taken.exit_code == 1
    assert "already an organization" in taken.output
    assert malformed.exit_code == 1
    assert "not an organization code" in malformed.output


def test_ehrs_staff_tokens_and_seed_take_an_organization(env, database_file):
    migrated(env)
    run(env, "orgs", "add", "riverside", "--name", "Riverside")

    ehr = run(
        env, "ehrs", "add", "http://127.0.0.1:8100/fhir", "--client-id", "vl", "--org", "riverside"
    )
    staff = run(
        env,
        "staff",
        "add",
        "p@example.org",
        "--name",
        "Pat",
        "--role",
        "lead",
        "--org",
        "riverside",
    )
    person_token = run(env, "tokens", "create", "--staff", "p@example.org")
    service_token = run(
        env, "tokens", "create", "--role", "analyst", "--name", "Bridge", "--org", "riverside"
    )
    system_token = run(env, "tokens", "create", "--role", "analyst", "--name", "System")
    seeded = run(env, "seed", "--flags", "30", "--org", "riverside")
    unknown = run(env, "seed", "--flags", "3", "--org", "nowhere")

    for result in (ehr, staff, person_token, service_token, system_token, seeded):
        assert result.exit_code == 0, result.output
    assert unknown.exit_code == 1
    assert "nowhere" in unknown.output
    riverside = _rows(database_file, "SELECT id FROM organization WHERE code = 'riverside'")[0][0]
    assert _rows(database_file, "SELECT organization_id FROM registered_ehr") == [(riverside,)]
    assert _rows(
        database_file, "SELECT organization_id FROM staff WHERE email = 'p@example.org'"
    ) == [(riverside,)]
    assert sorted(_rows(database_file, "SELECT name, organization_id FROM api_token")) == [
        ("Bridge", riverside),
        ("Pat", riverside),
        ("System", None),
    ]
    assert _rows(database_file, "SELECT DISTINCT organization_id FROM flag") == [(riverside,)]


def test_a_persons_token_refuses_an_organization_of_its_own(env):
    migrated(env)
    run(env, "staff", "add", "p@example.org", "--name", "Pat", "--role", "lead")

    result = run(env, "tokens", "create", "--staff", "p@example.org", "--org", "main")

    assert result.exit_code == 1
    assert "follows their organization" in result.output
