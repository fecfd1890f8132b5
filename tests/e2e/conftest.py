"""Browser tests: a real app server and the simulated EHR on free loopback ports, driven by
Debian's Chromium through Playwright.

The EHR chart is opened at ``http://localhost:<sim port>`` while the app runs at
``http://127.0.0.1:<app port>``, so the app in the EHR's side panel is a different *site*
(third-party frame), as in production. Without Chromium or Playwright the tests skip with the
reason, except under ``CI=true``, where they fail.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from aiosmtpd.smtp import SMTP, Envelope, Session

from app.auth import service as token_service
from app.auth.models import Role
from app.config import EhrConfig, Mode, Settings
from app.db import create_engine_for
from app.main import create_app
from app.migrate import upgrade
from ehr_sim.clients import ClientRegistration, ClientRegistry
from ehr_sim.config import SimSettings
from ehr_sim.server import SimServer

CHROMIUM = Path(os.environ.get("VALUELOOP_TEST_CHROMIUM", "/usr/bin/chromium"))
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
AXE = ARTIFACTS / "node" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
# Chromium's switch that turns on the third-party-cookie phase-out (3PCs blocked; CHIPS
# partitioned cookies are still kept, as in Chrome with third-party cookies blocked).
BLOCK_THIRD_PARTY_COOKIES = "--test-third-party-cookie-phaseout"
# Every wait in these tests is on a condition; these are only how long to wait for it before
# calling it a failure. A busy machine makes each step slower, never different, so they are
# generous: a passing run never waits for them.
STEP_TIMEOUT_MS = 30_000  # any one Playwright step (a click, a selector, a navigation)
SERVER_START_SECONDS = 60


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _unavailable(reason: str) -> None:
    if in_ci():
        pytest.fail(f"{reason} (CI=true: the browser tests must run)")
    pytest.skip(f"{reason}; run ./scripts/test (it installs what these tests need)")


class AppServer:
    """ValueLoop (create_app) under uvicorn in a background thread."""

    def __init__(self, settings: Settings, sock: socket.socket) -> None:
        self.settings = settings
        self._socket = sock
        config = uvicorn.Config(
            create_app(settings), log_level="warning", access_log=False, lifespan="on"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True
        )

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + SERVER_START_SECONDS
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(
                    f"the app server did not start within {SERVER_START_SECONDS} seconds"
                )
            time.sleep(0.01)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()


@dataclass
class MailServer:
    """A real SMTP server on loopback (aiosmtpd) in its own thread and event loop, keeping every
    message it accepts: the stack's app sends its email here."""

    port: int = 0
    _received: list[bytes] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        with self._lock:
            self._received.append(envelope.original_content or b"")
        return "250 Message accepted"

    def start(self) -> None:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            server = loop.run_until_complete(
                loop.create_server(lambda: SMTP(self, hostname="mail.e2e.test"), "127.0.0.1", 0)
            )
            self.port = server.sockets[0].getsockname()[1]
            ready.set()
            loop.run_forever()
            server.close()
            loop.run_until_complete(server.wait_closed())
            loop.close()

        self._thread = threading.Thread(target=run, name="e2e-smtp", daemon=True)
        self._thread.start()
        if not ready.wait(SERVER_START_SECONDS):
            raise RuntimeError("the test SMTP server did not start")

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)

    def messages(self) -> list[EmailMessage]:
        with self._lock:
            raw = list(self._received)
        return [message_from_bytes(m, _class=EmailMessage, policy=policy.default) for m in raw]

    def raw(self) -> bytes:
        with self._lock:
            return b"\n".join(self._received)

    def to(self, address: str) -> list[EmailMessage]:
        """The messages addressed to ``address`` so far."""
        return [m for m in self.messages() if address in str(m["To"])]


def _loopback_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


async def _issue_token(database_url: str, role: Role) -> str:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    engine = create_engine_for(database_url)
    try:
        factory = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
        async with factory() as session:
            issued = token_service.issue(
                session, name=f"E2E {role.value}", role=role, created_by="e2e"
            )
            await session.commit()
        return issued.secret
    finally:
        await engine.dispose()


