"""The demo's registry (scripts/_demo_setup.sh, run by scripts/demo): a hospital and an
affiliated practice, each with its EHR and people, and a launch from the practice's EHR
making a practice flag."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from app.config import Mode, Settings
from app.db import create_sync_engine_for
from app.ehrs import service as ehrs
from app.ehrs.secrets import secret_box
from app.flags.models import Flag
from app.main import create_app
from app.organizations import service as organizations
from ehr_sim.clients import ClientRegistration, ClientRegistry
from ehr_sim.config import SimSettings
from ehr_sim.data import generate
from ehr_sim.server import SimServer
from tests.sim_ehr import full_launch

REPO = Path(__file__).resolve().parents[2]
SETUP = REPO / "scripts" / "_demo_setup.sh"


def run_setup(tmp: Path) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("VALUELOOP_")}
    env.update(
        VALUELOOP_COMMAND=f"{sys.executable} -m app.cli",
        VALUELOOP_MODE="demo",
        VALUELOOP_DATABASE_URL=f"sqlite:///{tmp / 'demo.db'}",
        VALUELOOP_DATA_DIR=str(tmp),
        VALUELOOP_LOG_LEVEL="WARNING",
        DEMO_VAR=str(tmp / "var"),
        DEMO_FLAGS="30",
    )
    bash = shutil.which("bash") or "/bin/bash"
    return subprocess.run(  # noqa: S603  (our own script, fixed arguments)
        [bash, str(SETUP)], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, sa.Engine]]:
    """The demo set up twice on a database of its own (the second run changes nothing)."""
    tmp = tmp_path_factory.mktemp("demo")
    for _ in range(2):
        result = run_setup(tmp)
        assert result.returncode == 0, result.stdout + result.stderr
    engine = create_sync_engine_for(f"sqlite:///{tmp / 'demo.db'}")
    yield tmp, engine
    engine.dispose()


def rows(engine: sa.Engine, query: str) -> set[tuple[object, ...]]:
    with engine.connect() as connection:
        return {tuple(row) for row in connection.execute(sa.text(query)).all()}


def test_the_demo_has_the_hospital_and_the_practice_each_with_its_ehr(demo):
    _, engine = demo

    assert rows(engine, "SELECT code, name FROM organization") == {
        ("main", "Mercy General Hospital"),
        ("riverside", "Riverside Family Practice"),
    }
    by_org = "JOIN organization o ON o.id = t.organization_id"
    expected = {("http://127.0.0.1:8100/fhir", "main"), ("http://127.0.0.1:8101/fhir", "riverside")}
    assert rows(engine, f"SELECT t.issuer, o.code FROM registered_ehr t {by_org}") == expected
    assert rows(engine, f"SELECT t.iss, o.code FROM cds_client t {by_org}") == expected


def test_the_demo_flags_are_dealt_two_to_the_hospital_for_one_to_the_practice(demo):
    _, engine = demo

    counts = rows(
        engine,
        "SELECT o.code, count(*) FROM flag f JOIN organization o ON o.id = f.organization_id "
        "GROUP BY o.code",
    )

    assert counts == {("main", 20), ("riverside", 10)}


def test_the_demo_people_belong_where_the_banner_says(demo):
    _, engine = demo

    people = rows(
        engine,
        "SELECT s.email, s.role, o.code FROM staff s "
        "LEFT JOIN organization o ON o.id = s.organization_id",
    )

    assert {
        ("d.byrne@example.org", "admin", None),
        ("h.quinn@example.org", "analyst", "main"),
        ("n.abara@example.org", "lead", "riverside"),
    } <= people


async def test_each_demo_token_sees_its_organizations_flags(demo):
    tmp, _ = demo
    tokens = {
        who: (tmp / "var" / f"demo-{who}-token").read_text().strip()
        for who in ("admin", "hospital-analyst", "practice-lead")
    }
    settings = Settings(
        mode=Mode.DEMO,
        database_url=f"sqlite:///{tmp / 'demo.db'}",
        data_dir=tmp,
        log_level="WARNING",
    )
    app = create_app(settings)
    seen: dict[tuple[str, str | None], set[str]] = {}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://demo.test") as client:
            for who, organization in [
                ("admin", None),
                ("admin", "main"),
                ("admin", "riverside"),
                ("hospital-analyst", None),
                ("practice-lead", None),
            ]:
                page = await client.get(
                    "/api/v1/flags",
                    params={
                        "limit": 100,
                        **({"organization": organization} if organization else {}),
                    },
                    headers={"Authorization": f"Bearer {tokens[who]}"},
                )
                assert page.status_code == 200, page.text
                seen[who, organization] = {item["id"] for item in page.json()["items"]}

    assert len(seen["admin", None]) == 30
    assert seen["hospital-analyst", None] == seen["admin", "main"]
    assert seen["practice-lead", None] == seen["admin", "riverside"]
    assert len(seen["practice-lead", None]) == 10
    assert seen["admin", "main"] | seen["admin", "riverside"] == seen["admin", None]


def test_the_single_sign_on_people_are_the_hospital_ehrs_first_practitioners():
    setup = SETUP.read_text()
    practitioners = {
        resource["id"]: resource["telecom"][0]["value"]
        for resource in generate(seed=1, patients=120, now=datetime.now(UTC))
        if resource["resourceType"] == "Practitioner"
    }

    for number, role in enumerate(SimSettings().staff_roles, start=1):
        assert role == f"prac-{number:05d}"
        assert f"add_person {practitioners[role]} " in setup


@pytest.fixture
def practice_sim(settings) -> Iterator[SimServer]:
    clients = ClientRegistry(
        [
            ClientRegistration(
                client_id="vl-public",
                name="ValueLoop",
                redirect_uris=[f"{settings.base_url}/launch/callback"],
            )
        ]
    )
    with SimServer(SimSettings(patients=4, seed=2, site_name="Riverside"), clients) as server:
        yield server


async def test_a_launch_from_the_practices_ehr_makes_a_practice_flag(
    client, session, settings, practice_sim
):
    practice = await organizations.add(session, "riverside", name="Riverside Family Practice")
    await ehrs.register(
        session,
        issuer=practice_sim.fhir_base,
        client_id="vl-public",
        client_auth=ehrs.ClientAuthKind.NONE,
        box=secret_box(settings),
        frame_origins=[practice_sim.base_url],
        organization_id=practice.id,
    )
    await session.commit()
    async with httpx.AsyncClient(follow_redirects=False, timeout=10) as ehr_http:
        handle = await full_launch(client, ehr_http, practice_sim)
    header = {"X-ValueLoop-Session": handle}
    order = (await client.get("/api/v1/clinician/context", headers=header)).json()["orders"][0]

    created = await client.post(
        "/api/v1/clinician/flags",
        headers=header,
        json={
            "resource_type": order["resource_type"],
            "order_id": order["fhir_id"],
            "reason": "not_indicated",
            "driver": "patient_request",
            "reporter_role": "physician",
            "idempotency_key": uuid.uuid4().hex,
        },
    )

    assert created.status_code == 201, created.text
    flag = await session.get(Flag, uuid.UUID(created.json()["flag_id"]))
    assert flag is not None
    assert (flag.organization_id, flag.issuer) == (practice.id, practice_sim.fhir_base)
