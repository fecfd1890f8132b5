"""Two organizations in a real browser: a practice lead signed in to the dashboard sees only
the practice's flags in the queue; a system admin sees both organizations' flags."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from app.auth import service as token_service
from app.auth.models import Role
from app.config import Mode, Settings
from app.db import create_engine_for, create_sync_engine_for, session_factory
from app.demo import synthetic
from app.migrate import upgrade
from app.organizations import service as organizations
from app.organizations.models import DEFAULT_ORGANIZATION_ID
from app.staff import service as staff
from app.staff.schemas import StaffCreate
from tests.e2e.conftest import AppServer, _in_own_thread, _loopback_socket, sign_in_with
from tests.e2e.test_dashboard import row_ids

pytestmark = pytest.mark.browser

FLAGS = 12  # dealt in turn: six the hospital's, six the practice's


@dataclass(frozen=True)
class Registry:
    base_url: str
    tokens: dict[str, str]  # "practice lead", "system admin"

    def flag_ids(self, who: str, **params: str) -> list[str]:
        with httpx.Client(
            base_url=f"{self.base_url}/api/v1",
            headers={"Authorization": f"Bearer {self.tokens[who]}"},
            timeout=10,
        ) as api:
            response = api.get("/flags", params={"limit": 50, **params})
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]


async def _practice_and_people(database_url: str) -> tuple[uuid.UUID, dict[str, str]]:
    """The practice (flags are dealt to it and the hospital after), its lead and a system
    admin, with a token each."""
    engine = create_engine_for(database_url)
    try:
        async with session_factory(engine)() as session:
            practice = await organizations.add(
                session, "riverside", name="Riverside Family Practice"
            )
            await session.flush()
            lead = await staff.add(
                session,
                StaffCreate(
                    email="n.abara@example.org",
                    name="Dr. N. Abara",
                    role=Role.LEAD,
                    organization="riverside",
                ),
            )
            admin = await staff.add(
                session,
                StaffCreate(email="d.admin@example.org", name="D. Admin", role=Role.ADMIN),
            )
            tokens = {
                who: token_service.issue(
                    session,
                    name=person.name,
                    role=Role(person.role),
                    created_by="e2e",
                    staff=person,
                ).secret
                for who, person in (("practice lead", lead), ("system admin", admin))
            }
            await session.commit()
            return practice.id, tokens
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """An app of its own on a registry the hospital and the practice share (the session's
    stack has one organization, and other tests count its flags)."""
    work = tmp_path_factory.mktemp("e2e-organizations")
    database_url = f"sqlite:///{work / 'valueloop.db'}"
    upgrade(database_url)
    tokens_by_who: dict[str, str] = {}
    practice: list[uuid.UUID] = []

    async def prepare() -> str:
        organization, tokens = await _practice_and_people(database_url)
        practice.append(organization)
        tokens_by_who.update(tokens)
        return ""

    _in_own_thread(prepare())
    engine = create_sync_engine_for(database_url)
    try:
        synthetic.seed(engine, FLAGS, seed=3, organizations=[DEFAULT_ORGANIZATION_ID, *practice])
    finally:
        engine.dispose()
    sock = _loopback_socket()
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = Settings(
        mode=Mode.DEMO,
        database_url=database_url,
        base_url=base_url,
        data_dir=work / "data",
        log_level="WARNING",
    )
    server = AppServer(settings, sock)
    server.start()
    try:
        yield Registry(base_url=base_url, tokens=tokens_by_who)
    finally:
        server.stop()


def sign_in_as(page: Any, registry: Registry, who: str) -> None:
    sign_in_with(page, registry.base_url, registry.tokens[who])


def queue_shows(page: Any, expected: list[str]) -> set[str]:
    """The flags in the queue once it shows these (in its own order); if it never does, the
    caller's assertion shows how the rows on screen differ."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    with contextlib.suppress(PlaywrightTimeout):
        page.wait_for_function(
            """ids => document.getElementById('queue').dataset.state === 'ready'
                && [...document.querySelectorAll('#queue-rows tr[data-id]')]
                    .map(r => r.dataset.id).sort().join() === ids.slice().sort().join()""",
            arg=expected,
        )
    return set(row_ids(page))


def test_a_practice_lead_sees_only_practice_flags_and_a_system_admin_sees_both(
    dashboard_page: Any, registry: Registry
) -> None:
    page = dashboard_page
    practice = registry.flag_ids("system admin", organization="riverside")
    hospital = registry.flag_ids("system admin", organization="main")
    everyone = registry.flag_ids("system admin")
    assert (len(practice), len(hospital), len(everyone)) == (FLAGS // 2, FLAGS // 2, FLAGS)

    sign_in_as(page, registry, "practice lead")
    assert queue_shows(page, practice) == set(practice)

    page.context.clear_cookies()
    sign_in_as(page, registry, "system admin")
    assert queue_shows(page, everyone) == set(everyone)
    assert set(everyone) == set(practice) | set(hospital)


def test_a_system_admin_narrows_the_queue_by_organization_and_a_practice_lead_cannot(
    dashboard_page: Any, registry: Registry
) -> None:
    page = dashboard_page
    practice = registry.flag_ids("system admin", organization="riverside")

    sign_in_as(page, registry, "practice lead")
    page.wait_for_function("() => document.getElementById('queue').dataset.state === 'ready'")
    assert page.locator("#f-organization").count() == 0

    page.context.clear_cookies()
    sign_in_as(page, registry, "system admin")
    picker = page.get_by_label("Organization")
    page.wait_for_function(
        """() => [...document.querySelectorAll('#f-organization option')]
            .some(o => o.value === 'riverside')"""
    )
    picker.select_option("riverside")

    assert queue_shows(page, practice) == set(practice)
    assert "organization=riverside" in page.url
    # The view is in the URL: a reload keeps the choice.
    page.reload()
    assert queue_shows(page, practice) == set(practice)
    assert page.get_by_label("Organization").input_value() == "riverside"