def _in_own_thread(coroutine: Coroutine[Any, Any, str]) -> str:
    """Run a coroutine to completion on a fresh event loop in another thread (pytest-asyncio
    may be running the session's loop in this one)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result(timeout=30)


@dataclass(frozen=True)
class Stack:
    """The running app and EHR, and how a test reaches them."""

    base_url: str  # the app, http://127.0.0.1:<port>
    sim: SimServer
    chart_url: str  # the EHR chart, http://localhost:<sim port>/ (another site than the app)
    analyst_token: str
    database_url: str
    tokens: dict[Role, str]
    mail: MailServer  # the SMTP server the app's outbox worker sends email to

    def api(self) -> httpx.Client:
        return httpx.Client(
            base_url=f"{self.base_url}/api/v1",
            headers={"Authorization": f"Bearer {self.analyst_token}"},
            timeout=10,
        )


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    work = tmp_path_factory.mktemp("e2e")
    database_url = f"sqlite:///{work / 'valueloop.db'}"
    upgrade(database_url)
    app_socket = _loopback_socket()
    base_url = f"http://127.0.0.1:{app_socket.getsockname()[1]}"
    clients = ClientRegistry(
        [
            ClientRegistration(
                client_id="valueloop",
                name="ValueLoop",
                redirect_uris=[f"{base_url}/launch/callback"],
                launch_url=f"{base_url}/launch",
            )
        ]
    )
    mail = MailServer()
    mail.start()
    try:
        with SimServer(SimSettings(patients=6), clients) as sim:
            sim_port = sim.base_url.rsplit(":", 1)[1]
            settings = Settings(
                mode=Mode.DEMO,
                database_url=database_url,
                base_url=base_url,
                data_dir=work / "data",
                log_level="WARNING",
                smtp_url=mail.url,
                mail_from="ValueLoop <valueloop@hospital.test>",
                outbox_poll_seconds=0.2,
                # A receiver that is down reaches the dead letters within seconds.
                outbox_max_attempts=3,
                outbox_retry_base_seconds=0.2,
                outbox_retry_max_seconds=1.0,
                ehrs=[
                    EhrConfig(
                        issuer=sim.fhir_base,
                        client_id="valueloop",
                        name="Simulated EHR",
                        frame_origins=[
                            f"http://127.0.0.1:{sim_port}",
                            f"http://localhost:{sim_port}",
                        ],
                    )
                ],
            )
            server = AppServer(settings, app_socket)
            server.start()
            try:
                tokens = {role: _in_own_thread(_issue_token(database_url, role)) for role in Role}
                yield Stack(
                    base_url=base_url,
                    sim=sim,
                    chart_url=f"http://localhost:{sim_port}/",
                    analyst_token=tokens[Role.ANALYST],
                    database_url=database_url,
                    tokens=tokens,
                    mail=mail,
                )
            finally:
                server.stop()
    finally:
        mail.stop()


@pytest.fixture(scope="module")
def playwright_driver() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the Python package playwright is not installed")
    if not CHROMIUM.exists():
        _unavailable(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as driver:
        yield driver


def _launch(driver: Any, *extra: str) -> Any:
    return driver.chromium.launch(
        executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, *extra], headless=True
    )


@pytest.fixture(scope="module")
def browser(playwright_driver: Any) -> Iterator[Any]:
    """Chromium with its default cookie settings (third-party cookies allowed)."""
    browser = _launch(playwright_driver)
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def strict_browser(playwright_driver: Any) -> Iterator[Any]:
    """Chromium that blocks third-party cookies."""
    browser = _launch(playwright_driver, BLOCK_THIRD_PARTY_COOKIES)
    yield browser
    browser.close()


def _new_context(browser: Any, width: int, height: int) -> Any:
    context = browser.new_context(viewport={"width": width, "height": height})
    context.set_default_timeout(STEP_TIMEOUT_MS)
    return context


def _close(context: Any) -> None:
    """Close a context once none of its route handlers is still running.

    The page goes on sending requests after a test's last step (My flags, a script, a read
    marker). A handler answering one of them (``_drop_cookies``, a test's ``page.route``) when
    the context closes fails with "Request context disposed", and Playwright raises that in
    whatever test calls it next. Unrouting with ``behavior="wait"`` lets the running handlers
    finish first; requests that arrive after it go to the network untouched.
    """
    for page in context.pages:
        page.unroute_all(behavior="wait")
    context.unroute_all(behavior="wait")
    context.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = _new_context(browser, 1100, 800)
    yield context.new_page()
    _close(context)


def _drop_cookies(context: Any) -> Callable[[Any], None]:
    """A route handler that answers with the app's response minus its Set-Cookie headers: a
    browser that keeps no cookie at all for the framed app, not even a partitioned (CHIPS) one.
    """

    def handle(route: Any) -> None:
        response = route.fetch(max_redirects=0)
        # route.fetch shares the context's cookie jar and stores what it is sent; forget it
        # before the browser sees the answer.
        context.clear_cookies(domain="127.0.0.1")
        headers = {k: v for k, v in response.headers.items() if k.lower() != "set-cookie"}
        route.fulfill(response=response, headers=headers)

    return handle


@pytest.fixture
def strict_page(strict_browser: Any, stack: Stack) -> Iterator[Any]:
    """A page in the browser that blocks third-party cookies, where the app's own (partitioned)
    cookies are dropped too, so the page must live on its session header alone."""
    context = _new_context(strict_browser, 1100, 800)
    context.route(f"{stack.base_url}/**", _drop_cookies(context))
    yield context.new_page()
    _close(context)


@pytest.fixture(scope="session")
def axe_script() -> Path:
    if not AXE.exists():
        _unavailable(f"axe-core is not installed at {AXE} (npm install axe-core@4)")
    return AXE


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


# --- the quality dashboard ---------------------------------------------------------------------

DASHBOARD_FLAGS = 160  # synthetic flags: several queue pages, every status, every chart filled


@pytest.fixture(scope="session")
def dashboard_data(stack: Stack) -> int:
    """Synthetic flags in the stack's registry, written once (the seed fixes them)."""
    from app.db import create_sync_engine_for
    from app.demo import synthetic

    engine = create_sync_engine_for(stack.database_url)
    try:
        return synthetic.seed(engine, DASHBOARD_FLAGS, seed=7)
    finally:
        engine.dispose()


def sign_in(page: Any, stack: Stack, role: Role) -> None:
    """Sign the page's browser in to the dashboard through the sign-in form, as staff do."""
    sign_in_with(page, stack.base_url, stack.tokens[role])


def sign_in_with(page: Any, base_url: str, token: str) -> None:
    """Sign in to the dashboard at ``base_url`` with ``token``, through the sign-in form."""
    page.goto(f"{base_url}/dashboard/sign-in")
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(f"{base_url}/dashboard/queue**")


@pytest.fixture
def dashboard_page(browser: Any) -> Iterator[Any]:
    """A full-screen page that fails the test on any script error or CSP violation (an HTTP
    error answer the test provoked is not one)."""
    context = _new_context(browser, 1280, 900)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.on(
        "console",
        lambda message: (
            problems.append(f"console {message.type}: {message.text}")
            if message.type == "error" and "Failed to load resource" not in message.text
            else None
        ),
    )
    page.problems = problems
    yield page
    _close(context)
    assert not problems, problems


def staff_api(stack: Stack, role: Role) -> httpx.Client:
    """The REST API as a script with ``role``'s bearer token: what the pages are checked against."""
    return httpx.Client(
        base_url=f"{stack.base_url}/api/v1",
        headers={"Authorization": f"Bearer {stack.tokens[role]}"},
        timeout=10,
    )


@pytest.fixture
def analyst_page(dashboard_page: Any, stack: Stack, dashboard_data: int) -> Any:
    """The dashboard page, signed in as an analyst, on the triage queue."""
    sign_in(dashboard_page, stack, Role.ANALYST)
    return dashboard_page


@pytest.fixture
def admin_page(dashboard_page: Any, stack: Stack, dashboard_data: int) -> Any:
    """The dashboard page, signed in as an admin, on the triage queue."""
    sign_in(dashboard_page, stack, Role.ADMIN)
    return dashboard_page
